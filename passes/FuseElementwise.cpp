//===- FuseElementwise.cpp - Elementwise producer-consumer fusion ---------===//
#include "passes/MatmulOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace bertc {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;

namespace {

/// The buffers a kernel of `ops` would bind: the distinct tensors they
/// read, but for `fused` and values made inside a kernel (empty tensors,
/// constants), and the results of the last.
unsigned bindingsAfterFusion(OpOperand *fused) {
  Operation *consumer = fused->getOwner();
  Operation *producer = fused->get().getDefiningOp();
  llvm::SmallPtrSet<Value, 16> read;
  for (Operation *op : {consumer, producer})
    for (OpOperand &operand : op->getOpOperands()) {
      Operation *def = operand.get().getDefiningOp();
      if (&operand != fused &&
          !(def && (isa<tensor::EmptyOp>(def) || def->hasTrait<OpTrait::ConstantLike>())))
        read.insert(operand.get());
    }
  return read.size() + consumer->getNumResults();
}

/// True for a generic that only converts its one input to another float
/// type, elementwise in the same order (a graph.convert).
bool isConversion(linalg::GenericOp generic) {
  if (generic.getNumDpsInputs() != 1 || generic->getNumResults() != 1 ||
      !llvm::all_of(generic.getIndexingMapsArray(), [](AffineMap m) { return m.isIdentity(); }))
    return false;
  Block &body = generic.getRegion().front();
  return body.getOperations().size() == 2 &&
         isa<arith::TruncFOp, arith::ExtFOp>(body.front()) &&
         body.front().getOperand(0) == body.getArgument(0);
}

/// Makes the conversion `convert` of a result of an all-parallel generic
/// that others read too one more result of that generic: the producer
/// writes the converted value beside its own in the same pass (linalg's
/// fusion would compute the producer twice instead).
LogicalResult appendConversion(RewriterBase &rewriter, linalg::GenericOp convert) {
  // A producer working on a matmul's product shape is read through a view.
  Value input = convert.getDpsInputOperand(0)->get();
  auto expand = input.getDefiningOp<tensor::ExpandShapeOp>();
  if (expand)
    input = expand.getSrc();
  auto result = dyn_cast<OpResult>(input);
  auto producer = result ? dyn_cast<linalg::GenericOp>(result.getOwner()) : nullptr;
  if (!producer || producer.getNumReductionLoops() != 0 ||
      !producer.getMatchingIndexingMap(producer.getDpsInitOperand(result.getResultNumber()))
           .isIdentity())
    return failure();
  if (!convert.getDpsInitOperand(0)->get().getDefiningOp<tensor::EmptyOp>())
    return failure();
  Type element = getElementTypeOrSelf(convert->getResult(0).getType());
  auto convertedType = cast<RankedTensorType>(input.getType()).clone(element);
  rewriter.setInsertionPoint(producer);
  SmallVector<Value> inits(producer.getDpsInits());
  inits.push_back(rewriter.create<tensor::EmptyOp>(convert.getLoc(), convertedType, ValueRange{}));
  SmallVector<AffineMap> maps = producer.getIndexingMapsArray();
  maps.push_back(rewriter.getMultiDimIdentityMap(producer.getNumLoops()));
  SmallVector<Type> types(producer->getResultTypes());
  types.push_back(convertedType);
  auto fused = rewriter.create<linalg::GenericOp>(producer.getLoc(), types, producer.getDpsInputs(),
                                                  inits, maps, producer.getIteratorTypesArray());
  fused->setDiscardableAttrs(producer->getDiscardableAttrDictionary());
  Region &region = fused.getRegion();
  rewriter.inlineRegionBefore(producer.getRegion(), region, region.end());
  Block &body = region.front();
  body.addArgument(element, convert.getLoc());
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  rewriter.setInsertionPoint(yield);
  Operation &cast = convert.getRegion().front().front();
  IRMapping mapping;
  mapping.map(cast.getOperand(0), yield.getOperand(result.getResultNumber()));
  SmallVector<Value> yielded(yield.getOperands());
  yielded.push_back(rewriter.clone(cast, mapping)->getResult(0));
  rewriter.modifyOpInPlace(yield, [&] { yield->setOperands(yielded); });
  Value converted = fused->getResults().back();
  if (expand) {
    rewriter.setInsertionPoint(convert);
    converted = rewriter.create<tensor::ExpandShapeOp>(
        expand.getLoc(), convert->getResult(0).getType(), converted,
        expand.getReassociationIndices());
  }
  rewriter.replaceOp(convert, converted);
  rewriter.replaceOp(producer, fused->getResults().drop_back());
  return success();
}

struct FuseElementwisePass : bertc::impl::FuseElementwiseBase<FuseElementwisePass> {
  using FuseElementwiseBase::FuseElementwiseBase;

  void runOnOperation() override {
    // Only a result nobody else reads: fusing a shared one would recompute it
    // in every consumer. And no kernel binding more than maxBindings buffers.
    auto soleUse = [this](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse() &&
             (maxBindings == 0 || bindingsAfterFusion(fused) <= maxBindings);
    };
    // First the chains at their own shapes (a dense layer's bias, dropout
    // and residual add on [batch, seq, hidden] become one generic) ...
    RewritePatternSet chains(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(chains, soleUse);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(chains))))
      return signalPassFailure();
    // ... then a generic reading a matmul's product through a reshape (the
    // [batch*seq, hidden] product) works on the product's shape instead, so
    // that bertc-fuse-matmul-epilogues can put it in the matmul's kernel.
    RewritePatternSet reshapes(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(reshapes, soleUse);
    linalg::populateFoldReshapeOpsByCollapsingPatterns(reshapes, [](OpOperand *fused) {
      auto expand = fused->get().getDefiningOp<tensor::ExpandShapeOp>();
      return expand && bertc::isMatmul(expand.getSrc().getDefiningOp());
    });
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(reshapes))))
      return signalPassFailure();
    // Last, the conversions of values others read too (bf16 matmul
    // operands) join their producers.
    SmallVector<linalg::GenericOp> conversions;
    getOperation().walk([&](linalg::GenericOp g) {
      if (isConversion(g))
        conversions.push_back(g);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp convert : conversions)
      if (maxBindings == 0 || bindingsAfterFusion(convert.getDpsInputOperand(0)) <= maxBindings)
        (void)appendConversion(rewriter, convert);
  }
};

} // namespace
