//===- Session.cpp - A compiled program's memory and execution ------------===//
#include "runtime/Session.h"

#include "runtime/BFloat16.h"
#include "runtime/Contract.h"
#include "runtime/Safetensors.h"

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace bertc::rt {

namespace {

uint64_t hashName(const std::string &s) {
  uint64_t h = 1469598103934665603ull; // FNV-1a
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

} // namespace

Session::Session(Program program, std::unique_ptr<Executor> executor)
    : program_(std::move(program)), executor_(std::move(executor)) {}

Session::Session(Program program, const KernelFn *kernels, int threads)
    : program_(std::move(program)), executor_(createCpuExecutor(program_, kernels, threads)) {}

Session::~Session() = default;

void *Session::data(int id) {
  const TensorDesc &t = program_.tensors[id];
  char *base = t.storage == Storage::Parameter ? executor_->parameters() : executor_->arena();
  return base + t.offset;
}

const void *Session::data(int id) const { return const_cast<Session *>(this)->data(id); }

void Session::initParameters(uint64_t seed) {
  for (const ParameterDesc &p : program_.parameters) {
    const TensorDesc &t = program_.tensors[p.tensor];
    int64_t n = t.elements();
    std::mt19937_64 rng(seed ^ hashName(p.name));
    std::normal_distribution<double> normal(0.0, p.std > 0 ? p.std : 1.0);
    for (int64_t i = 0; i < n; ++i) {
      double v = p.init == "ones" ? 1.0 : p.init == "zeros" ? 0.0 : normal(rng);
      if (t.dtype == DType::F64)
        static_cast<double *>(data(p.tensor))[i] = v;
      else
        static_cast<float *>(data(p.tensor))[i] = static_cast<float>(v);
    }
  }
  updateParameterCopies();
}

void Session::updateParameterCopies() {
  for (const ParameterCopy &c : program_.parameterCopies) {
    const auto *from = static_cast<const float *>(data(c.source));
    auto *to = static_cast<uint16_t *>(data(c.tensor));
    for (int64_t i = 0, n = program_.tensors[c.tensor].elements(); i < n; ++i)
      to[i] = toBFloat16(from[i]);
  }
}

namespace {

std::string spellShape(const std::vector<int64_t> &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

/// Writes `s` into `to` (readCheckpoint gave it the tensor's type).
void copyStored(const StoredTensor &s, void *to) { std::memcpy(to, s.data.data(), s.data.size()); }

/// Checks that `file` holds `name` with the type and shape of `t`.
bool matches(const SafetensorsFile &file, const std::string &path, const std::string &name,
             const TensorDesc &t, std::string &error) {
  auto it = file.tensors.find(name);
  if (it == file.tensors.end()) {
    error = path + ": tensor '" + name + "' is missing";
    return false;
  }
  if (it->second.shape != t.shape) {
    error = path + ": tensor '" + name + "' has shape " + spellShape(it->second.shape) +
            ", the model needs " + spellShape(t.shape);
    return false;
  }
  return true;
}

} // namespace

bool Session::loadParameters(const std::string &path, std::string &error, LoadReport *report,
                             std::map<std::string, std::string> *metadata) {
  SafetensorsFile file;
  LoadReport local;
  LoadReport &r = report ? *report : local;
  if (!readCheckpoint(path, program_, file, r, error))
    return false;
  if (metadata)
    *metadata = file.metadata;
  // Check everything before changing anything.
  for (const ParameterDesc &p : program_.parameters)
    if (!matches(file, r.file, p.name, program_.tensors[p.tensor], error))
      return false;
  size_t stateFound = 0;
  for (const NamedTensor &s : program_.state)
    stateFound += file.tensors.count(s.name);
  bool withState = !program_.state.empty() && stateFound == program_.state.size();
  if (withState)
    for (const NamedTensor &s : program_.state)
      if (!matches(file, r.file, s.name, program_.tensors[s.tensor], error))
        return false;
  for (const ParameterDesc &p : program_.parameters)
    copyStored(file.tensors.at(p.name), data(p.tensor));
  if (withState)
    for (const NamedTensor &n : program_.state)
      copyStored(file.tensors.at(n.name), data(n.tensor));
  updateParameterCopies();
  r.loaded = static_cast<int>(program_.parameters.size());
  return true;
}

bool Session::loadMatchingParameters(const std::string &path, std::string &error,
                                     LoadReport &report) {
  SafetensorsFile file;
  if (!readCheckpoint(path, program_, file, report, error))
    return false;
  // Check everything before changing anything.
  for (const ParameterDesc &p : program_.parameters)
    if (file.tensors.count(p.name) &&
        !matches(file, report.file, p.name, program_.tensors[p.tensor], error))
      return false;
  int state = 0;
  for (const NamedTensor &s : program_.state)
    state += static_cast<int>(file.tensors.count(s.name));
  if (state > 0)
    report.ignored.push_back(std::to_string(state) +
                             " optimizer-state tensors (a new run starts its optimizer afresh)");
  for (const ParameterDesc &p : program_.parameters) {
    auto it = file.tensors.find(p.name);
    if (it == file.tensors.end()) {
      report.initialised.push_back(p.name);
      continue;
    }
    copyStored(it->second, data(p.tensor));
    ++report.loaded;
  }
  updateParameterCopies();
  if (report.loaded == 0) {
    error = report.file + ": no tensor matches a parameter of this model";
    return false;
  }
  return true;
}

bool Session::saveState(const std::string &path, std::string &error,
                        const std::map<std::string, std::string> &metadata) const {
  std::vector<TensorView> views;
  for (const NamedTensor &n : program_.state) {
    const TensorDesc &t = program_.tensors[n.tensor];
    views.push_back({n.name, t.dtype, t.shape, data(n.tensor)});
  }
  std::map<std::string, std::string> meta = metadata;
  meta["model"] = program_.model;
  return writeSafetensors(path, views, meta, error);
}

bool Session::loadState(const std::string &path, std::string &error,
                        std::map<std::string, std::string> *metadata) {
  SafetensorsFile file;
  if (!readSafetensors(path, file, error))
    return false;
  for (const NamedTensor &s : program_.state) {
    const TensorDesc &t = program_.tensors[s.tensor];
    if (!matches(file, path, s.name, t, error))
      return false;
    if (file.tensors.at(s.name).dtype != t.dtype) {
      error = path + ": tensor '" + s.name + "' is " + dtypeName(file.tensors.at(s.name).dtype) +
              ", the program's state is " + dtypeName(t.dtype);
      return false;
    }
  }
  for (const NamedTensor &s : program_.state)
    copyStored(file.tensors.at(s.name), data(s.tensor));
  if (metadata)
    *metadata = file.metadata;
  return true;
}

bool Session::saveParameters(const std::string &path, std::string &error, bool withState,
                             const std::map<std::string, std::string> &metadata) const {
  std::vector<TensorView> views;
  for (const ParameterDesc &p : program_.parameters) {
    const TensorDesc &t = program_.tensors[p.tensor];
    views.push_back({p.name, t.dtype, t.shape, data(p.tensor)});
  }
  if (withState)
    for (const NamedTensor &n : program_.state) {
      const TensorDesc &t = program_.tensors[n.tensor];
      views.push_back({n.name, t.dtype, t.shape, data(n.tensor)});
    }
  std::map<std::string, std::string> meta = metadata;
  meta["format"] = "pt";
  meta["model"] = program_.model;
  return writeSafetensors(path, views, meta, error);
}

bool Session::saveOutputs(const std::string &path, const std::string &prefix,
                          std::string &error) const {
  std::vector<TensorView> views;
  for (const NamedTensor &o : program_.outputs) {
    if (o.name.compare(0, prefix.size(), prefix) != 0)
      continue;
    const TensorDesc &t = program_.tensors[o.tensor];
    views.push_back({o.name.substr(prefix.size()), t.dtype, t.shape, data(o.tensor)});
  }
  return writeSafetensors(path, views, {{"model", program_.model}, {"task", program_.task}}, error);
}

void Session::setProfiling(bool on) {
  profiling_ = on;
  times_.assign(program_.kernels.size(), KernelTime());
}

const std::vector<Session::KernelTime> &Session::kernelTimes() const { return times_; }

std::vector<double> Session::countLabelledRows() const {
  std::vector<double> rows;
  for (const LabelledRows &c : program_.labelledRows) {
    const auto *labels = static_cast<const int32_t *>(data(c.labels));
    int64_t n = program_.tensors[c.labels].elements(), count = 0;
    for (int64_t i = 0; i < n; ++i)
      count += labels[i] != c.ignoreIndex && labels[i] >= 0 && labels[i] < c.classes;
    rows.push_back(static_cast<double>(count));
  }
  return rows;
}

void Session::setLabelledRows(std::vector<double> rows) {
  if (!rows.empty() && rows.size() != program_.labelledRows.size())
    throw std::logic_error("setLabelledRows: " + std::to_string(rows.size()) + " counts for " +
                           std::to_string(program_.labelledRows.size()) + " labelled-rows inputs");
  labelledRows_ = std::move(rows);
}

void Session::fillLabelledRows() {
  if (program_.labelledRows.empty())
    return;
  std::vector<double> rows = labelledRows_.empty() ? countLabelledRows() : labelledRows_;
  for (size_t i = 0; i < rows.size(); ++i)
    setFloatInput(program_.labelledRows[i].tensor, rows[i]);
}

void Session::setFloatInput(int id, double value) {
  if (program_.tensors[id].dtype == DType::F64)
    *static_cast<double *>(data(id)) = value;
  else
    *static_cast<float *>(data(id)) = static_cast<float>(value);
}

void Session::runDispatches(size_t begin, size_t end, bool addToGradients) {
  if (begin == 0) {
    fillLabelledRows();
    if (int id = program_.inputId(std::string(contract::kAccumulateInput)); id >= 0)
      setFloatInput(id, addToGradients ? 1.0 : 0.0);
  }
  executor_->run(begin, end, profiling_ ? &times_ : nullptr);
}

void Session::run() { runDispatches(0, program_.dispatches.size(), false); }

void Session::runGradients(bool add) {
  runDispatches(0, static_cast<size_t>(program_.updateDispatches), add);
}

void Session::runGradients(bool add, const std::function<void(size_t)> &after) {
  for (size_t d = 0; d < static_cast<size_t>(program_.updateDispatches); ++d) {
    runDispatches(d, d + 1, add);
    after(d);
  }
}

void Session::runUpdate() {
  runDispatches(static_cast<size_t>(program_.updateDispatches), program_.dispatches.size(), false);
}

void *Session::gradientRegion() {
  return program_.gradientBuffers.empty() ? nullptr
                                          : data(program_.gradientBuffers.front().tensor);
}

void Session::runForward() {
  runDispatches(0, static_cast<size_t>(program_.forwardDispatches), false);
}

} // namespace bertc::rt
