//===- Summarize.cpp - Extractive summarisation with a compiled program ---===//
#include "runtime/train/Summarize.h"

#include "runtime/AtomicFile.h"
#include "runtime/Contract.h"
#include "runtime/Json.h"
#include "runtime/train/Batch.h"
#include "runtime/train/ModelDirectory.h"
#include "runtime/train/Random.h"
#include "runtime/train/SummaryData.h"

#include <algorithm>
#include <cstdio>
#include <memory>

namespace bertc::rt {

namespace {

/// The summarize program's tensors (sentenceMask: summarize_transformer's
/// only, -1 for summarize).
struct Summarizer {
  int ids = -1, types = -1, mask = -1, cls = -1, labels = -1, scores = -1, loss = -1;
  int sentenceMask = -1;
  int64_t batch = 0, seq = 0, slots = 0;

  bool find(const Program &p, bool training, std::string &error) {
    ids = p.inputId("input_ids"), types = p.inputId("token_type_ids");
    mask = p.inputId("attention_mask"), cls = p.inputId("cls_positions");
    labels = p.inputId("sentence_labels"), scores = p.outputId("scores");
    loss = p.outputId("loss");
    sentenceMask = p.inputId("sentence_mask");
    if (ids < 0 || types < 0 || mask < 0 || cls < 0 || labels < 0 || scores < 0 || loss < 0 ||
        (training && !p.input(std::string(contract::kLearningRateInput))) ||
        p.tensors[scores].dtype != DType::F32 || p.tensors[scores].shape.size() != 3 ||
        p.tensors[scores].shape[2] != 2 ||
        (sentenceMask >= 0 && (p.tensors[sentenceMask].dtype != DType::F32 ||
                               p.tensors[sentenceMask].shape != p.tensors[cls].shape))) {
      error = "this program is not a float32 extractive-summarisation step (BERT's summarize or "
              "summarize_transformer task, compiled with --step=train)";
      return false;
    }
    batch = p.tensors[ids].shape[0];
    seq = p.tensors[ids].shape[1];
    slots = p.tensors[cls].shape[1];
    return true;
  }
};

/// Writes rows order[begin ...] (padding past the end) into the inputs.
void fillRows(Session &s, const Summarizer &m, const std::vector<SummaryRow> &rows,
              const std::vector<size_t> &order, size_t begin) {
  auto *ids = static_cast<int32_t *>(s.data(m.ids));
  auto *types = static_cast<int32_t *>(s.data(m.types));
  auto *mask = static_cast<float *>(s.data(m.mask));
  auto *cls = static_cast<int32_t *>(s.data(m.cls));
  auto *labels = static_cast<int32_t *>(s.data(m.labels));
  auto *sentenceMask =
      m.sentenceMask >= 0 ? static_cast<float *>(s.data(m.sentenceMask)) : nullptr;
  for (int64_t r = 0; r < m.batch; ++r) {
    size_t k = begin + static_cast<size_t>(r);
    const SummaryRow *row = k < order.size() ? &rows[order[k]] : nullptr;
    for (int64_t j = 0; j < m.seq; ++j) {
      bool token = row && j < static_cast<int64_t>(row->ids.size());
      ids[r * m.seq + j] = token ? row->ids[j] : 0;
      types[r * m.seq + j] = token ? row->types[j] : 0;
      mask[r * m.seq + j] = token ? 1.0f : 0.0f;
    }
    for (int64_t j = 0; j < m.slots; ++j) {
      bool sentence = row && j < row->kept;
      cls[r * m.slots + j] = sentence ? row->clsPositions[j] : 0;
      labels[r * m.slots + j] = sentence ? row->labels[j] : -100;
      if (sentenceMask)
        sentenceMask[r * m.slots + j] = sentence ? 1.0f : 0.0f;
    }
  }
}

/// Forward passes: each row's `top` best-scored sentences (by the margin of
/// "keep" over "leave out"), in document order.
std::vector<std::vector<int>> choose(Session &s, const Summarizer &m,
                                     const std::vector<SummaryRow> &rows, int top) {
  std::vector<size_t> order(rows.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::vector<std::vector<int>> chosen;
  for (size_t begin = 0; begin < rows.size(); begin += static_cast<size_t>(m.batch)) {
    fillRows(s, m, rows, order, begin);
    setStepInputs(s, StepInputs{}); // Dropout off, nothing moves.
    s.runForward();
    const float *scores = static_cast<const float *>(s.data(m.scores));
    for (int64_t r = 0; r < m.batch && begin + r < rows.size(); ++r) {
      const SummaryRow &row = rows[begin + r];
      std::vector<int> ranked(static_cast<size_t>(row.kept));
      for (size_t i = 0; i < ranked.size(); ++i)
        ranked[i] = static_cast<int>(i);
      auto margin = [&](int i) {
        const float *v = scores + (r * m.slots + i) * 2;
        return v[1] - v[0];
      };
      std::stable_sort(ranked.begin(), ranked.end(),
                       [&](int a, int b) { return margin(a) > margin(b); });
      ranked.resize(std::min<size_t>(ranked.size(), static_cast<size_t>(top)));
      std::sort(ranked.begin(), ranked.end());
      chosen.push_back(ranked);
    }
  }
  return chosen;
}

/// Encodes every document; counts the sentences cut.
bool encodeAll(const std::vector<SummaryDocument> &docs, const Tokenizer &tokenizer,
               const Vocab &vocab, const Summarizer &m, int oracleSize,
               std::vector<SummaryRow> &rows, int64_t &cut, std::string &error) {
  rows.assign(docs.size(), SummaryRow());
  cut = 0;
  for (size_t d = 0; d < docs.size(); ++d) {
    if (!encodeDocument(docs[d], tokenizer, vocab, m.seq, m.slots, oracleSize, rows[d], error))
      return false;
    cut += static_cast<int64_t>(docs[d].sentences.size()) - rows[d].kept;
  }
  return true;
}

std::string rougeJson(const RougeMeans &r) {
  return "{\"rouge1\": " + fourDecimals(r.rouge1) + ", \"rouge2\": " + fourDecimals(r.rouge2) +
         ", \"rougeL\": " + fourDecimals(r.rougeL) + "}";
}

double rougeMean(const RougeMeans &r) { return (r.rouge1 + r.rouge2 + r.rougeL) / 3; }

/// The oracle's selections of the rows (their labels).
std::vector<std::vector<int>> oracleSelections(const std::vector<SummaryRow> &rows) {
  std::vector<std::vector<int>> out;
  for (const SummaryRow &row : rows) {
    std::vector<int> picked;
    for (int64_t i = 0; i < row.kept; ++i)
      if (row.labels[i] == 1)
        picked.push_back(static_cast<int>(i));
    out.push_back(picked);
  }
  return out;
}

/// A trained summarizer ready for forward passes.
struct TrainedSummarizer {
  Summarizer m;
  Vocab vocab;
  std::unique_ptr<Session> session;

  bool open(const CompiledProgram &compiled, const DeviceChoice &device,
            const std::string &weights, const std::string &vocabPath, std::string &error) {
    return m.find(compiled.program(), false, error) &&
           loadModelVocab(compiled.program(), vocabPath, weights, vocab, error) &&
           (session = compiled.open(device, error)) &&
           session->loadParameters(weights, error);
  }
};

std::string inputPath(const std::string &path) { return path == "-" ? "/dev/stdin" : path; }

} // namespace

bool finetuneSummarize(const CompiledProgram &compiled, const SummarizeConfig &cfg,
                       std::string &error) {
  const Program &program = compiled.program();
  Summarizer m;
  if (!m.find(program, true, error))
    return false;
  Vocab vocab;
  if (!loadModelVocab(program, cfg.vocab, cfg.init, vocab, error))
    return false;
  std::vector<SummaryDocument> train, dev;
  if (!readSummaryDocuments(cfg.train, true, train, error))
    return false;
  Random rng(cfg.seed);
  if (!cfg.dev.empty()) {
    if (!readSummaryDocuments(cfg.dev, true, dev, error))
      return false;
  } else {
    rng.holdOutTenth(train, dev);
  }
  if (train.empty()) {
    error = cfg.train + ": no documents left to train on after holding out a dev tenth";
    return false;
  }
  const size_t originals = train.size();
  for (int copy = 0; copy < cfg.shuffledCopies; ++copy)
    for (size_t d = 0; d < originals; ++d) {
      SummaryDocument shuffled = train[d];
      rng.shuffle(shuffled.sentences);
      train.push_back(std::move(shuffled));
    }
  Tokenizer tokenizer(vocab);
  std::vector<SummaryRow> trainRows, devRows;
  int64_t trainCut = 0, devCut = 0;
  if (!encodeAll(train, tokenizer, vocab, m, cfg.oracleSize, trainRows, trainCut, error) ||
      !encodeAll(dev, tokenizer, vocab, m, cfg.oracleSize, devRows, devCut, error))
    return false;
  int64_t labelled = 0;
  for (const SummaryRow &r : trainRows)
    labelled += std::count(r.labels.begin(), r.labels.end(), 1);
  std::string copies =
      cfg.shuffledCopies > 0
          ? " (and " + std::to_string(train.size() - originals) + " shuffled copies)"
          : "";
  if (!cfg.comm || cfg.comm->rank() == 0)
    std::fprintf(stderr,
                 "finetune-summarize: %zu training%s and %zu dev documents; %lld and %lld "
                 "sentences cut (seq %lld, %lld sentence slots); the oracle keeps %.2f sentences "
                 "a document\n",
                 originals, copies.c_str(), dev.size(), static_cast<long long>(trainCut),
                 static_cast<long long>(devCut), static_cast<long long>(m.seq),
                 static_cast<long long>(m.slots),
                 static_cast<double>(labelled) / static_cast<double>(train.size()));

  FinetuneTask task;
  task.command = "finetune-summarize";
  task.metric = "ROUGE";
  task.rows = trainRows.size();
  task.batch = m.batch;
  task.seq = m.seq;
  task.loss = m.loss;
  task.identity = std::to_string(trainRows.size()) + "\n" + std::to_string(devRows.size()) + "\n" +
                  std::to_string(cfg.top) + "\n" + std::to_string(cfg.oracleSize) + "\n";
  for (const SummaryRow &r : trainRows) {
    for (int32_t id : r.ids)
      task.identity += std::to_string(id) + ",";
    for (int32_t label : r.labels)
      task.identity += std::to_string(label) + ";";
  }
  task.fill = [&](Session &session, const std::vector<size_t> &order, size_t begin) {
    fillRows(session, m, trainRows, order, begin);
  };
  task.evaluate = [&](Session &session, int64_t epoch) {
    RougeMeans scores = scoreSelections(dev, choose(session, m, devRows, cfg.top));
    EpochScore out;
    out.value = rougeMean(scores);
    out.text = "dev ROUGE-1 " + fourDecimals(scores.rouge1) + " ROUGE-2 " +
               fourDecimals(scores.rouge2) + " ROUGE-L " + fourDecimals(scores.rougeL) + " (top " +
               std::to_string(cfg.top) + ", " + std::to_string(scores.documents) + " documents)";
    out.metadata = {{"top", std::to_string(cfg.top)}};
    out.report = "{\"dev\": " + rougeJson(scores) + ", \"best_epoch\": " + std::to_string(epoch) +
                 ", \"top\": " + std::to_string(cfg.top) +
                 ", \"documents\": " + std::to_string(scores.documents) + "}";
    return out;
  };
  return runFinetune(compiled, vocab, cfg, task, rng, error);
}

bool summarize(const CompiledProgram &compiled, const DeviceChoice &device,
               const std::string &weights, const std::string &vocabPath, const std::string &input,
               int top, std::string &error) {
  TrainedSummarizer t;
  std::vector<SummaryDocument> docs;
  if (!t.open(compiled, device, weights, vocabPath, error) ||
      !readSummaryDocuments(inputPath(input), false, docs, error))
    return false;
  Tokenizer tokenizer(t.vocab);
  std::vector<SummaryRow> rows;
  int64_t cut = 0;
  if (!encodeAll(docs, tokenizer, t.vocab, t.m, 0, rows, cut, error))
    return false;
  if (cut > 0)
    std::fprintf(stderr, "summarize: %lld sentences cut (past --seq or the sentence slots)\n",
                 static_cast<long long>(cut));
  std::vector<std::vector<int>> chosen = choose(*t.session, t.m, rows, top);
  for (size_t d = 0; d < docs.size(); ++d) {
    Json indices = Json::array();
    for (int i : chosen[d]) // In document order already.
      indices.push(Json(static_cast<int64_t>(i)));
    std::printf("{\"sentences\": %s, \"summary\": %s}\n", indices.dump().c_str(),
                Json(selectionText(docs[d], chosen[d])).dump().c_str());
  }
  return true;
}

bool evalSummarize(const CompiledProgram &compiled, const DeviceChoice &device,
                   const std::string &weights, const std::string &vocabPath,
                   const std::string &data, int top, int oracleSize,
                   const std::string &perDocument, std::string &error) {
  TrainedSummarizer t;
  if (weights.empty()) { // The baselines alone: the program's shapes and a vocabulary.
    if (!t.m.find(compiled.program(), false, error) ||
        !loadModelVocab(compiled.program(), vocabPath, "", t.vocab, error))
      return false;
  } else if (!t.open(compiled, device, weights, vocabPath, error)) {
    return false;
  }
  std::vector<SummaryDocument> docs;
  if (!readSummaryDocuments(data, true, docs, error))
    return false;
  Tokenizer tokenizer(t.vocab);
  std::vector<SummaryRow> rows;
  int64_t cut = 0;
  if (!encodeAll(docs, tokenizer, t.vocab, t.m, oracleSize, rows, cut, error))
    return false;
  std::vector<std::pair<std::string, std::vector<std::vector<int>>>> systems;
  if (!weights.empty())
    systems.push_back({"bertc", choose(*t.session, t.m, rows, top)});
  systems.push_back({"lead", leadSelections(docs, top)});
  systems.push_back({"oracle", oracleSelections(rows)});
  std::string out = "{\"documents\": " + std::to_string(docs.size()) +
                    ", \"sentences_cut\": " + std::to_string(cut) +
                    ", \"top\": " + std::to_string(top);
  std::vector<std::vector<RougeScores>> scores(systems.size()); // [system][document]
  for (size_t k = 0; k < systems.size(); ++k)
    out += ", \"" + systems[k].first +
           "\": " + rougeJson(scoreSelections(docs, systems[k].second, &scores[k]));
  std::printf("%s}\n", out.c_str());
  if (perDocument.empty())
    return true;
  std::string lines;
  for (size_t d = 0; d < docs.size(); ++d) {
    Json row = Json::object();
    row["document"] = Json(docs[d].where);
    row["reference"] = Json(docs[d].summary);
    for (size_t k = 0; k < systems.size(); ++k) {
      std::vector<int> order = systems[k].second[d];
      std::sort(order.begin(), order.end());
      Json picked = Json::array();
      for (int i : order)
        picked.push(Json(docs[d].sentences[i]));
      Json entry = Json::object();
      entry["sentences"] = picked;
      entry["rouge1"] = Json(scores[k][d].rouge1);
      entry["rouge2"] = Json(scores[k][d].rouge2);
      entry["rougeL"] = Json(scores[k][d].rougeL);
      row[systems[k].first] = entry;
    }
    lines += row.dump() + "\n";
  }
  return writeFileAtomically(perDocument, {lines}, error);
}

} // namespace bertc::rt
