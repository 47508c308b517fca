//===- ProgramTest.cpp - The program builder's steps, each alone ----------===//
//
// The buffer plan on hand-made lifetimes, the kernel table on dispatch
// regions parsed from IR (structurally equivalent bodies share a kernel,
// others do not), and the runtime's CPU feature detection against LLVM's.
//
//===----------------------------------------------------------------------===//
#include "dialects/graph/GraphDialect.h"
#include "dialects/graph/GraphOps.h"
#include "passes/program/BufferPlan.h"
#include "passes/program/BuildProgram.h"
#include "passes/program/KernelTable.h"
#include "runtime/CpuFeatures.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/TargetParser/Host.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace {

using bertc::BufferLifetime;

std::vector<bertc::rt::TensorDesc> tensors(size_t n) {
  return std::vector<bertc::rt::TensorDesc>(n);
}

TEST(BufferPlan, OverlappingLifetimesGetDisjointRanges) {
  std::vector<BufferLifetime> buffers = {{100, 0, 2, {0}}, {200, 1, 3, {1}}, {50, 2, 2, {2}}};
  auto t = tensors(3);
  int64_t peak = bertc::planArena(buffers, t);
  // Largest first: 200 at 0, 100 after it (aligned), 50 after both.
  EXPECT_EQ(t[1].offset, 0);
  EXPECT_EQ(t[0].offset, 256);
  EXPECT_EQ(t[2].offset, 384);
  EXPECT_EQ(peak, 448);
}

TEST(BufferPlan, DisjointLifetimesShareBytes) {
  std::vector<BufferLifetime> buffers = {{128, -1, 0, {0}}, {128, 1, 2, {1}}, {64, 3, 4, {2}}};
  auto t = tensors(3);
  EXPECT_EQ(bertc::planArena(buffers, t), 128);
  EXPECT_EQ(t[0].offset, 0);
  EXPECT_EQ(t[1].offset, 0);
  EXPECT_EQ(t[2].offset, 0);
}

TEST(BufferPlan, ViewsShareTheirBufferAndInPlaceBuffersTakeNone) {
  std::vector<BufferLifetime> buffers = {{64, 0, 1, {0}}, {64, 0, 1, {1, 2}}, {4096, 0, 1, {3}}};
  buffers[2].inPlace = true;
  auto t = tensors(4);
  t[3].offset = 12345; // a parameter's offset, kept
  EXPECT_EQ(bertc::planArena(buffers, t), 128);
  EXPECT_EQ(t[1].offset, t[2].offset);
  EXPECT_NE(t[0].offset, t[1].offset);
  EXPECT_EQ(t[3].offset, 12345);
}

TEST(BufferPlan, BuffersStartAligned) {
  std::vector<BufferLifetime> buffers = {{10, 0, 1, {0}}, {10, 0, 1, {1}}, {10, 0, 1, {2}}};
  auto t = tensors(3);
  EXPECT_EQ(bertc::planArena(buffers, t), 3 * bertc::kBufferAlignment);
  for (const auto &d : t)
    EXPECT_EQ(d.offset % bertc::kBufferAlignment, 0);
}

/// Three dispatches: the first two the same tanh (other value names, other
/// locations), the third a different op.
constexpr const char *kDispatches = R"mlir(
func.func @f() {
  %x = graph.input "x" : tensor<8xf32>
  %a = graph.dispatch(%x) : (tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%in: tensor<8xf32>):
    %e = tensor.empty() : tensor<8xf32>
    %t = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%in : tensor<8xf32>) outs(%e : tensor<8xf32>) {
    ^bb0(%i: f32, %o: f32):
      %r = math.tanh %i : f32
      linalg.yield %r : f32
    } -> tensor<8xf32> loc("a.bertc":1:1)
    graph.yield %t : tensor<8xf32>
  }
  %b = graph.dispatch(%a) : (tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%arg: tensor<8xf32>):
    %empty = tensor.empty() : tensor<8xf32>
    %u = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%arg : tensor<8xf32>) outs(%empty : tensor<8xf32>) {
    ^bb0(%p: f32, %q: f32):
      %s = math.tanh %p : f32
      linalg.yield %s : f32
    } -> tensor<8xf32> loc("b.bertc":7:3)
    graph.yield %u : tensor<8xf32>
  }
  %c = graph.dispatch(%b) : (tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%in: tensor<8xf32>):
    %e = tensor.empty() : tensor<8xf32>
    %t = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%in : tensor<8xf32>) outs(%e : tensor<8xf32>) {
    ^bb0(%i: f32, %o: f32):
      %r = math.exp %i : f32
      linalg.yield %r : f32
    } -> tensor<8xf32>
    graph.yield %t : tensor<8xf32>
  }
  graph.output "y" %c : tensor<8xf32>
  return
}
)mlir";

class KernelTableTest : public ::testing::Test {
protected:
  void SetUp() override {
    ctx.loadDialect<bertc::graph::GraphDialect, mlir::arith::ArithDialect, mlir::func::FuncDialect,
                    mlir::linalg::LinalgDialect, mlir::math::MathDialect,
                    mlir::tensor::TensorDialect>();
    module = mlir::parseSourceString<mlir::ModuleOp>(kDispatches, &ctx);
    ASSERT_TRUE(module);
    fn = *module->getOps<mlir::func::FuncOp>().begin();
  }
  mlir::MLIRContext ctx;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp fn;
};

TEST_F(KernelTableTest, EquivalentBodiesShareAKernel) {
  mlir::OwningOpRef<mlir::ModuleOp> kernels = mlir::ModuleOp::create(mlir::UnknownLoc::get(&ctx));
  bertc::KernelTable table(*kernels);
  std::vector<int> ids;
  for (auto d : fn.getOps<bertc::graph::DispatchOp>())
    ids.push_back(table.kernelFor(d));
  EXPECT_EQ(ids, (std::vector<int>{0, 0, 1}));
  EXPECT_EQ(table.names(), (std::vector<std::string>{"kernel_0", "kernel_1"}));
  EXPECT_EQ(table.kinds(), (std::vector<std::string>{"elementwise", "elementwise"}));
  auto outlined = kernels->getOps<mlir::func::FuncOp>();
  EXPECT_EQ(std::distance(outlined.begin(), outlined.end()), 2);
}

TEST_F(KernelTableTest, TheProgramDispatchesEachKernel) {
  mlir::FailureOr<bertc::ProgramPlan> plan = bertc::buildProgram(fn);
  ASSERT_TRUE(mlir::succeeded(plan));
  const bertc::rt::Program &p = plan->program;
  ASSERT_EQ(p.dispatches.size(), 3u);
  EXPECT_EQ(p.dispatches[0].kernel, 0);
  EXPECT_EQ(p.dispatches[1].kernel, 0);
  EXPECT_EQ(p.dispatches[2].kernel, 1);
  // x, a, b, c: a and c may share bytes (a is dead once b is computed).
  EXPECT_EQ(p.tensors.size(), 4u);
  EXPECT_EQ(p.inputs.size(), 1u);
  EXPECT_EQ(p.outputs.size(), 1u);
  EXPECT_EQ(p.forwardDispatches, 3);
}

// The runtime decodes CPUID itself (it has no LLVM): for every feature a
// program may require it must agree with LLVM's host detection, which
// `--cpu native` compiles for.
TEST(CpuFeatures, AgreeWithLlvmHostDetection) {
  llvm::StringMap<bool> llvmFeatures = llvm::sys::getHostCPUFeatures();
  if (llvmFeatures.empty())
    GTEST_SKIP() << "skipped: LLVM detects no host features";
  std::vector<std::string> host = bertc::rt::hostCpuFeatures();
  for (const bertc::rt::CpuFeature &f : bertc::rt::knownCpuFeatures()) {
    bool detected = std::find(host.begin(), host.end(), f.llvmName) != host.end();
    EXPECT_EQ(detected, llvmFeatures.lookup(f.llvmName)) << f.llvmName;
  }
}

} // namespace
