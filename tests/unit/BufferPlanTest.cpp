//===- BufferPlanTest.cpp - The activation arena never overlaps live data -===//
//
// Builds BERT's programs (graph, linalg, dispatch regions, program) through
// the compiler's libraries and checks the buffer plan: every tensor lies in
// its storage, and two activation tensors whose lifetimes overlap (from the
// dispatch that writes them, or the start for inputs, to their last use, or
// the end for outputs) never share bytes unless one is a view of the other.
// In training steps, every parameter and optimizer state is overwritten in
// place exactly once, and nothing reads it after that.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "dialects/graph/GraphDialect.h"
#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "passes/Pipelines.h"
#include "passes/program/BuildProgram.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

namespace {

bertc::rt::Program buildBert(const std::string &preset, const std::string &task, bool train) {
  using namespace bertc::frontend;
  SourceFile file;
  std::string error;
  EXPECT_TRUE(SourceFile::load(std::string(BERTC_SOURCE_DIR) + "/models/bert.bertc", file, error));
  std::ostringstream errs;
  Diagnostics diags(file, errs);
  auto ast = parseModelFile(file, diags);
  EXPECT_TRUE(ast && checkModule(*ast, diags)) << errs.str();
  mlir::DialectRegistry registry;
  registry.insert<bertc::graph::GraphDialect>();
  bertc::cpu::registerCpuBackend(registry);
  mlir::MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  GraphOptions options;
  options.preset = preset;
  options.task = task;
  options.batch = 4;
  options.seq = 64;
  auto module = buildGraph(ctx, file, *ast, options);
  EXPECT_TRUE(module);
  // The compiler's pipelines, without fusion: one dispatch per op.
  mlir::PassManager pm(&ctx);
  bertc::TrainingGraphOptions training;
  training.gradients = training.optimizer = train;
  training.fusion = false;
  bertc::buildTrainingGraphPipeline(pm, training);
  bertc::DispatchOptions dispatch;
  dispatch.fusion = false;
  bertc::buildGraphToLinalgPipeline(pm, dispatch);
  bertc::buildDispatchRegionsPipeline(pm, dispatch);
  EXPECT_TRUE(mlir::succeeded(pm.run(*module)));
  auto plan = bertc::buildProgram(*module->getOps<mlir::func::FuncOp>().begin());
  EXPECT_TRUE(mlir::succeeded(plan));
  return plan->program;
}

struct PlanCase {
  const char *preset, *task;
  bool train;
};

class BufferPlan : public ::testing::TestWithParam<PlanCase> {};

/// Replays the program over a map of the arena that records, for every
/// 4-byte word, which tensor last wrote it. Every read must find its tensor's
/// bytes intact: written by the tensor itself (or, for a view, by one tensor
/// starting at the same offset), not clobbered by a later, unrelated write.
TEST_P(BufferPlan, LiveTensorsNeverShareBytes) {
  const PlanCase &c = GetParam();
  bertc::rt::Program p = buildBert(c.preset, c.task, c.train);
  for (const auto &t : p.tensors) {
    int64_t limit =
        t.storage == bertc::rt::Storage::Parameter ? p.parameterBytes : p.activationBytes;
    ASSERT_LE(t.offset + t.bytes(), limit) << t.name;
  }
  std::vector<int> writer(p.activationBytes / 4, -1);
  auto isActivation = [&](int t) { return p.tensors[t].storage == bertc::rt::Storage::Activation; };
  auto write = [&](int t) {
    for (int64_t w = p.tensors[t].offset / 4; w < (p.tensors[t].offset + p.tensors[t].bytes()) / 4;
         ++w)
      writer[w] = t;
  };
  int clobbered = 0;
  auto read = [&](int t, const std::string &when) {
    int64_t begin = p.tensors[t].offset / 4, end = (p.tensors[t].offset + p.tensors[t].bytes()) / 4;
    int first = writer[begin];
    for (int64_t w = begin; w < end; ++w)
      if (writer[w] != first || first < 0 || p.tensors[first].offset != p.tensors[t].offset) {
        ADD_FAILURE() << "tensor " << p.tensors[t].name << " clobbered " << when;
        ++clobbered;
        return;
      }
  };
  // The parameter store: -1 while a word holds its value from before the
  // step; then the tensor that overwrote it.
  std::vector<int> updated(p.parameterBytes / 4, -1);
  int lateReads = 0, rewrites = 0;
  auto span = [&](int t) {
    return std::make_pair(p.tensors[t].offset / 4,
                          (p.tensors[t].offset + p.tensors[t].bytes()) / 4);
  };
  auto readPersistent = [&](int t, size_t step) {
    auto [begin, end] = span(t);
    for (int64_t w = begin; w < end; ++w)
      if (updated[w] >= 0 && updated[w] != t) {
        ADD_FAILURE() << p.tensors[t].name << " read at dispatch " << step << " after its update";
        ++lateReads;
        return;
      }
  };
  auto writePersistent = [&](int t) {
    auto [begin, end] = span(t);
    for (int64_t w = begin; w < end; ++w) {
      rewrites += updated[w] >= 0;
      updated[w] = t;
    }
  };
  for (const auto &in : p.inputs)
    write(in.tensor);
  for (size_t s = 0; s < p.dispatches.size(); ++s) {
    const auto &d = p.dispatches[s];
    size_t firstResult = d.bindings.size() - d.results;
    std::vector<int> reads, writes;
    for (size_t i = 0; i < d.bindings.size(); ++i)
      if (isActivation(d.bindings[i]))
        (i < firstResult ? reads : writes).push_back(d.bindings[i]);
    for (int t : reads)
      read(t, "before dispatch " + std::to_string(s));
    for (int t : writes)
      write(t);
    for (size_t i = 0; i < d.bindings.size(); ++i)
      if (!isActivation(d.bindings[i])) {
        if (i < firstResult) {
          readPersistent(d.bindings[i], s);
        } else {
          writePersistent(d.bindings[i]);
          // The forward pass (evaluation) must not train.
          EXPECT_GE(static_cast<int64_t>(s), p.forwardDispatches) << "dispatch " << s;
        }
      }
  }
  // The forward pass computes every output but the gradients.
  for (const auto &out : p.outputs) {
    if (out.name.rfind("grad:", 0) == 0)
      continue;
    for (size_t s = static_cast<size_t>(p.forwardDispatches); s < p.dispatches.size(); ++s) {
      const auto &d = p.dispatches[s];
      for (size_t i = d.bindings.size() - d.results; i < d.bindings.size(); ++i)
        EXPECT_NE(d.bindings[i], out.tensor) << out.name << " is written after the forward pass";
    }
  }
  if (c.train)
    EXPECT_LT(p.forwardDispatches, static_cast<int64_t>(p.dispatches.size()) / 2);
  EXPECT_EQ(lateReads, 0);
  EXPECT_EQ(rewrites, 0);
  // A training step overwrites every parameter and state word; inference none.
  int64_t overwritten = 0;
  for (int w : updated)
    overwritten += w >= 0;
  int64_t persistentWords = 0;
  for (const auto &param : p.parameters)
    persistentWords += p.tensors[param.tensor].bytes() / 4;
  for (const auto &st : p.state)
    persistentWords += p.tensors[st.tensor].bytes() / 4;
  EXPECT_EQ(overwritten, c.train ? persistentWords : 0);
  EXPECT_EQ(p.state.size(), c.train ? 2 * p.parameters.size() : 0);
  for (const auto &out : p.outputs)
    if (isActivation(out.tensor))
      read(out.tensor, "at the end");
  EXPECT_EQ(clobbered, 0);
  std::printf("%s %s%s: arena of %lld bytes\n", c.preset, c.task, c.train ? " (train)" : "",
              static_cast<long long>(p.activationBytes));
}

INSTANTIATE_TEST_SUITE_P(Bert, BufferPlan,
                         ::testing::Values(PlanCase{"tiny", "pretrain", false},
                                           PlanCase{"tiny", "infer", false},
                                           PlanCase{"mini", "classify", false},
                                           PlanCase{"tiny", "pretrain", true},
                                           PlanCase{"mini", "classify", true}));

} // namespace
