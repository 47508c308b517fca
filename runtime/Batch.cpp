//===- Batch.cpp - JSONL batches into a program's inputs ------------------===//
#include "runtime/Batch.h"

#include "runtime/Json.h"

#include <fstream>

namespace bertc::rt {

namespace {

/// Valid id range of an input, from the model's constants; [lo, hi).
std::pair<int64_t, int64_t> idRange(const Program &p, const std::string &name) {
  if (name == "input_ids")
    return {0, p.configInt("vocab_size", INT32_MAX)};
  if (name == "token_type_ids")
    return {0, p.configInt("type_vocab_size", INT32_MAX)};
  if (name == "attention_mask")
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

} // namespace

bool loadBatch(const std::string &path, Session &session, std::string &error, int64_t *sequences) {
  const Program &p = session.program();
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot open";
    return false;
  }
  int64_t batch = -1;
  for (const NamedTensor &n : p.inputs) {
    const TensorDesc &t = p.tensors[n.tensor];
    if (batch < 0)
      batch = t.shape[0];
  }
  // Every row starts as padding.
  for (const NamedTensor &n : p.inputs) {
    const TensorDesc &t = p.tensors[n.tensor];
    for (int64_t i = 0; i < t.elements(); ++i)
      store(session, t, n.tensor, i, padValue(n.name));
  }
  std::string line;
  int64_t row = 0, lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    std::string where = path + ":" + std::to_string(lineNo) + ": ";
    if (row >= batch) {
      error = where + "more than " + std::to_string(batch) +
              " sequences; the program was compiled for --batch " + std::to_string(batch);
      return false;
    }
    Json json;
    std::string jsonError;
    if (!Json::parse(line, json, jsonError) || !json.isObject()) {
      error = where + (jsonError.empty() ? "not a JSON object" : jsonError);
      return false;
    }
    const Json *ids = json.find("input_ids");
    if (p.input("input_ids") && (!ids || !ids->isArray())) {
      error = where + "missing \"input_ids\" (a list of token ids)";
      return false;
    }
    for (const auto &[key, value] : json.members()) {
      const TensorDesc *t = p.input(key);
      if (!t) {
        error = where + "unknown field \"" + key + "\" (the program's inputs are:";
        for (const NamedTensor &n : p.inputs)
          error += " " + n.name;
        error += ")";
        return false;
      }
      int id = -1;
      for (const NamedTensor &n : p.inputs)
        if (n.name == key)
          id = n.tensor;
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
    // Defaults: the mask covers the given tokens.
    if (ids && !json.find("attention_mask")) {
      if (const TensorDesc *mask = p.input("attention_mask")) {
        int id = -1;
        for (const NamedTensor &n : p.inputs)
          if (n.name == "attention_mask")
            id = n.tensor;
        int64_t width = mask->elements() / batch;
        for (size_t i = 0; i < ids->items().size(); ++i)
          store(session, *mask, id, row * width + static_cast<int64_t>(i), 1);
      }
    }
    ++row;
  }
  if (row == 0) {
    error = path + ": no sequences";
    return false;
  }
  if (sequences)
    *sequences = row;
  return true;
}

} // namespace bertc::rt
