//===- CpuBench.cpp - Generated CPU code at BERT's shapes -----------------===//
//
// Google Benchmark suite: the machine's FMA peak (FmaPeak.cpp), the
// generated matmul of every linear layer of BERT-mini and BERT-base training
// in its three forms (forward, data gradient, weight gradient) in GFLOP/s,
// the whole BERT-mini forward pass (infer task) in sequences/s, and the
// BERT-mini training steps (pretrain and classify: forward, backward,
// clipping and AdamW; pretrain also with --precision bf16) in tokens/s with
// their planned memory; the linear layers also with --precision bf16. Programs
// are compiled by bertc in process into shared libraries at start-up, for
// --cpu BENCH_CPU (default native).
// tests/bench/compare.sh runs this beside PyTorch and prints the ratios.
//
//===----------------------------------------------------------------------===//
#include "runtime/Loader.h"
#include "tools/driver/Driver.h"

#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <sstream>

namespace {

constexpr int kThreads = 2;

/// Compiles a model file (or model text) and loads it; aborts on failure,
/// since a benchmark of nothing would mislead.
std::unique_ptr<bertc::rt::LoadedProgram> build(const std::string &name, const std::string &model,
                                                bertc::frontend::GraphOptions graph,
                                                bool bf16 = false) {
  std::string dir = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  std::string path = model;
  if (model.find('\n') != std::string::npos) {
    path = dir + "/bertc-bench-" + name + ".bertc";
    std::ofstream(path) << model;
  }
  bertc::CompileOptions options;
  options.modelPath = path;
  options.graph = std::move(graph);
  options.target = "cpu";
  if (const char *cpu = std::getenv("BENCH_CPU")) // e.g. x86-64-v3: the AVX2 variant
    options.cpu = cpu;
  options.bf16 = bf16;
  options.emit = bertc::Emit::Shared;
  options.outputPath = dir + "/bertc-bench-" + name + ".so";
  std::ostringstream errs;
  std::string error;
  std::unique_ptr<bertc::rt::LoadedProgram> lib;
  if (bertc::compile(options, errs) == 0)
    lib = bertc::rt::LoadedProgram::open(options.outputPath, error);
  if (!lib) {
    std::fprintf(stderr, "cannot build %s: %s%s\n", name.c_str(), errs.str().c_str(),
                 error.c_str());
    std::abort();
  }
  return lib;
}

/// The three products of a linear layer in training, with the weight
/// `w[out, in]` as BERT (and PyTorch's F.linear) keeps it, over T tokens.
enum class Form {
  Forward, ///< y[T, out] = x[T, in] w^T
  Data,    ///< dx[T, in] = g[T, out] w
  Weight,  ///< dw[out, in] = g^T x
};

/// The generated matmul of one form at one shape, 2 threads, in GFLOP/s;
/// with `bf16`, compiled with --precision bf16 and timed over the matmul
/// kernel alone (the conversions of the f32 inputs are excluded: in a
/// training step their producers write them).
void linear(benchmark::State &state, Form form, bool bf16) {
  std::string t = std::to_string(state.range(0)), in = std::to_string(state.range(1)),
              out = std::to_string(state.range(2));
  std::string task;
  switch (form) {
  case Form::Forward:
    task =
        "  input x : f32[t, d_in]\n"
        "  output y = matmul(x, param f32[d_out, d_in] normal(0.02) \"w\", transpose_b = true)\n";
    break;
  case Form::Data:
    task = "  input g : f32[t, d_out]\n"
           "  output dx = matmul(g, param f32[d_out, d_in] normal(0.02) \"w\")\n";
    break;
  case Form::Weight:
    task = "  input g : f32[t, d_out]\n  input x : f32[t, d_in]\n"
           "  output dw = matmul(g, x, transpose_a = true)\n";
    break;
  }
  std::string model = "const t = " + t + "\nconst d_in = " + in + "\nconst d_out = " + out +
                      "\ntask linear {\n" + task + "}\n";
  bertc::frontend::GraphOptions graph;
  graph.task = "linear";
  auto lib = build(bf16 ? "linear-bf16" : "linear", model, graph, bf16);
  auto session = lib->newSession(kThreads);
  session->initParameters(1);
  for (const bertc::rt::NamedTensor &input : session->program().inputs) {
    float *data = static_cast<float *>(session->data(input.tensor));
    for (int64_t i = 0; i < session->program().tensors[input.tensor].elements(); ++i)
      data[i] = 0.5f - static_cast<float>(i % 7) * 0.1f;
  }
  session->run(); // warm-up
  double flops = 2.0 * static_cast<double>(state.range(0)) * static_cast<double>(state.range(1)) *
                 static_cast<double>(state.range(2));
  if (!bf16) {
    for (auto _ : state)
      session->run();
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    return;
  }
  const bertc::rt::Program &p = session->program();
  session->setProfiling(true);
  for (auto _ : state)
    session->run();
  double seconds = 0;
  for (size_t k = 0; k < p.kernels.size(); ++k)
    if (p.kernelKinds[k] == "matmul")
      seconds += session->kernelTimes()[k].seconds;
  state.counters["GFLOP/s"] = flops * 1e-9 * static_cast<double>(state.iterations()) / seconds;
}

void BM_Linear(benchmark::State &state, Form form) { linear(state, form, false); }
void BM_LinearBf16(benchmark::State &state, Form form) { linear(state, form, true); }

/// Every linear layer's shape in BERT-mini (batch 32, seq 128: 4096 tokens,
/// 640 masked positions for the MLM decoder) and BERT-base (batch 8: 1024
/// tokens, 160 masked positions): tokens, in, out. tests/bench/torch_bench.py
/// measures the same list.
void linearShapes(benchmark::internal::Benchmark *b) {
  for (auto [t, in, out] : std::initializer_list<std::array<int64_t, 3>>{{4096, 256, 256},
                                                                         {4096, 256, 1024},
                                                                         {4096, 1024, 256},
                                                                         {640, 256, 30522},
                                                                         {1024, 768, 768},
                                                                         {1024, 768, 3072},
                                                                         {1024, 3072, 768},
                                                                         {160, 768, 30522}})
    b->Args({t, in, out});
  b->ArgNames({"T", "in", "out"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK_CAPTURE(BM_Linear, forward, Form::Forward)->Apply(linearShapes);
BENCHMARK_CAPTURE(BM_Linear, data, Form::Data)->Apply(linearShapes);
BENCHMARK_CAPTURE(BM_Linear, weight, Form::Weight)->Apply(linearShapes);
BENCHMARK_CAPTURE(BM_LinearBf16, forward, Form::Forward)->Apply(linearShapes);
BENCHMARK_CAPTURE(BM_LinearBf16, data, Form::Data)->Apply(linearShapes);
BENCHMARK_CAPTURE(BM_LinearBf16, weight, Form::Weight)->Apply(linearShapes);

void BM_BertMiniForward(benchmark::State &state) {
  int64_t batch = state.range(0), seq = state.range(1);
  bertc::frontend::GraphOptions graph;
  graph.preset = "mini";
  graph.task = "infer";
  graph.batch = batch;
  graph.seq = seq;
  auto lib = build("bert-mini", std::string(BERTC_SOURCE_DIR) + "/models/bert.bertc", graph);
  auto session = lib->newSession(kThreads);
  session->initParameters(1);
  const bertc::rt::Program &p = session->program();
  for (const auto &in : p.inputs) {
    const auto &t = p.tensors[in.tensor];
    for (int64_t i = 0; i < t.elements(); ++i) {
      if (in.name == "input_ids")
        static_cast<int32_t *>(session->data(in.tensor))[i] =
            static_cast<int32_t>(1000 + i % 20000);
      else if (in.name == "attention_mask")
        static_cast<float *>(session->data(in.tensor))[i] = 1.0f;
    }
  }
  session->run(); // warm-up
  for (auto _ : state)
    session->run();
  state.counters["sequences/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_BertMiniForward)
    ->Args({8, 128})
    ->ArgNames({"batch", "seq"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

/// One training step of BERT-mini at batch 32, seq 128 with dropout on.
void BM_BertMiniTrainStep(benchmark::State &state, bool pretrain, bool bf16) {
  const int64_t batch = 32, seq = 128;
  bertc::frontend::GraphOptions graph;
  graph.preset = "mini";
  graph.task = pretrain ? "pretrain" : "classify";
  graph.batch = batch;
  graph.seq = seq;
  auto lib = build("bert-mini-" + graph.task + (bf16 ? "-bf16" : ""),
                   std::string(BERTC_SOURCE_DIR) + "/models/bert.bertc", graph, bf16);
  auto session = lib->newSession(kThreads);
  session->initParameters(1);
  const bertc::rt::Program &p = session->program();
  // Every position a token, 20 masked positions per sequence, labels valid.
  auto fill = [&] {
    for (const auto &in : p.inputs) {
      const auto &t = p.tensors[in.tensor];
      for (int64_t i = 0; i < t.elements(); ++i) {
        if (t.dtype == bertc::rt::DType::F32) {
          static_cast<float *>(session->data(in.tensor))[i] = 1.0f; // mask, rates, lr
          continue;
        }
        int32_t v = 0;
        if (in.name == "input_ids" || in.name == "masked_lm_labels")
          v = static_cast<int32_t>(1000 + (i * 7919) % 20000);
        else if (in.name == "masked_lm_positions")
          v = static_cast<int32_t>(1 + (i * 5) % (seq - 2));
        else if (in.name == "step" || in.name == "seed")
          v = 1;
        else if (in.name == "token_type_ids")
          v = static_cast<int32_t>((i % seq) >= seq / 2);
        else if (in.name == "next_sentence_label" || in.name == "label")
          v = static_cast<int32_t>(i % 2);
        static_cast<int32_t *>(session->data(in.tensor))[i] = v;
      }
      if (in.name == "learning_rate")
        *static_cast<float *>(session->data(in.tensor)) = 1e-4f;
    }
  };
  fill();
  session->run(); // warm-up
  for (auto _ : state) {
    state.PauseTiming();
    fill(); // The inputs' bytes are reused by the step, as in the runtime.
    state.ResumeTiming();
    session->run();
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(batch * seq),
                                                  benchmark::Counter::kIsIterationInvariantRate);
  state.counters["planned_peak_MB"] =
      static_cast<double>(p.parameterBytes + p.activationBytes) / (1 << 20);
}

BENCHMARK_CAPTURE(BM_BertMiniTrainStep, pretrain, true, false)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(5);
// --precision bf16.
BENCHMARK_CAPTURE(BM_BertMiniTrainStep, pretrain_bf16, true, true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(BM_BertMiniTrainStep, classify, false, false)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(5);

} // namespace

BENCHMARK_MAIN();
