//===- Checkpoint.cpp - Checkpoints as published, brought to a program ----===//
#include "runtime/Checkpoint.h"

#include "runtime/BFloat16.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

namespace bertc::rt {

namespace {

namespace fs = std::filesystem;

/// HuggingFace's base_model_prefix for BERT: the encoder's parameters are
/// `bert.*` in every model with a head, bare in BertModel.
constexpr const char *kBasePrefix = "bert.";
constexpr const char *kWordEmbeddings = "bert.embeddings.word_embeddings.weight";
constexpr const char *kMlmBias = "cls.predictions.bias";
constexpr const char *kDecoderBias = "cls.predictions.decoder.bias";
constexpr const char *kDecoderWeight = "cls.predictions.decoder.weight";
/// The training state's names (bertc-append-optimizer's moments).
constexpr const char *kStatePrefix = "optimizer.";

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool isFloat(DType t) {
  return t == DType::F32 || t == DType::F64 || t == DType::BF16 || t == DType::F16;
}

double element(const StoredTensor &t, int64_t i) {
  const char *p = t.data.data();
  switch (t.dtype) {
  case DType::F32: {
    float v;
    std::memcpy(&v, p + 4 * i, 4);
    return v;
  }
  case DType::F64: {
    double v;
    std::memcpy(&v, p + 8 * i, 8);
    return v;
  }
  case DType::BF16:
  case DType::F16: {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    return t.dtype == DType::BF16 ? fromBFloat16(h) : fromFloat16(h);
  }
  default:
    return 0;
  }
}

int64_t elements(const StoredTensor &t) { return static_cast<int64_t>(t.data.size()) / dtypeSize(t.dtype); }

/// `t` as `to` (a float type), element by element.
void convert(StoredTensor &t, DType to) {
  int64_t n = elements(t);
  std::vector<char> data(n * dtypeSize(to));
  for (int64_t i = 0; i < n; ++i) {
    double v = element(t, i);
    if (to == DType::F64) {
      std::memcpy(data.data() + 8 * i, &v, 8);
    } else if (to == DType::F32) {
      float f = static_cast<float>(v);
      std::memcpy(data.data() + 4 * i, &f, 4);
    } else {
      uint16_t h = toBFloat16(static_cast<float>(v));
      std::memcpy(data.data() + 2 * i, &h, 2);
    }
  }
  t.data = std::move(data);
  t.dtype = to;
}

/// Largest |a - b| over two float tensors of one shape (infinity when the
/// shapes differ).
double maxDifference(const StoredTensor &a, const StoredTensor &b) {
  if (a.shape != b.shape)
    return INFINITY;
  double worst = 0;
  for (int64_t i = 0, n = elements(a); i < n; ++i)
    worst = std::max(worst, std::fabs(element(a, i) - element(b, i)));
  return worst;
}

std::string spellNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

/// "a, b, c and 4 more".
std::string listSome(const std::vector<std::string> &items, size_t shown = 3) {
  std::string r;
  for (size_t i = 0; i < items.size() && i < shown; ++i)
    r += (i ? "; " : "") + items[i];
  if (items.size() > shown)
    r += " and " + std::to_string(items.size() - shown) + " more";
  return r;
}

} // namespace

bool LoadReport::plain() const { return renamed.empty() && converted.empty() && ignored.empty(); }

std::vector<std::string> LoadReport::lines() const {
  std::vector<std::string> out;
  out.push_back("loaded " + std::to_string(loaded) + " parameters from " + file);
  if (!renamed.empty())
    out.push_back("renamed " + std::to_string(renamed.size()) + ": " + listSome(renamed));
  for (const auto &[from, count] : converted)
    out.push_back("converted " + std::to_string(count) + " from " + from);
  if (!ignored.empty())
    out.push_back("ignored " + std::to_string(ignored.size()) + ": " + listSome(ignored, 4));
  if (!initialised.empty())
    out.push_back("initialised " + std::to_string(initialised.size()) + ": " +
                  listSome(initialised, 4));
  return out;
}

bool checkpointFile(const std::string &path, std::string &file, std::string &error) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    file = path;
    return true;
  }
  fs::path dir(path);
  if (fs::exists(dir / "model.safetensors", ec)) {
    file = (dir / "model.safetensors").string();
    return true;
  }
  if (fs::exists(dir / "model.safetensors.index.json", ec))
    error = path + ": a checkpoint sharded over several files (model.safetensors.index.json) "
                   "is not read; save it as one model.safetensors";
  else if (fs::exists(dir / "pytorch_model.bin", ec))
    error = path + ": has pytorch_model.bin (PyTorch's pickle format), which is not read; "
                   "save the model with safe_serialization=True to get model.safetensors";
  else
    error = path + ": a directory without model.safetensors";
  return false;
}

std::string checkpointDirectory(const std::string &path) {
  std::error_code ec;
  return fs::is_directory(path, ec) ? path : std::string();
}

bool readCheckpoint(const std::string &path, const Program &program, SafetensorsFile &out,
                    LoadReport &report, std::string &error) {
  report = LoadReport();
  if (!checkpointFile(path, report.file, error))
    return false;
  SafetensorsFile stored;
  if (!readSafetensors(report.file, stored, error))
    return false;
  const std::string &file = report.file;

  std::map<std::string, DType> wanted; // The program's parameters and state.
  for (const ParameterDesc &p : program.parameters)
    wanted[p.name] = program.tensors[p.tensor].dtype;
  for (const NamedTensor &s : program.state)
    wanted[s.name] = program.tensors[s.tensor].dtype;
  bool tiedDecoder = wanted.count(kWordEmbeddings) && !wanted.count(kDecoderWeight);

  out = SafetensorsFile();
  out.metadata = stored.metadata;
  std::map<std::string, std::string> source; // Parameter name -> stored name.
  std::vector<std::pair<std::string, StoredTensor>> compared; // Tied copies, checked below.
  int otherState = 0; // Optimizer state of parameters this program lacks.
  for (auto &[name, tensor] : stored.tensors) {
    if (endsWith(name, ".position_ids")) {
      report.ignored.push_back(name + " (an index buffer)");
      continue;
    }
    std::string to = name;
    if (endsWith(to, ".gamma"))
      to = to.substr(0, to.size() - 6) + ".weight";
    else if (endsWith(to, ".beta"))
      to = to.substr(0, to.size() - 5) + ".bias";
    if (!wanted.count(to) && wanted.count(kBasePrefix + to))
      to = kBasePrefix + to;
    if (to == kDecoderBias && wanted.count(kMlmBias)) {
      if (stored.tensors.count(kMlmBias)) {
        compared.emplace_back(name, std::move(tensor));
        continue;
      }
      to = kMlmBias;
    }
    if (to == kDecoderWeight && tiedDecoder) {
      compared.emplace_back(name, std::move(tensor));
      continue;
    }
    auto it = wanted.find(to);
    if (it == wanted.end()) {
      if (name.rfind(kStatePrefix, 0) == 0)
        ++otherState;
      else
        report.ignored.push_back(name + " (not in this model)");
      continue;
    }
    if (auto [s, fresh] = source.emplace(to, name); !fresh) {
      error = file + ": tensors '" + s->second + "' and '" + name + "' are both '" + to + "'";
      return false;
    }
    if (tensor.dtype != it->second) {
      if (!isFloat(tensor.dtype) || !isFloat(it->second)) {
        error = file + ": tensor '" + name + "'" + (to == name ? "" : " (the model's '" + to + "')") +
                " is " + dtypeName(tensor.dtype) + ", the model needs " + dtypeName(it->second);
        return false;
      }
      ++report.converted[std::string(dtypeName(tensor.dtype)) + " to " + dtypeName(it->second)];
      convert(tensor, it->second);
    }
    if (to != name)
      report.renamed.push_back(name + " -> " + to);
    out.tensors[to] = std::move(tensor);
  }
  if (otherState > 0)
    report.ignored.push_back(std::to_string(otherState) +
                             " optimizer-state tensors of parameters not in this model");
  // The tied copies: the same values as what they copy, or a report.
  for (const auto &[name, copy] : compared) {
    const char *of = name == kDecoderWeight ? kWordEmbeddings : kMlmBias;
    auto it = out.tensors.find(of);
    if (it == out.tensors.end()) {
      report.ignored.push_back(name + " (a tied copy of " + of + ", which the file lacks)");
      continue;
    }
    double d = maxDifference(copy, it->second);
    report.ignored.push_back(name + (d == 0 ? " (equal to the tied " + std::string(of) + ")"
                                            : " (differs from the tied " + std::string(of) +
                                                  " by up to " + spellNumber(d) +
                                                  "; that one is used)"));
  }
  return true;
}

} // namespace bertc::rt
