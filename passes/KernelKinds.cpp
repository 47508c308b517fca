//===- KernelKinds.cpp - The kind of work of each kernel ------------------===//
#include "passes/KernelKinds.h"
#include "passes/MatmulOps.h"

#include "dialects/graph/GraphOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"

using namespace mlir;
using bertc::contract::KernelKind;

namespace bertc {

namespace {
constexpr llvm::StringLiteral kPrefix = "kind:";

/// The kind that ranks first (the enum is in rank order).
KernelKind first(KernelKind a, KernelKind b) { return a < b ? a : b; }
} // namespace

Location withKernelKind(Location loc, KernelKind kind) {
  std::string name = kPrefix.str() + std::string(contract::kernelKindName(kind));
  return NameLoc::get(StringAttr::get(loc.getContext(), name), withoutKernelKind(loc));
}

Location withoutKernelKind(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc); name && name.getName().strref().starts_with(kPrefix))
    return name.getChildLoc();
  return loc;
}

KernelKind kernelKindOf(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc); name && name.getName().strref().starts_with(kPrefix)) {
    llvm::StringRef tag = name.getName().strref().drop_front(kPrefix.size());
    return contract::kernelKindNamed({tag.data(), tag.size()}).value_or(KernelKind::Elementwise);
  }
  // Canonicalization and CSE fuse the locations of the ops they merge.
  KernelKind best = KernelKind::Elementwise;
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      best = first(best, kernelKindOf(inner));
  return best;
}

KernelKind kernelKindOf(Region &region) {
  KernelKind best = KernelKind::Elementwise;
  region.walk([&](Operation *op) {
    // The ops that compute: not constants, empty tensors or initial fills,
    // which CSE may have shared between ops of other kinds.
    bool computes = (isa<linalg::LinalgOp>(op) && !isa<linalg::FillOp>(op)) ||
                    op->hasTrait<graph::OpTrait::LoweredInKernel>();
    if (!computes)
      return;
    KernelKind k = kernelKindOf(op->getLoc());
    // A matmul's lowering also moves data (a transposed operand): only the
    // product itself is matmul work.
    if (k == KernelKind::Matmul && !isMatmul(op))
      k = KernelKind::Elementwise;
    best = first(best, k);
  });
  return best;
}

} // namespace bertc
