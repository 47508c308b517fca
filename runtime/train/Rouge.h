//===- Rouge.h - ROUGE scores and the extractive oracle ---------*- C++ -*-===//
//
// ROUGE (Lin 2004) as summarisation papers report it: texts become
// lower-cased alphanumeric tokens (runs of ASCII letters and digits; every
// other byte separates), ROUGE-N is the F1 of clipped n-gram overlap
// (each n-gram counted at most as often as the other side has it),
// ROUGE-L the F1 of the longest common subsequence. No stemming, no
// stop-word removal. The extractive oracle is BertSum's greedy selection:
// add the sentence that most raises the mean of ROUGE-1 and ROUGE-2 F1
// against the reference, until none raises it or `limit` are chosen
// (BertSum scores sets of n-grams; here the clipped counts above, so that
// the oracle maximises the score that is reported).
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_ROUGE_H
#define BERTC_RUNTIME_TRAIN_ROUGE_H

#include <string>
#include <string_view>
#include <vector>

namespace bertc::rt {

/// `text`'s lower-cased alphanumeric tokens.
std::vector<std::string> rougeTokens(std::string_view text);

struct RougeScores {
  double rouge1 = 0, rouge2 = 0, rougeL = 0; ///< F1 of each.
};

/// ROUGE-N F1 of token lists (0 when either side has no n-gram).
double rougeN(const std::vector<std::string> &candidate, const std::vector<std::string> &reference,
              int n);
/// ROUGE-L F1 (0 when either side is empty).
double rougeL(const std::vector<std::string> &candidate, const std::vector<std::string> &reference);
/// ROUGE-1, -2 and -L F1 of a candidate text against a reference text.
RougeScores rouge(std::string_view candidate, std::string_view reference);

/// The oracle's sentences (indices into `sentences`, ascending): BertSum's
/// greedy selection against `reference`, at most `limit` of them.
std::vector<int> oracleSentences(const std::vector<std::string> &sentences,
                                 std::string_view reference, int limit);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_ROUGE_H
