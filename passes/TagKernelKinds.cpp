//===- TagKernelKinds.cpp - Record each op's kind of work in its location -===//
#include "passes/KernelKinds.h"
#include "passes/Passes.h"

#include "dialects/graph/GraphOps.h"

namespace bertc {
#define GEN_PASS_DEF_TAGKERNELKINDS
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;

namespace {

struct TagKernelKindsPass : bertc::impl::TagKernelKindsBase<TagKernelKindsPass> {
  void runOnOperation() override {
    getOperation().walk([](bertc::graph::KernelKindOp op) {
      op->setLoc(bertc::withKernelKind(op->getLoc(), op.getKernelKind()));
    });
  }
};

} // namespace
