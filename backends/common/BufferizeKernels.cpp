//===- BufferizeKernels.cpp - Workgroup kernels over buffers --------------===//
#include "backends/common/Passes.h"
#include "backends/common/Strategy.h"

#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace bertc {

#define GEN_PASS_DEF_BUFFERIZEKERNELS
#include "backends/common/Passes.h.inc"

namespace {

/// Erases ops whose results nobody uses, such as the untiled producers left
/// behind by tiling, so that bufferization does not give them buffers.
void eraseDeadOps(func::FuncOp kernel) {
  for (bool changed = true; changed;) {
    SmallVector<Operation *> dead;
    kernel.walk([&](Operation *op) {
      if (isOpTriviallyDead(op))
        dead.push_back(op);
    });
    for (Operation *op : dead)
      op->erase();
    changed = !dead.empty();
  }
}

LogicalResult bufferize(func::FuncOp kernel) {
  Attribute scratchMemorySpace = kernel->getAttr(kScratchSpaceAttr);
  eraseDeadOps(kernel);
  IRRewriter rewriter(kernel.getContext());
  if (failed(bufferization::eliminateEmptyTensors(rewriter, kernel)))
    return kernel.emitError("empty tensor elimination failed");
  bufferization::OneShotBufferizationOptions options;
  options.bufferizeFunctionBoundaries = false;
  if (scratchMemorySpace)
    options.defaultMemorySpaceFn = [=](TensorType) -> std::optional<Attribute> {
      return scratchMemorySpace;
    };
  options.unknownTypeConverterFn = [](Value v, Attribute memorySpace,
                                      const bufferization::BufferizationOptions &) {
    return bufferization::getMemRefTypeWithStaticIdentityLayout(cast<TensorType>(v.getType()),
                                                                memorySpace);
  };
  // Copies stay linalg ops, lowered to loops like any other.
  options.memCpyFn = [](OpBuilder &b, Location loc, Value from, Value to) {
    b.create<linalg::CopyOp>(loc, from, to);
    return success();
  };
  // A kernel's scratch space lives on its stack: kernels allocate nothing.
  // Static scratch buffers are placed once at the kernel's entry, not in the
  // loops that use them, so the stack does not grow with the trip count.
  options.allocationFn = [](OpBuilder &b, Location loc, MemRefType type, ValueRange dynamic,
                            unsigned alignment) -> FailureOr<Value> {
    OpBuilder::InsertionGuard guard(b);
    if (dynamic.empty()) {
      auto fn = b.getInsertionBlock()->getParent()->getParentOfType<func::FuncOp>();
      b.setInsertionPointToStart(&fn.getBody().front());
    }
    return b.create<memref::AllocaOp>(loc, type, dynamic, b.getI64IntegerAttr(alignment))
        .getResult();
  };
  if (failed(bufferization::runOneShotBufferize(kernel, options)))
    return kernel.emitError("bufferization failed");
  return success();
}

struct BufferizeKernels : impl::BufferizeKernelsBase<BufferizeKernels> {
  void runOnOperation() override {
    if (failed(bufferize(getOperation())))
      signalPassFailure();
  }
};

} // namespace

} // namespace bertc
