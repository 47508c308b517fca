//===- FormAttention.cpp - One graph.attention per attention subgraph -----===//
#include "passes/KernelKinds.h"
#include "passes/Passes.h"

#include "dialects/graph/GraphOps.h"

namespace bertc {
#define GEN_PASS_DEF_FORMATTENTION
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

/// The op defining `v` if it is an `OpTy` whose result has no other use.
template <typename OpTy> OpTy soleDef(Value v) {
  auto op = v.getDefiningOp<OpTy>();
  return op && op->getResult(0).hasOneUse() ? op : OpTy();
}

/// The ops of one attention, from the product with `v` back to the scores.
struct Match {
  gr::MatmulOp scores; ///< q k^T
  gr::ScaleOp scale;   ///< optional
  gr::AddOp biased;    ///< + bias
  gr::SoftmaxOp softmax;
  gr::DropoutOp dropout; ///< optional
  gr::MatmulOp product;  ///< probabilities x v
  Value bias;
};

std::optional<Match> match(gr::MatmulOp product) {
  Match m;
  m.product = product;
  if (product.getTransposeA() || product.getTransposeB())
    return std::nullopt;
  Value probs = product.getA();
  if ((m.dropout = soleDef<gr::DropoutOp>(probs)))
    probs = m.dropout.getX();
  m.softmax = soleDef<gr::SoftmaxOp>(probs);
  if (!m.softmax)
    return std::nullopt;
  auto scoresType = cast<RankedTensorType>(m.softmax.getType());
  if (m.softmax.getAxis() != scoresType.getRank() - 1)
    return std::nullopt;
  m.biased = soleDef<gr::AddOp>(m.softmax.getX());
  if (!m.biased)
    return std::nullopt;
  // The scores on one side (scaled or not), the bias on the other; the bias
  // must not broadcast the scores to a larger shape.
  for (auto [scores, bias] : {std::pair(m.biased.getLhs(), m.biased.getRhs()),
                              std::pair(m.biased.getRhs(), m.biased.getLhs())}) {
    Value s = scores;
    m.scale = soleDef<gr::ScaleOp>(s);
    if (m.scale)
      s = m.scale.getX();
    m.scores = soleDef<gr::MatmulOp>(s);
    if (m.scores && !m.scores.getTransposeA() && m.scores.getTransposeB() &&
        m.scores.getType() == scoresType) {
      m.bias = bias;
      return m;
    }
  }
  return std::nullopt;
}

struct FormAttentionPass : bertc::impl::FormAttentionBase<FormAttentionPass> {
  void runOnOperation() override {
    SmallVector<gr::MatmulOp> products(getOperation().getBody().front().getOps<gr::MatmulOp>());
    for (gr::MatmulOp product : products) {
      std::optional<Match> m = match(product);
      if (!m)
        continue;
      OpBuilder b(product);
      Value q = m->scores.getA(), k = m->scores.getB(), v = product.getB();
      double scale = m->scale ? m->scale.getFactor().convertToDouble() : 1.0;
      double rate = m->dropout ? m->dropout.getRate().convertToDouble() : 0.0;
      int64_t site = m->dropout ? m->dropout.getSite() : 0;
      ValueRange key = m->dropout ? m->dropout.getKey() : ValueRange();
      // Shapes the attention does not take (such as rank-2 operands) stay
      // as they are.
      SmallVector<Value> operands = {q, k, v, m->bias};
      llvm::append_range(operands, key);
      NamedAttrList attrs;
      attrs.append("scale", b.getF64FloatAttr(scale));
      attrs.append("rate", b.getF64FloatAttr(rate));
      attrs.append("site", b.getI64IntegerAttr(site));
      SmallVector<Type, 1> types;
      if (failed(gr::AttentionOp::inferReturnTypes(
              b.getContext(), std::nullopt, operands, attrs.getDictionary(b.getContext()),
              OpaqueProperties(nullptr), RegionRange(), types)) ||
          types.front() != product.getType())
        continue;
      Location loc = bertc::withKernelKind(bertc::withoutKernelKind(product.getLoc()),
                                           bertc::contract::KernelKind::Attention);
      auto attention = b.create<gr::AttentionOp>(loc, types, operands, attrs.getAttrs());
      product.replaceAllUsesWith(attention.getResult());
      // From the consumer back to the scores, each op's last use gone.
      SmallVector<Operation *> chain = {product,   m->dropout, m->softmax,
                                        m->biased, m->scale,   m->scores};
      for (Operation *op : chain)
        if (op)
          op->erase();
    }
  }
};

} // namespace
