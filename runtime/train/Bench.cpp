//===- Bench.cpp - Two compilations of one step, side by side -------------===//
#include "runtime/train/Bench.h"

#include "runtime/Contract.h"
#include "runtime/train/Batch.h"
#include "runtime/train/Random.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <thread>

namespace bertc::rt {

namespace {

/// Gradients, parameters and state compare relative to at least this
/// fraction of the largest of their group.
constexpr double kFloor = 1e-4;

/// Reads element `i` of a floating-point tensor as a double.
double element(const Session &s, const TensorDesc &t, int id, int64_t i) {
  if (t.dtype == DType::F64)
    return static_cast<const double *>(s.data(id))[i];
  return static_cast<const float *>(s.data(id))[i];
}

/// The largest magnitude of a floating-point tensor.
double maxAbs(const Session &s, int id) {
  const TensorDesc &t = s.program().tensors[id];
  double m = 0;
  for (int64_t i = 0; i < t.elements(); ++i)
    m = std::max(m, std::fabs(element(s, t, id, i)));
  return m;
}

/// printf onto the end of `out`.
__attribute__((format(printf, 2, 3))) void appendf(std::string &out, const char *format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  if (n > 0)
    out.append(buffer, std::min<size_t>(static_cast<size_t>(n), sizeof buffer - 1));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// Runs one step and returns its wall time in milliseconds.
double timedStep(Session &s) {
  auto start = std::chrono::steady_clock::now();
  s.run();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

void finish(BenchFigures &f, const Session &s, int steps, int64_t tokens) {
  const Program &p = s.program();
  f.kernelsPerStep = static_cast<int64_t>(p.dispatches.size());
  f.distinctKernels = static_cast<int64_t>(p.kernels.size());
  f.stepMs = median(f.stepsMs);
  f.tokensPerSecond = f.stepMs > 0 ? static_cast<double>(tokens) / (f.stepMs * 1e-3) : 0;
  // The table's rows: every kind the compiler gives kernels.
  for (contract::KernelKind kind : contract::kKernelKinds)
    f.kindMs.push_back({std::string(contract::kernelKindName(kind)), 0.0});
  for (size_t k = 0; k < p.kernels.size(); ++k) {
    auto it = std::find_if(f.kindMs.begin(), f.kindMs.end(),
                           [&](const auto &e) { return e.first == p.kernelKinds[k]; });
    if (it == f.kindMs.end())
      it = f.kindMs.insert(f.kindMs.end(), {p.kernelKinds[k], 0.0});
    it->second += s.kernelTimes()[k].seconds * 1e3 / steps;
    f.kernelMs.push_back(
        {p.kernels[k], p.kernelKinds[k], s.kernelTimes()[k].seconds * 1e3 / steps});
  }
  std::string_view matmul = contract::kernelKindName(contract::KernelKind::Matmul);
  for (const auto &[kind, ms] : f.kindMs)
    if (kind == matmul && ms > 0)
      f.matmulGflops = static_cast<double>(p.matmulFlopsPerStep(matmul)) / (ms * 1e-3) / 1e9;
  std::stable_sort(f.kernelMs.begin(), f.kernelMs.end(),
                   [](const auto &a, const auto &b) { return a.ms > b.ms; });
}

} // namespace

bool fillSyntheticBatch(Session &session, uint64_t seed, std::string &error) {
  const Program &p = session.program();
  const TensorDesc *ids = p.input("input_ids");
  Random rng(seed);
  if (!ids || ids->shape.size() != 2) {
    // Not a language model: uniform values in [-1, 1) for floating-point
    // data, zeros for integers.
    for (const NamedTensor &in : p.inputs) {
      const TensorDesc &t = p.tensors[in.tensor];
      for (int64_t i = 0; i < t.elements() && !t.shape.empty(); ++i) {
        if (t.dtype == DType::F32)
          static_cast<float *>(session.data(in.tensor))[i] =
              static_cast<float>(2 * rng.uniform() - 1);
        else if (t.dtype == DType::F64)
          static_cast<double *>(session.data(in.tensor))[i] = 2 * rng.uniform() - 1;
        else
          static_cast<int32_t *>(session.data(in.tensor))[i] = 0;
      }
    }
    return true;
  }
  int64_t batch = ids->shape[0], seq = ids->shape[1];
  int64_t vocab = p.configInt("vocab_size", 30522);
  int64_t classes = p.configInt("num_labels", 2);
  const TensorDesc *positions = p.input("masked_lm_positions");
  BatchFile file;
  file.path = "synthetic batch";
  for (int64_t b = 0; b < batch; ++b) {
    Json row = Json::object(), tokens = Json::array(), types = Json::array();
    for (int64_t i = 0; i < seq; ++i) {
      tokens.push(Json(rng.between(std::min<int64_t>(1000, vocab - 1), vocab - 1)));
      types.push(Json(static_cast<int64_t>(i >= seq / 2)));
    }
    row["input_ids"] = std::move(tokens);
    if (p.input("token_type_ids"))
      row["token_type_ids"] = std::move(types);
    if (positions) {
      // As many predicted tokens as the program takes, away from the ends.
      std::vector<int64_t> where;
      for (int64_t i = 1; i + 1 < seq; ++i)
        where.push_back(i);
      rng.shuffle(where);
      where.resize(std::min<size_t>(where.size(), positions->shape.back()));
      std::sort(where.begin(), where.end());
      std::vector<int64_t> labels(seq, -100);
      for (int64_t i : where)
        labels[i] = rng.between(std::min<int64_t>(1000, vocab - 1), vocab - 1);
      Json list = Json::array();
      for (int64_t l : labels)
        list.push(Json(l));
      row["labels"] = std::move(list);
    }
    if (p.input("next_sentence_label"))
      row["next_sentence_label"] = Json(rng.between(0, 1));
    if (p.input("label"))
      row["label"] = Json(rng.between(0, classes - 1));
    file.rows.push_back({b + 1, std::move(row)});
  }
  return fillBatch(file, 0, session, error);
}

bool runBench(Session &fused, Session &unfused, const BenchOptions &options, BenchResult &result,
              std::string &error) {
  Session *both[] = {&fused, &unfused};
  const Program &fp = fused.program();
  if (fp.model != unfused.program().model || fp.task != unfused.program().task) {
    error = "the two programs are not the same model and task";
    return false;
  }
  StepInputs step;
  step.learningRate = options.learningRate;
  step.seed = options.seed;
  step.dropout = options.dropout;
  for (Session *s : both) {
    s->initParameters(options.seed);
    if (!fillSyntheticBatch(*s, options.seed, error))
      return false;
    setStepInputs(*s, step);
    s->setProfiling(false);
    s->run();
  }

  // The first step's results, by name (the two programs number their
  // tensors differently): floating-point outputs (losses, gradients), the
  // updated parameters and the optimizer's state. Each difference is
  // relative to the tensor's largest magnitude, floored for gradients,
  // parameters and state at kFloor of the largest in its group: some
  // gradients are zero in exact arithmetic (the attention key bias's:
  // softmax ignores a constant shift) and would otherwise compare rounding
  // noise with itself.
  const Program &up = unfused.program();
  struct Compared {
    std::string name, group;
    int fusedId, unfusedId;
  };
  std::vector<Compared> compared;
  auto add = [&](const std::string &name, const std::string &group, int unfusedId,
                 int fusedId) -> bool {
    const TensorDesc &t = up.tensors[unfusedId];
    if (fusedId < 0 || fp.tensors[fusedId].shape != t.shape ||
        fp.tensors[fusedId].dtype != t.dtype) {
      error = "'" + name + "' differs between the two programs";
      return false;
    }
    if (t.dtype != DType::I32)
      compared.push_back({name, group, fusedId, unfusedId});
    return true;
  };
  auto idOf = [](const std::vector<NamedTensor> &list, const std::string &name) {
    for (const NamedTensor &n : list)
      if (n.name == name)
        return n.tensor;
    return -1;
  };
  for (const NamedTensor &o : up.outputs)
    if (!add(o.name, contract::isGradient(o.name) ? "gradients" : "", o.tensor,
             fp.outputId(o.name)))
      return false;
  for (const ParameterDesc &d : up.parameters) {
    int id = -1;
    for (const ParameterDesc &e : fp.parameters)
      if (e.name == d.name)
        id = e.tensor;
    if (!add(d.name, "parameters", d.tensor, id))
      return false;
  }
  for (const NamedTensor &st : up.state)
    if (!add(st.name, st.name.substr(0, st.name.find('.', st.name.find('.') + 1)), st.tensor,
             idOf(fp.state, st.name)))
      return false;
  std::map<std::string, double> largest;
  for (const Compared &c : compared)
    if (!c.group.empty())
      largest[c.group] = std::max(largest[c.group], maxAbs(unfused, c.unfusedId));
  for (const Compared &c : compared) {
    const TensorDesc &t = up.tensors[c.unfusedId];
    double diff = 0, scale = c.group.empty() ? 0 : kFloor * largest[c.group];
    bool nan = false;
    for (int64_t i = 0; i < t.elements(); ++i) {
      double x = element(fused, t, c.fusedId, i), y = element(unfused, t, c.unfusedId, i);
      diff = std::max(diff, std::fabs(x - y));
      scale = std::max(scale, std::fabs(y));
      nan = nan || std::isnan(x) != std::isnan(y);
    }
    double rel = nan ? INFINITY : scale > 0 ? diff / scale : diff;
    bool output = c.group.empty() || c.group == "gradients";
    double &worst = output ? result.maxRelDiff : result.maxRelDiffUpdated;
    std::string &worstName = output ? result.worstTensor : result.worstUpdated;
    ++(output ? result.comparedTensors : result.comparedUpdated);
    if (worstName.empty() || rel > worst) {
      worst = rel;
      worstName = c.name;
    }
  }

  // Timed steps, alternating so both variants see the same machine.
  // Tokens: the ids of a language model, else the rows of the first input.
  const TensorDesc *ids = fp.input("input_ids");
  if (ids)
    result.tokensPerStep = ids->elements();
  else if (!fp.inputs.empty() && !fp.tensors[fp.inputs[0].tensor].shape.empty())
    result.tokensPerStep = fp.tensors[fp.inputs[0].tensor].shape[0];
  result.fused.name = "fused";
  result.unfused.name = "unfused";
  for (Session *s : both)
    s->setProfiling(true);
  for (int i = 0; i < options.steps; ++i) {
    step.step = 2 + i;
    for (Session *s : both)
      setStepInputs(*s, step);
    result.fused.stepsMs.push_back(timedStep(fused));
    result.unfused.stepsMs.push_back(timedStep(unfused));
  }
  finish(result.fused, fused, options.steps, result.tokensPerStep);
  finish(result.unfused, unfused, options.steps, result.tokensPerStep);
  return true;
}

std::string formatBench(const BenchResult &r, const std::string &title, int top) {
  std::string out;
  const BenchFigures &f = r.fused, &u = r.unfused;
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  appendf(out, "%s\n", title.c_str());
  appendf(out, "%-28s %12s %12s %9s\n", "", "fused", "unfused", "ratio");
  appendf(out, "%-28s %12lld %12lld %8.2fx\n", "kernels per step",
          static_cast<long long>(f.kernelsPerStep), static_cast<long long>(u.kernelsPerStep),
          ratio(static_cast<double>(u.kernelsPerStep), static_cast<double>(f.kernelsPerStep)));
  appendf(out, "%-28s %12lld %12lld\n", "distinct kernels",
          static_cast<long long>(f.distinctKernels), static_cast<long long>(u.distinctKernels));
  appendf(out, "%-28s %12.2f %12.2f %8.2fx\n", "step (ms, median)", f.stepMs, u.stepMs,
          ratio(u.stepMs, f.stepMs));
  appendf(out, "%-28s %12.0f %12.0f %8.2fx\n", "tokens/s", f.tokensPerSecond, u.tokensPerSecond,
          ratio(f.tokensPerSecond, u.tokensPerSecond));
  appendf(out, "%-28s %12.1f %12.1f %8.2fx\n", "matmul GFLOP/s", f.matmulGflops, u.matmulGflops,
          ratio(f.matmulGflops, u.matmulGflops));
  appendf(out, "time per step by kernel kind (ms):\n");
  for (const auto &[kind, ms] : u.kindMs) {
    double fm = 0;
    for (const auto &[k, v] : f.kindMs)
      if (k == kind)
        fm = v;
    if (ms == 0 && fm == 0)
      appendf(out, "  %-26s %12s %12s\n", kind.c_str(), "-", "-");
    else
      appendf(out, "  %-26s %12.2f %12.2f %8.2fx\n", kind.c_str(), fm, ms, ratio(ms, fm));
  }
  for (const BenchFigures *v : {&f, &u}) {
    if (top <= 0)
      break;
    appendf(out, "slowest %s kernels (ms per step):\n", v->name.c_str());
    for (size_t i = 0; i < v->kernelMs.size() && i < static_cast<size_t>(top); ++i)
      appendf(out, "  %-26s %-12s %12.2f\n", v->kernelMs[i].kernel.c_str(),
              v->kernelMs[i].kind.c_str(), v->kernelMs[i].ms);
  }
  appendf(out,
          "first step, fused vs unfused: %lld losses and gradients agree to %.3g (worst: %s)\n",
          static_cast<long long>(r.comparedTensors), r.maxRelDiff, r.worstTensor.c_str());
  if (r.comparedUpdated > 0)
    appendf(out, "  %lld updated parameters and optimizer state agree to %.3g (worst: %s)\n",
            static_cast<long long>(r.comparedUpdated), r.maxRelDiffUpdated, r.worstUpdated.c_str());
  appendf(out, "kernels_per_step fused=%lld unfused=%lld\n",
          static_cast<long long>(f.kernelsPerStep), static_cast<long long>(u.kernelsPerStep));
  appendf(out, "step_ms fused=%.3f unfused=%.3f\n", f.stepMs, u.stepMs);
  appendf(out, "matmul_gflops fused=%.1f unfused=%.1f\n", f.matmulGflops, u.matmulGflops);
  appendf(out, "max_rel_diff=%.3g\n", r.maxRelDiff);
  return out;
}

Json benchJson(const BenchResult &r, const std::string &name, const Json &context) {
  Json ctx = Json::object();
  ctx["executable"] = Json("bertc bench");
  ctx["num_cpus"] = Json(static_cast<int64_t>(std::thread::hardware_concurrency()));
  ctx["library_build_type"] = Json("release");
  for (const auto &[k, v] : context.members())
    ctx[k] = v;
  Json list = Json::array();
  for (const BenchFigures *f : {&r.fused, &r.unfused}) {
    Json b = Json::object();
    b["name"] = Json(name + "/" + f->name);
    b["run_name"] = Json(name + "/" + f->name);
    b["run_type"] = Json("iteration");
    b["repetitions"] = Json(1);
    b["repetition_index"] = Json(0);
    b["threads"] = Json(1);
    b["iterations"] = Json(static_cast<int64_t>(f->stepsMs.size()));
    b["real_time"] = Json(f->stepMs);
    b["cpu_time"] = Json(f->stepMs);
    b["time_unit"] = Json("ms");
    b["kernels_per_step"] = Json(f->kernelsPerStep);
    b["tokens_per_second"] = Json(f->tokensPerSecond);
    b["matmul_GFLOP/s"] = Json(f->matmulGflops);
    for (const auto &[kind, ms] : f->kindMs)
      b[kind + "_ms"] = Json(ms);
    b["max_rel_diff"] = Json(r.maxRelDiff);
    list.push(std::move(b));
  }
  Json j = Json::object();
  j["context"] = std::move(ctx);
  j["benchmarks"] = std::move(list);
  return j;
}

} // namespace bertc::rt
