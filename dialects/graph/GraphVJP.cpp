//===- GraphVJP.cpp - Vector-Jacobian products of graph ops ---------------===//
//
// Each differentiable op builds the gradients of its operands from the
// gradients of its results, out of graph ops. Broadcasting ops sum their
// gradients back to each operand's shape.
//
//===----------------------------------------------------------------------===//
#include "dialects/graph/GraphOps.h"

#include "mlir/IR/Builders.h"

#include <numeric>

using namespace mlir;
using namespace bertc::graph;

namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Creates `OpTy` with its inferred result type (defaults filled in).
template <typename OpTy>
Value make(OpBuilder &b, Location loc, ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
  MLIRContext *ctx = b.getContext();
  NamedAttrList list(attrs);
  OpTy::populateDefaultAttrs(OperationName(OpTy::getOperationName(), ctx), list);
  SmallVector<Type, 1> types;
  if (failed(OpTy::inferReturnTypes(ctx, loc, operands, list.getDictionary(ctx),
                                    OpaqueProperties(nullptr), RegionRange(), types)))
    return nullptr;
  return b.create<OpTy>(loc, types, operands, list.getAttrs())->getResult(0);
}

Value scalar(OpBuilder &b, Location loc, Type element, double v) {
  return b.create<ConstantOp>(loc, RankedTensorType::get({}, element), b.getF64FloatAttr(v));
}

Value scaled(OpBuilder &b, Location loc, Value x, double factor) {
  return make<ScaleOp>(b, loc, x, {b.getNamedAttr("factor", b.getF64FloatAttr(factor))});
}

Value reshaped(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> shape) {
  if (typeOf(x).getShape() == shape)
    return x;
  return make<ReshapeOp>(b, loc, x, {b.getNamedAttr("shape", b.getDenseI64ArrayAttr(shape))});
}

/// Sums `grad` (shaped like a broadcast result) back to `target`'s shape.
Value unbroadcast(OpBuilder &b, Location loc, Value grad, Type target) {
  RankedTensorType g = typeOf(grad), t = cast<RankedTensorType>(target);
  if (g == t)
    return grad;
  int64_t lead = g.getRank() - t.getRank();
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < g.getRank(); ++i)
    if (i < lead || (t.getDimSize(i - lead) == 1 && g.getDimSize(i) != 1))
      axes.push_back(i);
  Value summed = axes.empty() ? grad
                              : make<SumOp>(b, loc, grad,
                                            {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes))});
  return reshaped(b, loc, summed, t.getShape());
}

/// `grad` of a reduction over `axes` (all when empty), spread back over `x`.
Value spread(OpBuilder &b, Location loc, Value grad, Value x, ArrayRef<int64_t> axes) {
  RankedTensorType xt = typeOf(x);
  SmallVector<int64_t> kept(xt.getShape());
  for (int64_t i = 0; i < xt.getRank(); ++i)
    if (axes.empty() || llvm::is_contained(axes, i))
      kept[i] = 1;
  Value g = reshaped(b, loc, grad, kept);
  return make<BroadcastOp>(b, loc, g,
                           {b.getNamedAttr("shape", b.getDenseI64ArrayAttr(xt.getShape()))});
}

NamedAttribute flag(OpBuilder &b, StringRef name, bool v) {
  return b.getNamedAttr(name, b.getBoolAttr(v));
}

} // namespace

LogicalResult AddOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  Value g = grads[0];
  out.assign({unbroadcast(b, getLoc(), g, getLhs().getType()),
              unbroadcast(b, getLoc(), g, getRhs().getType())});
  return success();
}

LogicalResult SubOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  Value g = grads[0];
  out.assign({unbroadcast(b, getLoc(), g, getLhs().getType()),
              unbroadcast(b, getLoc(), scaled(b, getLoc(), g, -1.0), getRhs().getType())});
  return success();
}

LogicalResult MulOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value g = grads[0];
  out.assign({unbroadcast(b, loc, make<MulOp>(b, loc, {g, getRhs()}), getLhs().getType()),
              unbroadcast(b, loc, make<MulOp>(b, loc, {g, getLhs()}), getRhs().getType())});
  return success();
}

LogicalResult DivOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value g = grads[0];
  // d(l/r)/dl = 1/r, d(l/r)/dr = -l/r^2.
  Value dl = make<DivOp>(b, loc, {g, getRhs()});
  Value r2 = make<MulOp>(b, loc, {getRhs(), getRhs()});
  Value dr = scaled(b, loc, make<DivOp>(b, loc, {make<MulOp>(b, loc, {g, getLhs()}), r2}), -1.0);
  out.assign(
      {unbroadcast(b, loc, dl, getLhs().getType()), unbroadcast(b, loc, dr, getRhs().getType())});
  return success();
}

LogicalResult ScaleOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  out.assign({scaled(b, getLoc(), grads[0], getFactor().convertToDouble())});
  return success();
}

LogicalResult TanhOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  // tanh' = 1 - tanh^2, from the result.
  Value y = getResult();
  Value one = scalar(b, loc, typeOf(y).getElementType(), 1.0);
  Value d = make<SubOp>(b, loc, {one, make<MulOp>(b, loc, {y, y})});
  out.assign({make<MulOp>(b, loc, {grads[0], d})});
  return success();
}

LogicalResult GeluOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  out.assign({make<GeluGradOp>(b, getLoc(), {getX(), grads[0]},
                               {b.getNamedAttr("approximate", getApproximateAttr())})});
  return success();
}

LogicalResult SoftmaxOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  // dx = y * (g - sum(g * y, axis)).
  Value y = getResult(), g = grads[0];
  int64_t axis = getAxis();
  Value gy = make<MulOp>(b, loc, {g, y});
  Value s = make<SumOp>(b, loc, gy, {b.getNamedAttr("axes", b.getDenseI64ArrayAttr({axis}))});
  SmallVector<int64_t> kept(typeOf(y).getShape());
  kept[axis] = 1;
  Value centered = make<SubOp>(b, loc, {g, reshaped(b, loc, s, kept)});
  out.assign({make<MulOp>(b, loc, {y, centered})});
  return success();
}

LogicalResult ReshapeOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  out.assign({reshaped(b, getLoc(), grads[0], typeOf(getX()).getShape())});
  return success();
}

LogicalResult TransposeOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  ArrayRef<int64_t> perm = getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = static_cast<int64_t>(i);
  out.assign({make<TransposeOp>(b, getLoc(), grads[0],
                                {b.getNamedAttr("perm", b.getDenseI64ArrayAttr(inverse))})});
  return success();
}

LogicalResult SumOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  out.assign({spread(b, getLoc(), grads[0], getX(), getAxes())});
  return success();
}

LogicalResult MeanOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  RankedTensorType xt = typeOf(getX());
  double count = 1;
  for (int64_t i = 0; i < xt.getRank(); ++i)
    if (getAxes().empty() || llvm::is_contained(getAxes(), i))
      count *= xt.getDimSize(i);
  out.assign({scaled(b, getLoc(), spread(b, getLoc(), grads[0], getX(), getAxes()), 1.0 / count)});
  return success();
}

/// C = op(A) op(B) with op a transpose of the last two axes when flagged:
///   dA = g op(B)^T (transposed back when A is), dB = op(A)^T g (likewise).
/// A weight shared by every batch (B of rank 2) gets the sum over batches,
/// as one matmul of the flattened rows.
LogicalResult MatmulOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value g = grads[0], a = getA(), bm = getB();
  bool ta = getTransposeA(), tb = getTransposeB();
  Value da = ta ? make<MatmulOp>(b, loc, {bm, g},
                                 {flag(b, "transpose_a", tb), flag(b, "transpose_b", true)})
                : make<MatmulOp>(b, loc, {g, bm},
                                 {flag(b, "transpose_a", false), flag(b, "transpose_b", !tb)});
  Value ga = g, aa = a;
  RankedTensorType at = typeOf(a), gt = typeOf(g);
  if (typeOf(bm).getRank() == 2 && at.getRank() > 2) {
    if (ta)
      return emitOpError("gradient of a shared-weight matmul with transpose_a is not supported");
    int64_t rows = at.getNumElements() / at.getShape().back();
    aa = reshaped(b, loc, a, {rows, at.getShape().back()});
    ga = reshaped(b, loc, g, {rows, gt.getShape().back()});
  }
  Value db = tb ? make<MatmulOp>(b, loc, {ga, aa},
                                 {flag(b, "transpose_a", true), flag(b, "transpose_b", ta)})
                : make<MatmulOp>(b, loc, {aa, ga},
                                 {flag(b, "transpose_a", !ta), flag(b, "transpose_b", false)});
  if (!da || !db)
    return emitOpError("cannot build the gradient");
  out.assign({da, db});
  return success();
}

/// The gradient goes through the same mask: dropout of the gradient at the
/// forward's site and key drops the same elements and scales the others alike.
LogicalResult DropoutOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  if (getKey().empty()) {
    out.assign({grads[0]});
    return success();
  }
  Value g = b.create<DropoutOp>(getLoc(), grads[0].getType(), grads[0], getRateAttr(),
                                getSiteAttr(), getKey());
  out.assign({g});
  out.append(getKey().size(), Value());
  return success();
}

/// The probabilities P are recomputed from q and k, not kept from the
/// forward pass. With O the result, g its gradient and Pd the dropped
/// probabilities:
///   dV = Pd^T g,  dP = dropout(g V^T),  D = rowsum(g * O) (= rowsum(P * dP)),
///   dZ = P * (dP - D) (the logits' gradient; the bias's sums it back),
///   dQ = scale dZ K,  dK = scale dZ^T Q.
/// dP and dZ are elementwise on the product g V^T: its epilogue once fused.
LogicalResult AttentionOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value g = grads[0], q = getQ(), k = getK(), v = getV();
  RankedTensorType ot = typeOf(getResult());
  int64_t rank = ot.getRank();
  double scale = getScale().convertToDouble();
  auto matmul = [&](Value x, Value y, bool ta, bool tb) {
    return make<MatmulOp>(b, loc, {x, y}, {flag(b, "transpose_a", ta), flag(b, "transpose_b", tb)});
  };
  auto dropout = [&](Value x) -> Value {
    if (getKey().empty())
      return x;
    return b.create<DropoutOp>(loc, x.getType(), x, getRateAttr(), getSiteAttr(), getKey());
  };
  Value logits = make<AddOp>(b, loc, {scaled(b, loc, matmul(q, k, false, true), scale), getBias()});
  Value probs = make<SoftmaxOp>(b, loc, logits,
                                {b.getNamedAttr("axis", b.getI64IntegerAttr(rank - 1))});
  Value dv = matmul(dropout(probs), g, true, false);
  Value dprobs = dropout(matmul(g, v, false, true));
  SmallVector<int64_t> rows(ot.getShape());
  rows.back() = 1;
  Value d = reshaped(b, loc,
                     make<SumOp>(b, loc, make<MulOp>(b, loc, {g, getResult()}),
                                 {b.getNamedAttr("axes", b.getDenseI64ArrayAttr({rank - 1}))}),
                     rows);
  Value dlogits = make<MulOp>(b, loc, {probs, make<SubOp>(b, loc, {dprobs, d})});
  Value dscores = scaled(b, loc, dlogits, scale);
  Value dq = matmul(dscores, k, false, false);
  Value dk = matmul(dscores, q, true, false);
  if (!dq || !dk || !dv)
    return emitOpError("cannot build the gradient");
  out.assign({dq, dk, dv, unbroadcast(b, loc, dlogits, getBias().getType())});
  out.append(getKey().size(), Value());
  return success();
}

/// dx from graph.layer_norm_grad; dweight = sum over rows of g * x_hat,
/// dbias = sum over rows of g, with x_hat the normalisation without affine.
LogicalResult LayerNormOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value g = grads[0];
  RankedTensorType xt = typeOf(getX());
  Type element = xt.getElementType();
  int64_t h = xt.getShape().back();
  auto filledRow = [&](double v) {
    return make<BroadcastOp>(b, loc, scalar(b, loc, element, v),
                             {b.getNamedAttr("shape", b.getDenseI64ArrayAttr({h}))});
  };
  NamedAttribute eps = b.getNamedAttr("eps", getEpsAttr());
  Value xhat = make<LayerNormOp>(b, loc, {getX(), filledRow(1.0), filledRow(0.0)}, {eps});
  SmallVector<int64_t> rows(xt.getRank() - 1);
  std::iota(rows.begin(), rows.end(), 0);
  auto sumRows = [&](Value v) {
    return make<SumOp>(b, loc, v, {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(rows))});
  };
  Value dx = make<LayerNormGradOp>(b, loc, {getX(), getWeight(), g}, {eps});
  out.assign({dx, sumRows(make<MulOp>(b, loc, {g, xhat})), sumRows(g)});
  return success();
}

LogicalResult CrossEntropyOp::buildVJP(OpBuilder &b, ValueRange grads,
                                       SmallVectorImpl<Value> &out) {
  SmallVector<Value> operands = {getLogits(), getLabels(), grads[0]};
  if (Value count = getCount())
    operands.push_back(count);
  Value dlogits = make<CrossEntropyGradOp>(b, getLoc(), operands,
                                           {b.getNamedAttr("ignore_index", getIgnoreIndexAttr())});
  out.assign({dlogits, Value()});
  if (getCount())
    out.push_back(Value()); // The count is an input, not differentiated.
  return success();
}

LogicalResult SliceOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  out.assign({make<SliceGradOp>(
      b, getLoc(), grads[0],
      {b.getNamedAttr("axis", getAxisAttr()), b.getNamedAttr("start", getStartAttr()),
       b.getNamedAttr("size", b.getI64IntegerAttr(typeOf(getX()).getDimSize(getAxis())))})});
  return success();
}

/// select = slice of one index without the axis: put the axis back, then
/// as slice.
LogicalResult SelectOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  int64_t axis = getAxis();
  SmallVector<int64_t> kept(typeOf(getX()).getShape());
  kept[axis] = 1;
  Value g = reshaped(b, getLoc(), grads[0], kept);
  out.assign({make<SliceGradOp>(
      b, getLoc(), g,
      {b.getNamedAttr("axis", getAxisAttr()), b.getNamedAttr("start", getIndexAttr()),
       b.getNamedAttr("size", b.getI64IntegerAttr(typeOf(getX()).getDimSize(axis)))})});
  return success();
}

LogicalResult GatherOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  Value dx = make<GatherGradOp>(
      b, getLoc(), {getIndices(), grads[0]},
      {b.getNamedAttr("axis", getAxisAttr()),
       b.getNamedAttr("size", b.getI64IntegerAttr(typeOf(getX()).getDimSize(getAxis())))});
  out.assign({dx, Value()});
  return success();
}

LogicalResult EmbeddingOp::buildVJP(OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  Value dtable = make<EmbeddingGradOp>(
      b, getLoc(), {getIds(), grads[0]},
      {b.getNamedAttr("rows", b.getI64IntegerAttr(typeOf(getTable()).getDimSize(0)))});
  out.assign({dtable, Value()});
  return success();
}
