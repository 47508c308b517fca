//===- DistributeWorkgroups.cpp - The workgroup loop becomes the ids ------===//
#include "backends/common/Passes.h"
#include "backends/common/Strategy.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace bertc {

#define GEN_PASS_DEF_DISTRIBUTEWORKGROUPS
#include "backends/common/Passes.h.inc"

namespace {

/// Replaces the kernel's outermost scf.forall (on buffers now) by one of
/// its iterations: the one of workgroup (x, y, z). Returns the grid.
FailureOr<std::array<int64_t, 3>> distribute(func::FuncOp kernel) {
  std::array<int64_t, 3> grid = {1, 1, 1};
  if (auto fixed = kernel->getAttrOfType<DenseI64ArrayAttr>(kGridAttr)) {
    llvm::copy(fixed.asArrayRef(), grid.begin());
    return grid;
  }
  scf::ForallOp forall;
  for (Operation &op : kernel.getBody().front())
    if (auto f = dyn_cast<scf::ForallOp>(op)) {
      if (forall)
        return kernel.emitError("kernel has more than one workgroup loop");
      forall = f;
    }
  if (!forall)
    return grid;
  if (forall.getRank() > kGridDims)
    return forall.emitError("workgroup loop of rank ") << forall.getRank() << " > 3";
  std::optional<SmallVector<int64_t>> lbs = getConstantIntValues(forall.getMixedLowerBound());
  std::optional<SmallVector<int64_t>> ubs = getConstantIntValues(forall.getMixedUpperBound());
  std::optional<SmallVector<int64_t>> steps = getConstantIntValues(forall.getMixedStep());
  if (!lbs || !ubs || !steps)
    return forall.emitError("workgroup loop bounds must be static");
  IRRewriter rewriter(kernel.getContext());
  rewriter.setInsertionPoint(forall);
  Location loc = forall.getLoc();
  unsigned numArgs = kernel.getNumArguments();
  SmallVector<Value> ivs;
  for (int64_t i = 0; i < forall.getRank(); ++i) {
    grid[i] = ((*ubs)[i] - (*lbs)[i] + (*steps)[i] - 1) / (*steps)[i];
    Value wg = kernel.getArgument(numArgs - kGridDims + i);
    AffineExpr d0 = rewriter.getAffineDimExpr(0);
    ivs.push_back(rewriter.create<affine::AffineApplyOp>(
        loc, AffineMap::get(1, 0, d0 * (*steps)[i] + (*lbs)[i]), ValueRange{wg}));
  }
  Block *body = forall.getBody();
  rewriter.eraseOp(body->getTerminator());
  rewriter.inlineBlockBefore(body, forall, ivs);
  rewriter.eraseOp(forall);
  return grid;
}

struct DistributeWorkgroups : impl::DistributeWorkgroupsBase<DistributeWorkgroups> {
  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    FailureOr<std::array<int64_t, 3>> grid = distribute(kernel);
    if (failed(grid))
      return signalPassFailure();
    kernel->setAttr(kGridAttr, Builder(kernel.getContext()).getDenseI64ArrayAttr(*grid));
  }
};

} // namespace

} // namespace bertc
