//===- KernelKinds.cpp - The kind of work of each kernel ------------------===//
#include "passes/KernelKinds.h"
#include "passes/MatmulOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"

using namespace mlir;

namespace bertc {

namespace {
constexpr llvm::StringLiteral kPrefix = "kind:";
} // namespace

llvm::ArrayRef<llvm::StringRef> kernelKinds() {
  static const llvm::StringRef kinds[] = {"attention", "matmul",    "loss",       "layernorm",
                                          "softmax",   "optimizer", "elementwise"};
  return kinds;
}

Location withKernelKind(Location loc, llvm::StringRef kind) {
  return NameLoc::get(StringAttr::get(loc.getContext(), kPrefix + kind), withoutKernelKind(loc));
}

Location withoutKernelKind(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc); name && name.getName().strref().starts_with(kPrefix))
    return name.getChildLoc();
  return loc;
}

llvm::StringRef kernelKindOf(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc); name && name.getName().strref().starts_with(kPrefix))
    return name.getName().strref().drop_front(kPrefix.size());
  // Canonicalization and CSE fuse the locations of the ops they merge.
  if (auto fused = dyn_cast<FusedLoc>(loc)) {
    llvm::StringRef best = "elementwise";
    for (Location inner : fused.getLocations()) {
      llvm::StringRef k = kernelKindOf(inner);
      if (llvm::find(kernelKinds(), k) < llvm::find(kernelKinds(), best))
        best = k;
    }
    return best;
  }
  return "elementwise";
}

llvm::StringRef kernelKindOf(Region &region) {
  llvm::StringRef best = "elementwise";
  region.walk([&](Operation *op) {
    // The ops that compute: not constants, empty tensors or initial fills,
    // which CSE may have shared between ops of other kinds.
    bool computes = (isa<linalg::LinalgOp>(op) && !isa<linalg::FillOp>(op)) || isa<scf::ForOp>(op);
    if (!computes)
      return;
    llvm::StringRef k = kernelKindOf(op->getLoc());
    // A matmul's lowering also moves data (a transposed operand): only the
    // product itself is matmul work.
    if (k == "matmul" && !isMatmul(op))
      k = "elementwise";
    if (llvm::find(kernelKinds(), k) < llvm::find(kernelKinds(), best))
      best = k;
  });
  return best;
}

} // namespace bertc
