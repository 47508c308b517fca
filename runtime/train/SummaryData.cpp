//===- SummaryData.cpp - Documents for extractive summarisation -----------===//
#include "runtime/train/SummaryData.h"

#include "runtime/Json.h"
#include "runtime/train/Corpus.h"

#include <algorithm>
#include <fstream>

namespace bertc::rt {

bool readSummaryDocuments(const std::string &path, bool needSummary,
                          std::vector<SummaryDocument> &out, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open";
    return false;
  }
  out.clear();
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    SummaryDocument doc;
    doc.where = path + ":" + std::to_string(number);
    if (line[line.find_first_not_of(" \t")] != '{') { // Plain text: a document per line.
      if (needSummary) {
        error = doc.where + ": a line of plain text has no \"summary\" (the reference this "
                            "command needs): give JSONL";
        return false;
      }
      for (const std::string &s : splitSentences(line))
        if (s.find_first_not_of(" \t\r\n") != std::string::npos)
          doc.sentences.push_back(s);
      out.push_back(std::move(doc));
      continue;
    }
    Json json;
    std::string parseError;
    if (!Json::parse(line, json, parseError) || !json.isObject()) {
      error = doc.where + ": not a JSON object" + (parseError.empty() ? "" : ": " + parseError);
      return false;
    }
    const Json *text = json.find("text"), *sentences = json.find("sentences");
    if (sentences) {
      if (!sentences->isArray()) {
        error = doc.where + ": \"sentences\" must be a list of strings";
        return false;
      }
      for (const Json &s : sentences->items()) {
        if (!s.isString()) {
          error = doc.where + ": \"sentences\" must be a list of strings";
          return false;
        }
        if (s.string().find_first_not_of(" \t\r\n") != std::string::npos)
          doc.sentences.push_back(s.string());
      }
    } else if (text && text->isString()) {
      for (const std::string &s : splitSentences(text->string()))
        if (s.find_first_not_of(" \t\r\n") != std::string::npos)
          doc.sentences.push_back(s);
    } else {
      error = doc.where + ": needs \"text\" (a string) or \"sentences\" (a list of strings)";
      return false;
    }
    if (doc.sentences.empty()) {
      error = doc.where + ": the document has no sentences";
      return false;
    }
    if (const Json *summary = json.find("summary")) {
      if (!summary->isString()) {
        error = doc.where + ": \"summary\" must be a string";
        return false;
      }
      doc.summary = summary->string();
    } else if (needSummary) {
      error = doc.where + ": no \"summary\" (the reference this command needs)";
      return false;
    }
    out.push_back(std::move(doc));
  }
  if (out.empty()) {
    error = path + ": no documents";
    return false;
  }
  return true;
}

bool encodeDocument(const SummaryDocument &doc, const Tokenizer &tokenizer, const Vocab &vocab,
                    int64_t seq, int64_t maxSentences, int oracleLimit, SummaryRow &row,
                    std::string &error) {
  row = SummaryRow();
  for (size_t i = 0; i < doc.sentences.size(); ++i) {
    std::vector<int32_t> pieces;
    if (!tokenizer.encode(doc.sentences[i], pieces, error)) {
      error = doc.where + ": sentence " + std::to_string(i + 1) + ": " + error;
      return false;
    }
    int64_t room = seq - static_cast<int64_t>(row.ids.size()) - 2;
    if (row.kept == maxSentences || room < (i == 0 ? 0 : static_cast<int64_t>(pieces.size())))
      break;
    pieces.resize(std::min<size_t>(pieces.size(), static_cast<size_t>(room)));
    int32_t type = static_cast<int32_t>(row.kept % 2);
    row.clsPositions.push_back(static_cast<int32_t>(row.ids.size()));
    row.ids.push_back(vocab.cls);
    row.ids.insert(row.ids.end(), pieces.begin(), pieces.end());
    row.ids.push_back(vocab.sep);
    row.types.resize(row.ids.size(), type);
    ++row.kept;
  }
  row.labels.assign(row.kept, 0);
  if (oracleLimit > 0) {
    std::vector<std::string> kept(doc.sentences.begin(), doc.sentences.begin() + row.kept);
    for (int i : oracleSentences(kept, doc.summary, oracleLimit))
      row.labels[i] = 1;
  }
  return true;
}

std::string selectionText(const SummaryDocument &doc, const std::vector<int> &chosen) {
  std::vector<int> order = chosen;
  std::sort(order.begin(), order.end());
  std::string text;
  for (int i : order)
    text += (text.empty() ? "" : " ") + doc.sentences[i];
  return text;
}

RougeMeans scoreSelections(const std::vector<SummaryDocument> &docs,
                           const std::vector<std::vector<int>> &chosen,
                           std::vector<RougeScores> *each) {
  RougeMeans m;
  if (each)
    each->clear();
  for (size_t d = 0; d < docs.size() && d < chosen.size(); ++d) {
    RougeScores s = rouge(selectionText(docs[d], chosen[d]), docs[d].summary);
    if (each)
      each->push_back(s);
    m.rouge1 += s.rouge1;
    m.rouge2 += s.rouge2;
    m.rougeL += s.rougeL;
    ++m.documents;
  }
  if (m.documents > 0) {
    m.rouge1 /= m.documents;
    m.rouge2 /= m.documents;
    m.rougeL /= m.documents;
  }
  return m;
}

std::vector<std::vector<int>> leadSelections(const std::vector<SummaryDocument> &docs, int k) {
  std::vector<std::vector<int>> out;
  for (const SummaryDocument &d : docs) {
    std::vector<int> lead;
    for (int i = 0; i < k && i < static_cast<int>(d.sentences.size()); ++i)
      lead.push_back(i);
    out.push_back(lead);
  }
  return out;
}

} // namespace bertc::rt
