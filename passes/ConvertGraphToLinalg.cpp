//===- ConvertGraphToLinalg.cpp - Graph ops to linalg on tensors ----------===//
//
// One pattern per graph op, in passes/lowering/ by op family. Elementwise
// ops become linalg.generic with numpy broadcasting in their indexing
// maps; reductions (softmax, layer norm, cross-entropy, sum, mean) become a
// few generics each; matmuls become linalg.matmul / batch_matmul after
// collapsing shared batch axes (transposed operands read in place by their
// *_transpose_a and *_transpose_b forms); reshapes become collapse/expand
// views. An attention and an embedding gradient stay, and a cross-entropy
// with its gradient becomes a count, graph.cross_entropy_rows and a mean: those three ops are
// kernels of their own that the back end lowers once its strategy has chosen their blocks
// (bertc-lower-kernel-ops).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/lowering/Lowering.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace bertc {

#define GEN_PASS_DEF_CONVERTGRAPHTOLINALG
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;
namespace gr = bertc::graph;

struct ConvertGraphToLinalgPass : impl::ConvertGraphToLinalgBase<ConvertGraphToLinalgPass> {
  using ConvertGraphToLinalgBase::ConvertGraphToLinalgBase;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    lowering::populateElementwisePatterns(patterns);
    lowering::populateReductionPatterns(patterns);
    lowering::populateMatmulPatterns(patterns);
    lowering::populateDataMovementPatterns(patterns);
    lowering::populateLossPatterns(patterns);
    lowering::populateOptimizerPatterns(patterns);
    ConversionTarget target(*ctx);
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect, math::MathDialect,
                           scf::SCFDialect, tensor::TensorDialect>();
    // Ops the back ends lower in their kernels stay.
    target.addDynamicallyLegalDialect<gr::GraphDialect>(
        [](Operation *op) { return op->hasTrait<gr::OpTrait::LoweredInKernel>(); });
    target.addLegalOp<gr::ParameterOp, gr::InputOp, gr::OutputOp, gr::ConstantOp, gr::StateOp,
                      gr::ParameterCopyOp, gr::AssignOp>();
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      return signalPassFailure();
    // Constants were folded into the elementwise ops that used them; those
    // still used (by a reshape, say) become filled tensors.
    getOperation().walk([](gr::ConstantOp c) {
      if (!c->use_empty()) {
        OpBuilder b(c);
        auto type = cast<RankedTensorType>(c.getType());
        c.replaceAllUsesWith(lowering::filled(b, c.getLoc(), type, c.getValue().convertToDouble()));
      }
      c->erase();
    });
  }
};

} // namespace

} // namespace bertc
