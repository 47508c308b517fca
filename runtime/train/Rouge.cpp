//===- Rouge.cpp - ROUGE scores and the extractive oracle -----------------===//
#include "runtime/train/Rouge.h"

#include <algorithm>
#include <map>

namespace bertc::rt {

namespace {

using Counts = std::map<std::vector<std::string>, int>;

Counts ngrams(const std::vector<std::string> &tokens, int n) {
  Counts counts;
  for (size_t i = 0; i + n <= tokens.size(); ++i)
    ++counts[std::vector<std::string>(tokens.begin() + i, tokens.begin() + i + n)];
  return counts;
}

double f1(double overlap, double candidateTotal, double referenceTotal) {
  if (overlap == 0 || candidateTotal == 0 || referenceTotal == 0)
    return 0;
  double precision = overlap / candidateTotal, recall = overlap / referenceTotal;
  return 2 * precision * recall / (precision + recall);
}

} // namespace

std::vector<std::string> rougeTokens(std::string_view text) {
  std::vector<std::string> tokens;
  std::string current;
  for (char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      current.push_back(c);
    } else if (c >= 'A' && c <= 'Z') {
      current.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (!current.empty()) {
      tokens.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty())
    tokens.push_back(std::move(current));
  return tokens;
}

double rougeN(const std::vector<std::string> &candidate, const std::vector<std::string> &reference,
              int n) {
  Counts c = ngrams(candidate, n), r = ngrams(reference, n);
  double overlap = 0, cTotal = 0, rTotal = 0;
  for (const auto &[gram, count] : c) {
    cTotal += count;
    if (auto it = r.find(gram); it != r.end())
      overlap += std::min(count, it->second);
  }
  for (const auto &[gram, count] : r)
    rTotal += count;
  return f1(overlap, cTotal, rTotal);
}

double rougeL(const std::vector<std::string> &candidate, const std::vector<std::string> &reference) {
  if (candidate.empty() || reference.empty())
    return 0;
  // lcs[j]: the LCS of the candidate's first i tokens and the reference's first j.
  std::vector<int> lcs(reference.size() + 1, 0), previous(reference.size() + 1, 0);
  for (size_t i = 1; i <= candidate.size(); ++i) {
    std::swap(lcs, previous);
    for (size_t j = 1; j <= reference.size(); ++j)
      lcs[j] = candidate[i - 1] == reference[j - 1] ? previous[j - 1] + 1
                                                    : std::max(previous[j], lcs[j - 1]);
  }
  return f1(lcs[reference.size()], static_cast<double>(candidate.size()),
            static_cast<double>(reference.size()));
}

RougeScores rouge(std::string_view candidate, std::string_view reference) {
  std::vector<std::string> c = rougeTokens(candidate), r = rougeTokens(reference);
  return {rougeN(c, r, 1), rougeN(c, r, 2), rougeL(c, r)};
}

std::vector<int> oracleSentences(const std::vector<std::string> &sentences,
                                 std::string_view reference, int limit) {
  std::vector<std::string> ref = rougeTokens(reference);
  std::vector<std::vector<std::string>> tokens;
  for (const std::string &s : sentences)
    tokens.push_back(rougeTokens(s));
  std::vector<int> chosen;
  double best = 0;
  while (static_cast<int>(chosen.size()) < limit) {
    int pick = -1;
    double pickScore = best;
    for (int i = 0; i < static_cast<int>(sentences.size()); ++i) {
      if (std::find(chosen.begin(), chosen.end(), i) != chosen.end())
        continue;
      // The summary so far plus sentence i, in document order.
      std::vector<int> trial = chosen;
      trial.insert(std::upper_bound(trial.begin(), trial.end(), i), i);
      std::vector<std::string> summary;
      for (int k : trial)
        summary.insert(summary.end(), tokens[k].begin(), tokens[k].end());
      double score = (rougeN(summary, ref, 1) + rougeN(summary, ref, 2)) / 2;
      if (score > pickScore) {
        pick = i;
        pickScore = score;
      }
    }
    if (pick < 0)
      break;
    chosen.insert(std::upper_bound(chosen.begin(), chosen.end(), pick), pick);
    best = pickScore;
  }
  return chosen;
}

} // namespace bertc::rt
