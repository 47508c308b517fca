//===- Finetune.cpp - Sequence classification: train, eval, predict -------===//
#include "runtime/train/Finetune.h"

#include "runtime/Contract.h"
#include "runtime/Json.h"
#include "runtime/train/Batch.h"
#include "runtime/train/ModelDirectory.h"
#include "runtime/train/Random.h"
#include "runtime/train/Table.h"
#include "runtime/train/Tokenizer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

namespace bertc::rt {

namespace {

/// The classify program's tensors.
struct Classifier {
  int ids = -1, types = -1, mask = -1, label = -1, logits = -1, loss = -1;
  int64_t batch = 0, seq = 0, classes = 0;

  bool find(const Program &p, bool training, std::string &error) {
    ids = p.inputId("input_ids"), types = p.inputId("token_type_ids");
    mask = p.inputId("attention_mask"), label = p.inputId("label");
    logits = p.outputId("logits"), loss = p.outputId("loss");
    if (ids < 0 || types < 0 || mask < 0 || label < 0 || logits < 0 || loss < 0 ||
        (training && !p.input(std::string(contract::kLearningRateInput))) ||
        p.tensors[logits].dtype != DType::F32) {
      error = "this program is not a float32 sequence-classification step (BERT's classify "
              "task, compiled with --step=train)";
      return false;
    }
    batch = p.tensors[ids].shape[0];
    seq = p.tensors[ids].shape[1];
    classes = p.tensors[logits].shape[1];
    return true;
  }
};

/// [CLS] pieces [SEP], the pieces truncated to fit `seq`.
std::vector<int32_t> withSpecialTokens(const std::vector<int32_t> &pieces, const Vocab &vocab,
                                       int64_t seq) {
  std::vector<int32_t> ids = {vocab.cls};
  size_t keep = std::min<size_t>(pieces.size(), static_cast<size_t>(seq - 2));
  ids.insert(ids.end(), pieces.begin(), pieces.begin() + keep);
  ids.push_back(vocab.sep);
  return ids;
}

/// A text already checked for UTF-8 (tables are checked when read).
std::vector<int32_t> encodeText(const Tokenizer &tokenizer, const Vocab &vocab,
                                const std::string &text, int64_t seq) {
  std::vector<int32_t> pieces;
  std::string ignored;
  tokenizer.encode(text, pieces, ignored);
  return withSpecialTokens(pieces, vocab, seq);
}

/// A fine-tuned model ready for evaluation: program, vocabulary, weights
/// and the label names stored with them.
struct TrainedClassifier {
  Classifier c;
  Vocab vocab;
  std::unique_ptr<Session> session;
  std::vector<std::string> labels;

  bool open(const CompiledProgram &compiled, const DeviceChoice &device, const std::string &weights,
            const std::string &vocabPath, std::string &error);
};

/// Rows `order[begin, begin + batch)` into the inputs; missing rows pad.
void fillRows(Session &s, const Classifier &c, const std::vector<std::vector<int32_t>> &texts,
              const std::vector<int32_t> &labels, const std::vector<size_t> &order, size_t begin) {
  auto *ids = static_cast<int32_t *>(s.data(c.ids));
  auto *types = static_cast<int32_t *>(s.data(c.types));
  auto *mask = static_cast<float *>(s.data(c.mask));
  auto *label = static_cast<int32_t *>(s.data(c.label));
  for (int64_t r = 0; r < c.batch; ++r) {
    size_t k = begin + static_cast<size_t>(r);
    const std::vector<int32_t> *t = k < order.size() ? &texts[order[k]] : nullptr;
    for (int64_t j = 0; j < c.seq; ++j) {
      bool token = t && j < static_cast<int64_t>(t->size());
      ids[r * c.seq + j] = token ? (*t)[j] : 0;
      types[r * c.seq + j] = 0;
      mask[r * c.seq + j] = token ? 1.0f : 0.0f;
    }
    label[r] = t && !labels.empty() ? labels[order[k]] : -100;
  }
}

struct Scores {
  double accuracy = 0, f1 = 0;
  std::vector<double> classF1; ///< Per class id; f1 is their mean.
  int64_t n = 0;
};

/// Forward passes over `texts`; predicted classes and their probabilities.
void classify(Session &s, const Classifier &c, const std::vector<std::vector<int32_t>> &texts,
              std::vector<int32_t> &predicted, std::vector<double> &probability) {
  std::vector<size_t> order(texts.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  predicted.assign(texts.size(), 0);
  probability.assign(texts.size(), 0);
  for (size_t begin = 0; begin < texts.size(); begin += static_cast<size_t>(c.batch)) {
    fillRows(s, c, texts, {}, order, begin);
    setStepInputs(s, StepInputs{}); // Dropout off, nothing moves.
    s.runForward();
    const float *logits = static_cast<const float *>(s.data(c.logits));
    for (int64_t r = 0; r < c.batch && begin + r < texts.size(); ++r) {
      const float *row = logits + r * c.classes;
      int32_t best = static_cast<int32_t>(std::max_element(row, row + c.classes) - row);
      double sum = 0;
      for (int64_t k = 0; k < c.classes; ++k)
        sum += std::exp(static_cast<double>(row[k] - row[best]));
      predicted[begin + r] = best;
      probability[begin + r] = 1.0 / sum;
    }
  }
}

Scores score(const std::vector<int32_t> &predicted, const std::vector<int32_t> &gold,
             int64_t classes) {
  Scores s;
  s.n = static_cast<int64_t>(gold.size());
  int64_t hits = 0;
  for (size_t i = 0; i < gold.size(); ++i)
    hits += predicted[i] == gold[i];
  s.accuracy = s.n ? static_cast<double>(hits) / s.n : 0;
  double f1 = 0;
  for (int64_t k = 0; k < classes; ++k) {
    int64_t tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < gold.size(); ++i) {
      tp += predicted[i] == k && gold[i] == k;
      fp += predicted[i] == k && gold[i] != k;
      fn += predicted[i] != k && gold[i] == k;
    }
    s.classF1.push_back(tp ? 2.0 * tp / (2.0 * tp + fp + fn) : 0.0);
    f1 += s.classF1.back();
  }
  s.f1 = classes ? f1 / classes : 0;
  return s;
}

bool labelIds(const std::vector<LabelledText> &rows, const std::vector<std::string> &labels,
              const std::string &path, std::vector<int32_t> &ids, std::string &error) {
  for (const LabelledText &r : rows) {
    auto it = std::find(labels.begin(), labels.end(), r.label);
    if (it == labels.end()) {
      error = path + ":" + std::to_string(r.line) + ": label \"" + r.label +
              "\" is not one of the model's labels";
      return false;
    }
    ids.push_back(static_cast<int32_t>(it - labels.begin()));
  }
  return true;
}

std::string labelsJson(const std::vector<std::string> &labels) {
  Json list = Json::array();
  for (const std::string &l : labels)
    list.push(Json(l));
  return list.dump();
}

/// A HuggingFace model directory's label names, config.json's id2label
/// ({"0": NAME, ...}, one per class).
bool labelsFromConfig(const std::string &dir, int64_t classes, std::vector<std::string> &labels,
                      std::string &error) {
  std::string path = (std::filesystem::path(dir) / "config.json").string();
  Json config;
  if (!Json::readObject(path, config, error)) {
    error += " (the label names of weights not saved by finetune come from config.json)";
    return false;
  }
  const Json *names = config.find("id2label");
  if (!names || !names->isObject()) {
    error = path + ": \"id2label\" missing or not an object";
    return false;
  }
  labels.assign(classes, "");
  for (const auto &[id, name] : names->members()) {
    char *end = nullptr;
    long i = std::strtol(id.c_str(), &end, 10);
    if (id.empty() || *end != '\0' || i < 0 || i >= classes || !name.isString()) {
      error = path + ": \"id2label\" entry \"" + id + "\": ids run from 0 to " +
              std::to_string(classes - 1) + " and names are strings";
      return false;
    }
    labels[i] = name.string();
  }
  for (int64_t i = 0; i < classes; ++i)
    if (labels[i].empty()) {
      error = path + ": \"id2label\" has no name for class " + std::to_string(i);
      return false;
    }
  return true;
}

/// The label names saved with the weights: finetune's metadata, else the
/// model directory's config.json.
bool labelsOfModel(const std::map<std::string, std::string> &meta, const std::string &path,
                   int64_t classes, std::vector<std::string> &labels, std::string &error) {
  auto it = meta.find("labels");
  if (it == meta.end()) {
    std::string dir = checkpointDirectory(path);
    if (!dir.empty())
      return labelsFromConfig(dir, classes, labels, error);
    error = path + ": no label names in its metadata (not a model written by finetune)";
    return false;
  }
  Json list;
  std::string parseError;
  if (!Json::parse(it->second, list, parseError) || !list.isArray()) {
    error = path + ": the label names in its metadata are not a JSON list";
    return false;
  }
  for (const Json &l : list.items())
    labels.push_back(l.string());
  return true;
}

bool TrainedClassifier::open(const CompiledProgram &compiled, const DeviceChoice &device,
                             const std::string &weights, const std::string &vocabPath,
                             std::string &error) {
  if (!c.find(compiled.program(), false, error) ||
      !loadModelVocab(compiled.program(), vocabPath, weights, vocab, error) ||
      !(session = compiled.open(device, error)))
    return false;
  std::map<std::string, std::string> meta;
  return session->loadParameters(weights, error, nullptr, &meta) &&
         labelsOfModel(meta, weights, c.classes, labels, error);
}

/// The class `metric` names ("f1:LABEL"), or -1 for "accuracy"; an error
/// for anything else.
bool metricClass(const std::string &metric, const std::vector<std::string> &labels, int &cls,
                 std::string &error) {
  cls = -1;
  if (metric == "accuracy")
    return true;
  if (metric.rfind("f1:", 0) == 0) {
    auto it = std::find(labels.begin(), labels.end(), metric.substr(3));
    if (it != labels.end()) {
      cls = static_cast<int>(it - labels.begin());
      return true;
    }
  }
  error = "--metric " + metric + ": give accuracy or f1:LABEL with one of the labels " +
          labelsJson(labels);
  return false;
}

double metricValue(const Scores &s, int cls) { return cls < 0 ? s.accuracy : s.classF1[cls]; }

/// {"LABEL": F1, ...} in class order.
std::string f1ByLabel(const Scores &s, const std::vector<std::string> &labels) {
  std::string out = "{";
  for (size_t k = 0; k < labels.size(); ++k)
    out += (k ? ", " : "") + Json(labels[k]).dump() + ": " + fourDecimals(s.classF1[k]);
  return out + "}";
}

} // namespace

bool finetune(const CompiledProgram &compiled, const FinetuneConfig &cfg, std::string &error) {
  const Program &program = compiled.program();
  Classifier c;
  if (!c.find(program, true, error))
    return false;
  Vocab vocab;
  if (!loadModelVocab(program, cfg.vocab, cfg.init, vocab, error))
    return false;
  std::vector<LabelledText> train, dev;
  if (!readLabelledTable(cfg.train, cfg.textColumn, cfg.labelColumn, train, error))
    return false;
  if (train.empty()) {
    error = cfg.train + ": no rows";
    return false;
  }
  std::vector<std::string> labels = sortedLabels(train);
  if (static_cast<int64_t>(labels.size()) != c.classes) {
    error = cfg.train + ": " + std::to_string(labels.size()) + " distinct labels " +
            labelsJson(labels) + ", the model has num_labels = " + std::to_string(c.classes) +
            " (compile with --set num_labels=" + std::to_string(labels.size()) + ")";
    return false;
  }
  Random rng(cfg.seed);
  if (!cfg.dev.empty()) {
    if (!readLabelledTable(cfg.dev, cfg.textColumn, cfg.labelColumn, dev, error))
      return false;
  } else {
    rng.holdOutTenth(train, dev);
  }
  int metricCls = -1;
  if (!metricClass(cfg.metric, labels, metricCls, error))
    return false;
  std::vector<int32_t> trainLabels, devLabels;
  if (!labelIds(train, labels, cfg.train, trainLabels, error) ||
      !labelIds(dev, labels, cfg.dev.empty() ? cfg.train : cfg.dev, devLabels, error))
    return false;
  Tokenizer tokenizer(vocab);
  std::vector<std::vector<int32_t>> trainTexts, devTexts;
  for (const LabelledText &r : train)
    trainTexts.push_back(encodeText(tokenizer, vocab, r.text, c.seq));
  for (const LabelledText &r : dev)
    devTexts.push_back(encodeText(tokenizer, vocab, r.text, c.seq));
  std::string mapping;
  for (size_t k = 0; k < labels.size(); ++k)
    mapping += (k ? ", " : "") + labels[k] + " -> " + std::to_string(k);
  if (!cfg.comm || cfg.comm->rank() == 0)
    std::fprintf(stderr, "finetune: %zu training and %zu dev rows; labels %s\n", train.size(),
                 dev.size(), mapping.c_str());

  FinetuneTask task;
  task.command = "finetune";
  task.metric = cfg.metric;
  task.rows = trainTexts.size();
  task.batch = c.batch;
  task.seq = c.seq;
  task.loss = c.loss;
  task.labels = labels;
  task.identity =
      std::to_string(train.size()) + "\n" + std::to_string(dev.size()) + "\n" + cfg.metric + "\n";
  for (const auto &t : trainTexts)
    for (int32_t id : t)
      task.identity += std::to_string(id) + ",";
  task.fill = [&](Session &session, const std::vector<size_t> &order, size_t begin) {
    fillRows(session, c, trainTexts, trainLabels, order, begin);
  };
  task.evaluate = [&](Session &session, int64_t epoch) {
    std::vector<int32_t> predicted;
    std::vector<double> probability;
    classify(session, c, devTexts, predicted, probability);
    Scores s = score(predicted, devLabels, c.classes);
    EpochScore out;
    out.value = metricValue(s, metricCls);
    out.text = "dev accuracy " + fourDecimals(s.accuracy) + " f1 " + fourDecimals(s.f1) +
               (metricCls >= 0 ? " " + cfg.metric + " " + fourDecimals(out.value) : std::string()) +
               " (n " + std::to_string(s.n) + ")";
    out.metadata = {{"labels", labelsJson(labels)}, {"dev_accuracy", fourDecimals(s.accuracy)}};
    out.report = "{\"dev_accuracy\": " + fourDecimals(s.accuracy) +
                 ", \"dev_f1\": " + fourDecimals(s.f1) + ", \"n\": " + std::to_string(s.n) +
                 ", \"best_epoch\": " + std::to_string(epoch) +
                 ", \"dev_f1_by_label\": " + f1ByLabel(s, labels) +
                 ", \"metric\": " + Json(cfg.metric).dump() +
                 ", \"dev_metric\": " + fourDecimals(out.value) + "}";
    return out;
  };
  return runFinetune(compiled, vocab, cfg, task, rng, error);
}

bool evaluate(const CompiledProgram &compiled, const DeviceChoice &device,
              const std::string &weights, const std::string &vocabPath, const std::string &data,
              const std::string &textColumn, const std::string &labelColumn, std::string &error) {
  TrainedClassifier m;
  if (!m.open(compiled, device, weights, vocabPath, error))
    return false;
  std::vector<LabelledText> rows;
  std::vector<int32_t> gold;
  if (!readLabelledTable(data, textColumn, labelColumn, rows, error) ||
      !labelIds(rows, m.labels, data, gold, error))
    return false;
  Tokenizer tokenizer(m.vocab);
  std::vector<std::vector<int32_t>> texts;
  for (const LabelledText &r : rows)
    texts.push_back(encodeText(tokenizer, m.vocab, r.text, m.c.seq));
  std::vector<int32_t> predicted;
  std::vector<double> probability;
  classify(*m.session, m.c, texts, predicted, probability);
  Scores s = score(predicted, gold, m.c.classes);
  std::printf("{\"accuracy\": %s, \"f1\": %s, \"n\": %lld, \"f1_by_label\": %s}\n",
              fourDecimals(s.accuracy).c_str(), fourDecimals(s.f1).c_str(),
              static_cast<long long>(s.n), f1ByLabel(s, m.labels).c_str());
  return true;
}

bool predict(const CompiledProgram &compiled, const DeviceChoice &device,
             const std::string &weights, const std::string &vocabPath, const std::string &input,
             std::string &error) {
  TrainedClassifier m;
  if (!m.open(compiled, device, weights, vocabPath, error))
    return false;
  std::ifstream file;
  if (input != "-") {
    file.open(input, std::ios::binary);
    if (!file) {
      error = input + ": cannot open";
      return false;
    }
  }
  std::istream &in = input == "-" ? std::cin : file;
  Tokenizer tokenizer(m.vocab);
  std::vector<std::vector<int32_t>> texts;
  std::string line;
  std::vector<int32_t> pieces;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    pieces.clear();
    std::string utf8Error;
    if (!tokenizer.encode(line, pieces, utf8Error)) {
      error = (input == "-" ? std::string("<stdin>") : input) + ":" + std::to_string(n) + ": " +
              utf8Error;
      return false;
    }
    texts.push_back(withSpecialTokens(pieces, m.vocab, m.c.seq));
  }
  std::vector<int32_t> predicted;
  std::vector<double> probability;
  classify(*m.session, m.c, texts, predicted, probability);
  for (size_t i = 0; i < texts.size(); ++i) {
    Json label(m.labels[predicted[i]]);
    std::printf("{\"label\": %s, \"probability\": %.4f}\n", label.dump().c_str(), probability[i]);
  }
  return true;
}

} // namespace bertc::rt
