//===- CpuBench.cpp - Generated CPU code at BERT's shapes -----------------===//
//
// Google Benchmark suite: the generated matmul at BERT's shapes in GFLOP/s,
// and the whole BERT-mini forward pass (infer task) in sequences/s. Programs
// are compiled by bertc in process into shared libraries at start-up.
// tests/bench/compare.sh runs this beside PyTorch and prints the ratios.
//
//===----------------------------------------------------------------------===//
#include "runtime/Loader.h"
#include "tools/driver/Driver.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

namespace {

constexpr int kThreads = 2;

/// Compiles a model file (or model text) and loads it; aborts on failure,
/// since a benchmark of nothing would mislead.
std::unique_ptr<bertc::rt::LoadedProgram> build(const std::string &name, const std::string &model,
                                                bertc::frontend::GraphOptions graph) {
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

void BM_Matmul(benchmark::State &state) {
  int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  std::string model = "const m = " + std::to_string(m) + "\nconst k = " + std::to_string(k) +
                      "\nconst n = " + std::to_string(n) +
                      "\ntask t {\n  input a : f32[m, k]\n"
                      "  output c = matmul(a, param f32[k, n] normal(0.02) \"w\")\n}\n";
  bertc::frontend::GraphOptions graph;
  graph.task = "t";
  auto lib = build("matmul", model, graph);
  auto session = lib->newSession(kThreads);
  session->initParameters(1);
  for (int i = 0; i < static_cast<int>(session->program().tensors[0].elements()); ++i)
    static_cast<float *>(session->data(session->program().inputs[0].tensor))[i] = 0.5f;
  session->run(); // warm-up
  for (auto _ : state)
    session->run();
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * m * n * k * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_Matmul)
    ->Args({4096, 256, 256})
    ->Args({256, 1024, 256})
    ->Args({1024, 256, 256})
    ->Args({768, 768, 768})
    ->Args({768, 3072, 768})
    ->Args({3072, 768, 768})
    ->ArgNames({"M", "K", "N"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

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

} // namespace

BENCHMARK_MAIN();
