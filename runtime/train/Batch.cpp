//===- Batch.cpp - JSONL batches into a program's inputs ------------------===//
#include "runtime/train/Batch.h"

#include "runtime/Contract.h"
#include "runtime/Json.h"

#include <algorithm>
#include <chrono>
#include <fstream>

namespace bertc::rt {

namespace {

/// Valid id range of an input, from the model's constants; [lo, hi).
std::pair<int64_t, int64_t> idRange(const Program &p, const std::string &name) {
  if (name == "input_ids")
    return {0, p.configInt("vocab_size", INT32_MAX)};
  if (name == "token_type_ids")
    return {0, p.configInt("type_vocab_size", INT32_MAX)};
  if (name == "attention_mask" || name == "sentence_mask")
    return {0, 2};
  return {INT32_MIN, INT32_MAX};
}

double padValue(const std::string &name) {
  return name.find("label") != std::string::npos ? -100 : 0;
}

void store(Session &s, const TensorDesc &t, int id, int64_t index, double v) {
  if (t.dtype == DType::I32)
    static_cast<int32_t *>(s.data(id))[index] = static_cast<int32_t>(v);
  else if (t.dtype == DType::F32)
    static_cast<float *>(s.data(id))[index] = static_cast<float>(v);
  else
    static_cast<double *>(s.data(id))[index] = v;
}

bool isStepInput(const TensorDesc &t) { return t.shape.empty(); }

int64_t batchSize(const Program &p) {
  for (const NamedTensor &n : p.inputs)
    if (!isStepInput(p.tensors[n.tensor]))
      return p.tensors[n.tensor].shape[0];
  return 0;
}

} // namespace

bool readBatchFile(const std::string &path, BatchFile &file, std::string &error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot open";
    return false;
  }
  file.path = path;
  file.rows.clear();
  std::string line;
  int64_t lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    Json json;
    std::string jsonError;
    if (!Json::parse(line, json, jsonError) || !json.isObject()) {
      error = path + ":" + std::to_string(lineNo) + ": " +
              (jsonError.empty() ? "not a JSON object" : jsonError);
      return false;
    }
    file.rows.push_back({lineNo, std::move(json)});
  }
  if (file.rows.empty()) {
    error = path + ": no sequences";
    return false;
  }
  return true;
}

int64_t batchCount(const BatchFile &file, const Program &program) {
  int64_t batch = std::max<int64_t>(1, batchSize(program));
  return (static_cast<int64_t>(file.rows.size()) + batch - 1) / batch;
}

namespace {

/// Per-token MLM labels (-100 where not predicted) as the masked positions
/// and labels that the pretraining program reads.
bool maskedFromLabels(const Program &p, const Json &labels, const std::string &where, Json &json,
                      std::string &error) {
  const TensorDesc *positions = p.input("masked_lm_positions");
  if (!labels.isArray()) {
    error = where + "\"labels\" must be a list";
    return false;
  }
  int64_t width = positions->shape.back();
  Json pos = Json::array(), lab = Json::array();
  for (size_t i = 0; i < labels.items().size(); ++i) {
    const Json &v = labels.items()[i];
    if (!v.isInteger()) {
      error = where + "\"labels\"[" + std::to_string(i) + "] must be an integer";
      return false;
    }
    if (v.integer() == -100)
      continue;
    if (static_cast<int64_t>(pos.items().size()) == width) {
      error = where + "more than " + std::to_string(width) +
              " labelled tokens; the program predicts at most " + std::to_string(width) +
              " per sequence (15% of --seq)";
      return false;
    }
    pos.push(Json(static_cast<int64_t>(i)));
    lab.push(v);
  }
  if (json.find("masked_lm_positions") || json.find("masked_lm_labels")) {
    error = where + "give either \"labels\" or \"masked_lm_positions\"/\"masked_lm_labels\"";
    return false;
  }
  json["masked_lm_positions"] = std::move(pos);
  json["masked_lm_labels"] = std::move(lab);
  return true;
}

} // namespace

bool fillBatch(const BatchFile &file, int64_t index, Session &session, std::string &error,
               int64_t *sequences) {
  const Program &p = session.program();
  int64_t batch = batchSize(p);
  // Every row starts as padding.
  for (const NamedTensor &n : p.inputs) {
    const TensorDesc &t = p.tensors[n.tensor];
    if (isStepInput(t))
      continue;
    for (int64_t i = 0; i < t.elements(); ++i)
      store(session, t, n.tensor, i, padValue(n.name));
  }
  size_t first = static_cast<size_t>(index * batch);
  int64_t row = 0;
  for (size_t r = first; r < file.rows.size() && row < batch; ++r, ++row) {
    std::string where = file.path + ":" + std::to_string(file.rows[r].first) + ": ";
    Json json = file.rows[r].second;
    if (const Json *labels = json.find("labels"); labels && p.input("masked_lm_positions")) {
      if (!maskedFromLabels(p, *labels, where, json, error))
        return false;
      json.erase("labels");
    }
    const Json *ids = json.find("input_ids");
    if (p.input("input_ids") && (!ids || !ids->isArray())) {
      error = where + "missing \"input_ids\" (a list of token ids)";
      return false;
    }
    for (const auto &[key, value] : json.members()) {
      const TensorDesc *t = p.input(key);
      if (!t || isStepInput(*t)) {
        error = where + "unknown field \"" + key + "\" (the program's data inputs are:";
        for (const NamedTensor &n : p.inputs)
          if (!isStepInput(p.tensors[n.tensor]))
            error += " " + n.name;
        error += ")";
        return false;
      }
      int id = p.inputId(key);
      auto [lo, hi] = idRange(p, key);
      auto check = [&](const Json &v, int64_t pos) -> bool {
        bool isFloat = t->dtype != DType::I32;
        if (!v.isNumber() || (!isFloat && !v.isInteger())) {
          error = where + "\"" + key + "\"" +
                  (pos >= 0 ? "[" + std::to_string(pos) + "]" : std::string()) + " must be " +
                  (isFloat ? "a number" : "an integer");
          return false;
        }
        if (v.number() < lo || v.number() >= hi) {
          error = where + "\"" + key + "\"" +
                  (pos >= 0 ? "[" + std::to_string(pos) + "]" : std::string()) + " = " +
                  Json(v.number()).dump() + " is out of range [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + ")";
          return false;
        }
        return true;
      };
      if (t->shape.size() == 1) {
        if (!check(value, -1))
          return false;
        store(session, *t, id, row, value.number());
        continue;
      }
      if (!value.isArray()) {
        error = where + "\"" + key + "\" must be a list";
        return false;
      }
      int64_t width = t->elements() / batch;
      if (static_cast<int64_t>(value.items().size()) > width) {
        error = where + "\"" + key + "\" has " + std::to_string(value.items().size()) +
                " entries; the program was compiled for " + std::to_string(width) +
                (key == "input_ids" ? " (--seq)" : "");
        return false;
      }
      for (size_t i = 0; i < value.items().size(); ++i) {
        if (!check(value.items()[i], static_cast<int64_t>(i)))
          return false;
        store(session, *t, id, row * width + static_cast<int64_t>(i), value.items()[i].number());
      }
    }
    // Defaults: a mask covers the given tokens (attention_mask) or
    // sentences (sentence_mask, the summarizer's).
    for (auto [maskName, coveredName] : {std::pair{"attention_mask", "input_ids"},
                                         std::pair{"sentence_mask", "cls_positions"}}) {
      const Json *covered = json.find(coveredName);
      const TensorDesc *mask = p.input(maskName);
      if (!mask || !covered || !covered->isArray() || json.find(maskName))
        continue;
      int64_t width = mask->elements() / batch;
      for (size_t i = 0; i < covered->items().size(); ++i)
        store(session, *mask, p.inputId(maskName), row * width + static_cast<int64_t>(i), 1);
    }
  }
  if (sequences)
    *sequences = row;
  return true;
}

bool loadBatch(const std::string &path, Session &session, std::string &error, int64_t *sequences) {
  BatchFile file;
  if (!readBatchFile(path, file, error))
    return false;
  int64_t batch = batchSize(session.program());
  if (static_cast<int64_t>(file.rows.size()) > batch) {
    error = file.path + ":" + std::to_string(file.rows[batch].first) + ": more than " +
            std::to_string(batch) + " sequences; the program was compiled for --batch " +
            std::to_string(batch);
    return false;
  }
  return fillBatch(file, 0, session, error, sequences);
}

void setStepInputs(Session &session, const StepInputs &in) {
  setStepInput(session, std::string(contract::kLearningRateInput), in.learningRate);
  setStepInput(session, std::string(contract::kStepInput), static_cast<double>(in.step));
  setStepInput(session, std::string(contract::kSeedInput),
               static_cast<double>(in.seed & 0x7FFFFFFF));
  setStepInput(session, std::string(contract::kDropoutInput), in.dropout);
}

bool setStepInput(Session &session, const std::string &name, double value) {
  const Program &p = session.program();
  int id = p.inputId(name);
  if (id < 0 || !isStepInput(p.tensors[id]))
    return false;
  store(session, p.tensors[id], id, 0, value);
  return true;
}

double scalarOutput(const Session &session, int tensor) {
  const TensorDesc &t = session.program().tensors[tensor];
  if (t.dtype == DType::F64)
    return *static_cast<const double *>(session.data(tensor));
  if (t.dtype == DType::F32)
    return *static_cast<const float *>(session.data(tensor));
  return *static_cast<const int32_t *>(session.data(tensor));
}

std::vector<GradientBucket> gradientBuckets(const Program &p, int64_t bucketBytes) {
  Program::Region region = p.gradientRegion();
  std::vector<int64_t> ready = p.gradientReadyDispatches();
  // The buffers in address order.
  std::vector<size_t> order(p.gradientBuffers.size());
  for (size_t g = 0; g < order.size(); ++g)
    order[g] = g;
  auto offset = [&](size_t g) { return p.tensors[p.gradientBuffers[g].tensor].offset; };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return offset(a) < offset(b); });
  std::vector<GradientBucket> buckets;
  for (size_t k = 0; k < order.size(); ++k) {
    int64_t start = offset(order[k]) - region.offset;
    if (buckets.empty() || buckets.back().bytes >= bucketBytes)
      buckets.push_back({start, 0, 0});
    GradientBucket &b = buckets.back();
    // To the next buffer's start (the padding between goes along).
    int64_t end = k + 1 < order.size() ? offset(order[k + 1]) - region.offset : region.bytes;
    b.bytes = end - b.offset;
    b.ready = std::max(b.ready, ready[order[k]]);
  }
  std::stable_sort(buckets.begin(), buckets.end(),
                   [](const GradientBucket &a, const GradientBucket &b) { return a.ready < b.ready; });
  return buckets;
}

DataParallel dataParallel(Communicator &comm, const Program &program, int64_t bucketBytes) {
  DataParallel parallel;
  parallel.comm = &comm;
  if (comm.size() > 1 && bucketBytes > 0 && !program.gradientBuffers.empty())
    parallel.buckets = gradientBuckets(program, bucketBytes);
  return parallel;
}

void communicationMetrics(const DataParallel &parallel, const StepTimes &times,
                          std::vector<std::pair<std::string, double>> &values) {
  if (parallel.buckets.empty())
    values.push_back({"wait_ms", times.wait * 1e3});
  values.push_back({"allreduce_ms", times.allreduce * 1e3});
  if (!parallel.buckets.empty())
    values.push_back({"overlapped_mb", static_cast<double>(times.hiddenBytes) / 1e6});
}

namespace {

/// Starts summing `bucket` of the session's gradient region over the ranks.
void startBucket(Session &session, Communicator &comm, const GradientBucket &bucket) {
  char *region = static_cast<char *>(session.gradientRegion()) + bucket.offset;
  if (session.program().gradientRegion().dtype == DType::F64)
    comm.startSum(reinterpret_cast<double *>(region),
                  static_cast<size_t>(bucket.bytes) / sizeof(double));
  else
    comm.startSum(reinterpret_cast<float *>(region),
                  static_cast<size_t>(bucket.bytes) / sizeof(float));
}

} // namespace

bool runStep(Session &session, int64_t microBatches,
             const std::function<bool(int64_t, std::string &)> &fill, std::vector<double> &scalars,
             std::string &error, const DataParallel &parallel, StepTimes *times) {
  Communicator *comm = parallel.comm;
  const Program &p = session.program();
  const int ranks = comm ? comm->size() : 1;
  scalars.assign(p.outputs.size(), 0.0);
  auto addScalars = [&] {
    for (size_t i = 0; i < p.outputs.size(); ++i)
      if (p.tensors[p.outputs[i].tensor].shape.empty())
        scalars[i] += scalarOutput(session, p.outputs[i].tensor);
  };
  if (p.gradientBuffers.empty()) {
    if (microBatches != 1 || ranks != 1) {
      error = std::string("a step of ") +
              (ranks != 1 ? std::to_string(ranks) + " ranks"
                          : std::to_string(microBatches) + " micro-batches") +
              " needs a program compiled with --accumulate-gradients";
      return false;
    }
    if (!fill(0, error))
      return false;
    session.run();
    addScalars();
    return true;
  }
  // Every part's cross-entropies divide by the labelled rows of all parts
  // on all ranks.
  std::vector<double> rows(p.labelledRows.size(), 0.0);
  for (int64_t j = 0; j < microBatches; ++j) {
    if (!fill(j, error))
      return false;
    std::vector<double> part = session.countLabelledRows();
    for (size_t i = 0; i < rows.size(); ++i)
      rows[i] += part[i];
  }
  if (comm)
    comm->sum(rows.data(), rows.size());
  session.setLabelledRows(rows);
  const std::vector<GradientBucket> &pieces = parallel.buckets;
  const bool buckets = comm && ranks > 1 && !pieces.empty();
  for (int64_t j = 0; j < microBatches; ++j) {
    if (!fill(j, error)) {
      session.setLabelledRows({});
      return false;
    }
    if (buckets && j == microBatches - 1) {
      // The last part: each bucket starts once final; every dispatch after
      // lets the started ones advance (not the last: what completes from
      // there on was not hidden).
      size_t next = 0;
      const size_t last = static_cast<size_t>(p.updateDispatches) - 1;
      session.runGradients(/*add=*/j > 0, [&](size_t d) {
        for (; next < pieces.size() && pieces[next].ready <= static_cast<int64_t>(d); ++next)
          startBucket(session, *comm, pieces[next]);
        if (d < last)
          comm->progress();
      });
      for (; next < pieces.size(); ++next)
        startBucket(session, *comm, pieces[next]);
    } else {
      session.runGradients(/*add=*/j > 0);
    }
    addScalars();
  }
  session.setLabelledRows({});
  if (buckets) {
    auto start = std::chrono::steady_clock::now();
    // What each rank summed while computing, to all: the slowest rank's is
    // what shortened the step (a rank ahead of it has nothing to overlap
    // with).
    std::vector<double> hidden(static_cast<size_t>(ranks) + scalars.size(), 0.0);
    hidden[static_cast<size_t>(comm->rank())] = static_cast<double>(comm->finishSums());
    std::copy(scalars.begin(), scalars.end(), hidden.begin() + ranks);
    comm->sum(hidden.data(), hidden.size());
    std::copy(hidden.begin() + ranks, hidden.end(), scalars.begin());
    if (times) {
      times->wait = 0;
      times->allreduce =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      times->hiddenBytes =
          static_cast<size_t>(*std::max_element(hidden.begin(), hidden.begin() + ranks));
    }
  } else if (comm && ranks > 1) {
    // The barrier separates waiting for the slowest rank from the sum
    // itself, so that the step's communication can be told from imbalance.
    auto start = std::chrono::steady_clock::now();
    comm->barrier();
    auto summing = std::chrono::steady_clock::now();
    Program::Region region = p.gradientRegion();
    if (region.dtype == DType::F64)
      comm->sum(static_cast<double *>(session.gradientRegion()),
                static_cast<size_t>(region.bytes) / sizeof(double));
    else
      comm->sum(static_cast<float *>(session.gradientRegion()),
                static_cast<size_t>(region.bytes) / sizeof(float));
    comm->sum(scalars.data(), scalars.size());
    if (times) {
      auto end = std::chrono::steady_clock::now();
      times->wait = std::chrono::duration<double>(summing - start).count();
      times->allreduce = std::chrono::duration<double>(end - summing).count();
    }
  }
  session.runUpdate();
  return true;
}

} // namespace bertc::rt
