//===- GraphOps.cpp - Shape inference and verifiers of graph ops ----------===//
//
// Each op infers its result type from its operands and attributes; the same
// function is the op's verifier (InferTypeOpInterface checks the stored type
// against it) and the front end's shape checker. Messages spell shapes the
// way the model language does, e.g. `f32[8, 128, 256]`.
//
//===----------------------------------------------------------------------===//
#include "dialects/graph/GraphOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace bertc::graph;

#include "dialects/graph/GraphEnums.cpp.inc"
#include "dialects/graph/GraphInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "dialects/graph/GraphOps.cpp.inc"

std::string bertc::graph::formatType(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor) {
    os << type;
    return s;
  }
  os << tensor.getElementType() << "[";
  llvm::interleave(
      tensor.getShape(), os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      ", ");
  os << "]";
  return s;
}

namespace {

/// The operand's type as a statically shaped tensor, or an error.
FailureOr<RankedTensorType> staticTensor(std::optional<Location> loc, Value v, StringRef op,
                                         StringRef what) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape()) {
    (void)emitOptionalError(loc, op, ": ", what, " must be a tensor of static shape, got ",
                            formatType(v.getType()));
    return failure();
  }
  return t;
}

LogicalResult sameElementType(std::optional<Location> loc, StringRef op, RankedTensorType a,
                              RankedTensorType b) {
  if (a.getElementType() == b.getElementType())
    return success();
  return emitOptionalError(loc, op, ": element types differ: ", formatType(a), " and ",
                           formatType(b));
}

LogicalResult checkAxis(std::optional<Location> loc, StringRef op, int64_t axis,
                        RankedTensorType t) {
  if (axis >= 0 && axis < t.getRank())
    return success();
  return emitOptionalError(loc, op, ": axis ", axis, " is out of range for ", formatType(t),
                           " (rank ", t.getRank(), ")");
}

/// Numpy broadcasting of two shapes.
LogicalResult inferBroadcast(std::optional<Location> loc, StringRef op, Value lhs, Value rhs,
                             SmallVectorImpl<Type> &types) {
  auto a = staticTensor(loc, lhs, op, "lhs");
  auto b = staticTensor(loc, rhs, op, "rhs");
  if (failed(a) || failed(b) || failed(sameElementType(loc, op, *a, *b)))
    return failure();
  ArrayRef<int64_t> sa = a->getShape(), sb = b->getShape();
  size_t rank = std::max(sa.size(), sb.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - sa.size() ? 1 : sa[i - (rank - sa.size())];
    int64_t db = i < rank - sb.size() ? 1 : sb[i - (rank - sb.size())];
    if (da != db && da != 1 && db != 1)
      return emitOptionalError(loc, op, ": shapes ", formatType(*a), " and ", formatType(*b),
                               " cannot be broadcast (axis ", i, " of the result: ", da, " vs ", db,
                               ")");
    out[i] = da == 1 ? db : da;
  }
  types.push_back(RankedTensorType::get(out, a->getElementType()));
  return success();
}

/// Result type equal to the operand's, after checking it is static.
LogicalResult inferSame(std::optional<Location> loc, StringRef op, Value x,
                        SmallVectorImpl<Type> &types) {
  auto t = staticTensor(loc, x, op, "operand");
  if (failed(t))
    return failure();
  types.push_back(*t);
  return success();
}

LogicalResult inferReduce(std::optional<Location> loc, StringRef op, Value x,
                          ArrayRef<int64_t> axes, SmallVectorImpl<Type> &types) {
  auto t = staticTensor(loc, x, op, "operand");
  if (failed(t))
    return failure();
  SmallVector<bool> reduced(t->getRank(), axes.empty());
  for (int64_t axis : axes) {
    if (failed(checkAxis(loc, op, axis, *t)))
      return failure();
    if (reduced[axis])
      return emitOptionalError(loc, op, ": axis ", axis, " is listed twice");
    reduced[axis] = true;
  }
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < t->getRank(); ++i)
    if (!reduced[i])
      out.push_back(t->getDimSize(i));
  types.push_back(RankedTensorType::get(out, t->getElementType()));
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Boundary ops
//===----------------------------------------------------------------------===//

LogicalResult ParameterOp::verify() {
  auto t = cast<RankedTensorType>(getType());
  if (!t.hasStaticShape())
    return emitOpError("parameter '") << getName() << "' must have a static shape";
  double stddev = getStd().convertToDouble();
  if (getInit() == InitKind::normal && !(stddev > 0))
    return emitOpError("normal initializer of '") << getName() << "' needs std > 0, got " << stddev;
  return success();
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto a = staticTensor(loc, adaptor.getA(), "matmul", "a");
  auto b = staticTensor(loc, adaptor.getB(), "matmul", "b");
  if (failed(a) || failed(b) || failed(sameElementType(loc, "matmul", *a, *b)))
    return failure();
  if (a->getRank() < 2 || b->getRank() < 2)
    return emitOptionalError(loc, "matmul: operands need rank >= 2, got ", formatType(*a), " and ",
                             formatType(*b));
  int64_t ra = a->getRank(), rb = b->getRank();
  bool ta = adaptor.getTransposeA(), tb = adaptor.getTransposeB();
  int64_t m = a->getDimSize(ra - (ta ? 1 : 2)), ka = a->getDimSize(ra - (ta ? 2 : 1));
  int64_t kb = b->getDimSize(rb - (tb ? 1 : 2)), n = b->getDimSize(rb - (tb ? 2 : 1));
  auto describe = [](RankedTensorType t, bool transposed) {
    return formatType(t) + (transposed ? " (transposed)" : "");
  };
  if (ka != kb)
    return emitOptionalError(loc, "matmul: inner sizes differ: a is ", describe(*a, ta),
                             " with K = ", ka, ", b is ", describe(*b, tb), " with K = ", kb);
  SmallVector<int64_t> out;
  if (rb == 2) {
    out.append(a->getShape().begin(), a->getShape().end() - 2);
  } else {
    if (ra != rb || a->getShape().drop_back(2) != b->getShape().drop_back(2))
      return emitOptionalError(loc, "matmul: batch axes differ: ", formatType(*a), " and ",
                               formatType(*b),
                               " (b must have rank 2 or the same leading axes as a)");
    out.append(a->getShape().begin(), a->getShape().end() - 2);
  }
  out.push_back(m);
  out.push_back(n);
  Type element = a->getElementType();
  if (element.isBF16())
    element = Float32Type::get(element.getContext());
  types.push_back(RankedTensorType::get(out, element));
  return success();
}

LogicalResult ConvertOp::verify() {
  auto from = cast<RankedTensorType>(getX().getType());
  auto to = cast<RankedTensorType>(getResult().getType());
  if (from.getShape() != to.getShape())
    return emitOpError("shapes differ: ") << from << " and " << to;
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

#define BERTC_BROADCAST_OP(OP, NAME)                                                               \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,  \
                                     SmallVectorImpl<Type> &types) {                               \
    return inferBroadcast(loc, NAME, adaptor.getLhs(), adaptor.getRhs(), types);                   \
  }
BERTC_BROADCAST_OP(AddOp, "add")
BERTC_BROADCAST_OP(SubOp, "sub")
BERTC_BROADCAST_OP(MulOp, "mul")
BERTC_BROADCAST_OP(DivOp, "div")
#undef BERTC_BROADCAST_OP

#define BERTC_SAME_TYPE_OP(OP, NAME)                                                               \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,  \
                                     SmallVectorImpl<Type> &types) {                               \
    return inferSame(loc, NAME, adaptor.getX(), types);                                            \
  }
BERTC_SAME_TYPE_OP(ScaleOp, "scale")
BERTC_SAME_TYPE_OP(GeluOp, "gelu")
BERTC_SAME_TYPE_OP(TanhOp, "tanh")
BERTC_SAME_TYPE_OP(DropoutOp, "dropout")
#undef BERTC_SAME_TYPE_OP

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("approximate must be \"none\" or \"tanh\", got \"")
           << getApproximate() << "\"";
  return success();
}

/// The rate and key of a dropout (graph.dropout's, or the one inside
/// graph.attention).
static LogicalResult verifyDropout(Operation *op, double rate, ValueRange key) {
  if (!(rate >= 0 && rate < 1))
    return op->emitOpError("rate must be in [0, 1), got ") << rate;
  if (key.empty())
    return success();
  auto scalar = [](Value v, bool integer) {
    auto t = cast<RankedTensorType>(v.getType());
    return t.getRank() == 0 &&
           (integer ? t.getElementType().isInteger(32) : isa<FloatType>(t.getElementType()));
  };
  if (key.size() != 3 || !scalar(key[0], true) || !scalar(key[1], true) || !scalar(key[2], false))
    return op->emitOpError("key must be (seed, step, scale): tensor<i32>, tensor<i32> and a "
                           "rank-0 float tensor");
  return success();
}

LogicalResult DropoutOp::verify() {
  return verifyDropout(*this, getRate().convertToDouble(), getKey());
}

//===----------------------------------------------------------------------===//
// Training state
//===----------------------------------------------------------------------===//

LogicalResult AssignOp::verify() {
  if (!getTarget().getDefiningOp<ParameterOp>() && !getTarget().getDefiningOp<StateOp>() &&
      !getTarget().getDefiningOp<ParameterCopyOp>())
    return emitOpError("target must be a graph.parameter, graph.state or graph.parameter_copy");
  return success();
}

LogicalResult ParameterCopyOp::verify() {
  if (!getParam().getDefiningOp<ParameterOp>())
    return emitOpError("operand must be a graph.parameter");
  auto from = cast<RankedTensorType>(getParam().getType());
  auto to = cast<RankedTensorType>(getResult().getType());
  if (from.getShape() != to.getShape())
    return emitOpError("shapes differ: ") << from << " and " << to;
  return success();
}

//===----------------------------------------------------------------------===//
// Normalisations
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto t = staticTensor(loc, adaptor.getX(), "softmax", "operand");
  if (failed(t) || failed(checkAxis(loc, "softmax", adaptor.getAxis(), *t)))
    return failure();
  types.push_back(*t);
  return success();
}

/// q [..., M, D], k [..., N, D], v [..., N, E] -> [..., M, E]; the bias
/// broadcasts to the scores [..., M, N].
LogicalResult AttentionOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto q = staticTensor(loc, adaptor.getQ(), "attention", "q");
  auto k = staticTensor(loc, adaptor.getK(), "attention", "k");
  auto v = staticTensor(loc, adaptor.getV(), "attention", "v");
  auto bias = staticTensor(loc, adaptor.getBias(), "attention", "bias");
  if (failed(q) || failed(k) || failed(v) || failed(bias))
    return failure();
  for (RankedTensorType t : {*k, *v, *bias})
    if (failed(sameElementType(loc, "attention", *q, t)))
      return failure();
  int64_t rank = q->getRank();
  if (rank < 3 || k->getRank() != rank || v->getRank() != rank)
    return emitOptionalError(loc, "attention: q, k and v need the same rank >= 3, got ",
                             formatType(*q), ", ", formatType(*k), " and ", formatType(*v));
  ArrayRef<int64_t> lead = q->getShape().drop_back(2);
  int64_t n = k->getDimSize(rank - 2);
  if (k->getShape().drop_back(2) != lead || v->getShape().drop_back(2) != lead ||
      k->getShape().back() != q->getShape().back() || v->getDimSize(rank - 2) != n)
    return emitOptionalError(loc, "attention: shapes do not match: q ", formatType(*q), ", k ",
                             formatType(*k), ", v ", formatType(*v),
                             " (want [..., M, D], [..., N, D], [..., N, E])");
  SmallVector<int64_t> scores(lead);
  scores.append({q->getDimSize(rank - 2), n});
  ArrayRef<int64_t> b = bias->getShape();
  bool broadcasts = bias->getRank() <= rank;
  for (int64_t i = 0; broadcasts && i < bias->getRank(); ++i) {
    int64_t s = scores[rank - bias->getRank() + i];
    broadcasts = b[i] == 1 || b[i] == s;
  }
  if (!broadcasts)
    return emitOptionalError(loc, "attention: bias ", formatType(*bias),
                             " does not broadcast to the scores ",
                             formatType(RankedTensorType::get(scores, q->getElementType())));
  SmallVector<int64_t> out(lead);
  out.append({q->getDimSize(rank - 2), v->getShape().back()});
  types.push_back(RankedTensorType::get(out, q->getElementType()));
  return success();
}

LogicalResult AttentionOp::verify() {
  return verifyDropout(*this, getRate().convertToDouble(), getKey());
}

LogicalResult ArgmaxOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto t = staticTensor(loc, adaptor.getX(), "argmax", "operand");
  if (failed(t) || failed(checkAxis(loc, "argmax", adaptor.getAxis(), *t)))
    return failure();
  SmallVector<int64_t> shape(t->getShape());
  shape.erase(shape.begin() + adaptor.getAxis());
  types.push_back(RankedTensorType::get(shape, IntegerType::get(t->getContext(), 32)));
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto x = staticTensor(loc, adaptor.getX(), "layer_norm", "x");
  auto w = staticTensor(loc, adaptor.getWeight(), "layer_norm", "weight");
  auto b = staticTensor(loc, adaptor.getBias(), "layer_norm", "bias");
  if (failed(x) || failed(w) || failed(b))
    return failure();
  if (failed(sameElementType(loc, "layer_norm", *x, *w)) ||
      failed(sameElementType(loc, "layer_norm", *x, *b)))
    return failure();
  if (x->getRank() < 1)
    return emitOptionalError(loc, "layer_norm: x must have rank >= 1");
  int64_t h = x->getShape().back();
  for (auto [name, t] : {std::pair<StringRef, RankedTensorType>{"weight", *w}, {"bias", *b}})
    if (t.getRank() != 1 || t.getDimSize(0) != h)
      return emitOptionalError(loc, "layer_norm: ", name, " is ", formatType(t), ", expected [", h,
                               "] to match the last axis of ", formatType(*x));
  if (!(adaptor.getEps().convertToDouble() > 0))
    return emitOptionalError(loc, "layer_norm: eps must be > 0");
  types.push_back(*x);
  return success();
}

//===----------------------------------------------------------------------===//
// Indexing and layout
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto table = staticTensor(loc, adaptor.getTable(), "embedding", "table");
  auto ids = staticTensor(loc, adaptor.getIds(), "embedding", "ids");
  if (failed(table) || failed(ids))
    return failure();
  if (table->getRank() != 2)
    return emitOptionalError(loc, "embedding: table must have rank 2, got ", formatType(*table));
  SmallVector<int64_t> out(ids->getShape());
  out.push_back(table->getDimSize(1));
  types.push_back(RankedTensorType::get(out, table->getElementType()));
  return success();
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto t = staticTensor(loc, adaptor.getX(), "reshape", "operand");
  if (failed(t))
    return failure();
  SmallVector<int64_t> out(adaptor.getShape());
  int64_t known = 1, inferred = -1;
  for (auto [i, d] : llvm::enumerate(out)) {
    if (d == -1) {
      if (inferred >= 0)
        return emitOptionalError(loc, "reshape: only one size may be -1");
      inferred = i;
    } else if (d <= 0) {
      return emitOptionalError(loc, "reshape: sizes must be positive or -1, got ", d);
    } else {
      known *= d;
    }
  }
  int64_t count = t->getNumElements();
  if (inferred >= 0) {
    if (count % known != 0)
      return emitOptionalError(loc, "reshape: cannot reshape ", formatType(*t), " (", count,
                               " elements) to a multiple of ", known);
    out[inferred] = count / known;
  } else if (known != count) {
    return emitOptionalError(loc, "reshape: ", formatType(*t), " has ", count, " elements but ",
                             formatType(RankedTensorType::get(out, t->getElementType())), " has ",
                             known);
  }
  types.push_back(RankedTensorType::get(out, t->getElementType()));
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto t = staticTensor(loc, adaptor.getX(), "transpose", "operand");
  if (failed(t))
    return failure();
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if (static_cast<int64_t>(perm.size()) != t->getRank())
    return emitOptionalError(loc, "transpose: permutation has ", perm.size(), " entries but ",
                             formatType(*t), " has rank ", t->getRank());
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> out;
  for (int64_t p : perm) {
    if (p < 0 || p >= t->getRank() || seen[p]) {
      std::string list;
      for (int64_t v : perm)
        list += (list.empty() ? "" : ", ") + std::to_string(v);
      return emitOptionalError(loc, "transpose: [", list, "] is not a permutation of the axes of ",
                               formatType(*t));
    }
    seen[p] = true;
    out.push_back(t->getDimSize(p));
  }
  types.push_back(RankedTensorType::get(out, t->getElementType()));
  return success();
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto t = staticTensor(loc, adaptor.getX(), "slice", "operand");
  int64_t axis = adaptor.getAxis();
  if (failed(t) || failed(checkAxis(loc, "slice", axis, *t)))
    return failure();
  int64_t start = adaptor.getStart(), end = adaptor.getEnd(), size = t->getDimSize(axis);
  if (start < 0 || end > size || start >= end)
    return emitOptionalError(loc, "slice: range ", start, "..", end, " is empty or outside ", "0..",
                             size, " on axis ", axis, " of ", formatType(*t));
  SmallVector<int64_t> out(t->getShape());
  out[axis] = end - start;
  types.push_back(RankedTensorType::get(out, t->getElementType()));
  return success();
}

LogicalResult SelectOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto t = staticTensor(loc, adaptor.getX(), "select", "operand");
  int64_t axis = adaptor.getAxis();
  if (failed(t) || failed(checkAxis(loc, "select", axis, *t)))
    return failure();
  int64_t index = adaptor.getIndex();
  if (index < 0 || index >= t->getDimSize(axis))
    return emitOptionalError(loc, "select: index ", index, " is out of range 0..",
                             t->getDimSize(axis), " on axis ", axis, " of ", formatType(*t));
  SmallVector<int64_t> out(t->getShape());
  out.erase(out.begin() + axis);
  types.push_back(RankedTensorType::get(out, t->getElementType()));
  return success();
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto x = staticTensor(loc, adaptor.getX(), "gather", "x");
  auto idx = staticTensor(loc, adaptor.getIndices(), "gather", "indices");
  int64_t axis = adaptor.getAxis();
  if (failed(x) || failed(idx) || failed(checkAxis(loc, "gather", axis, *x)))
    return failure();
  if (idx->getRank() != axis + 1 || idx->getShape().drop_back() != x->getShape().take_front(axis))
    return emitOptionalError(loc, "gather: indices ", formatType(*idx),
                             " must be [leading axes of x, P] with the ", axis,
                             " leading axes of x ", formatType(*x));
  SmallVector<int64_t> out(x->getShape());
  out[axis] = idx->getShape().back();
  types.push_back(RankedTensorType::get(out, x->getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions and losses
//===----------------------------------------------------------------------===//

LogicalResult SumOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  return inferReduce(loc, "sum", adaptor.getX(), adaptor.getAxes(), types);
}

LogicalResult MeanOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  return inferReduce(loc, "mean", adaptor.getX(), adaptor.getAxes(), types);
}

LogicalResult CrossEntropyOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                               Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto logits = staticTensor(loc, adaptor.getLogits(), "cross_entropy", "logits");
  auto labels = staticTensor(loc, adaptor.getLabels(), "cross_entropy", "labels");
  if (failed(logits) || failed(labels))
    return failure();
  if (logits->getRank() < 1 || labels->getShape() != logits->getShape().drop_back())
    return emitOptionalError(loc, "cross_entropy: labels ", formatType(*labels),
                             " must have the shape of logits ", formatType(*logits),
                             " without its last (class) axis");
  types.push_back(RankedTensorType::get({}, logits->getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Dispatch regions
//===----------------------------------------------------------------------===//

void DispatchOp::build(OpBuilder &builder, OperationState &state, TypeRange resultTypes,
                       ValueRange inputs) {
  state.addOperands(inputs);
  state.addTypes(resultTypes);
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  for (Value v : inputs)
    block->addArgument(v.getType(), v.getLoc());
}

/// `graph.dispatch(%a, %b) : (A, B) -> R { region }`
ParseResult DispatchOp::parse(OpAsmParser &parser, OperationState &state) {
  SmallVector<OpAsmParser::UnresolvedOperand> operands;
  FunctionType type;
  if (parser.parseOperandList(operands, OpAsmParser::Delimiter::Paren) ||
      parser.parseColonType(type) ||
      parser.resolveOperands(operands, type.getInputs(), parser.getNameLoc(), state.operands))
    return failure();
  state.addTypes(type.getResults());
  Region *body = state.addRegion();
  if (parser.parseRegion(*body, /*arguments=*/{}) ||
      parser.parseOptionalAttrDictWithKeyword(state.attributes))
    return failure();
  DispatchOp::ensureTerminator(*body, parser.getBuilder(), state.location);
  return success();
}

void DispatchOp::print(OpAsmPrinter &p) {
  p << "(" << getInputs() << ") : ";
  p.printFunctionalType(getInputs().getTypes(), getResultTypes());
  p << " ";
  p.printRegion(getBody(), /*printEntryBlockArgs=*/true, /*printBlockTerminators=*/true);
  p.printOptionalAttrDictWithKeyword((*this)->getAttrs());
}

LogicalResult DispatchOp::verify() {
  Block &block = getBody().front();
  if (block.getNumArguments() != getInputs().size())
    return emitOpError("body has ")
           << block.getNumArguments() << " arguments for " << getInputs().size() << " inputs";
  for (auto [arg, input] : llvm::zip(block.getArguments(), getInputs()))
    if (arg.getType() != input.getType())
      return emitOpError("body argument type ")
             << arg.getType() << " differs from input type " << input.getType();
  auto yield = cast<YieldOp>(block.getTerminator());
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError("yields ") << yield.getValues().getTypes() << " but returns "
                                  << getResultTypes();
  return success();
}

//===----------------------------------------------------------------------===//
// Gradient ops
//===----------------------------------------------------------------------===//

LogicalResult BroadcastOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto t = staticTensor(loc, adaptor.getX(), "broadcast", "operand");
  if (failed(t))
    return failure();
  ArrayRef<int64_t> to = adaptor.getShape();
  ArrayRef<int64_t> from = t->getShape();
  if (from.size() > to.size())
    return emitOptionalError(loc, "broadcast: cannot broadcast ", formatType(*t), " to fewer axes");
  for (size_t i = 0; i < from.size(); ++i) {
    int64_t target = to[to.size() - from.size() + i];
    if (target <= 0 || (from[i] != 1 && from[i] != target))
      return emitOptionalError(loc, "broadcast: cannot broadcast ", formatType(*t), " to ",
                               formatType(RankedTensorType::get(to, t->getElementType())));
  }
  types.push_back(RankedTensorType::get(to, t->getElementType()));
  return success();
}

LogicalResult GeluGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                           Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto x = staticTensor(loc, adaptor.getX(), "gelu_grad", "x");
  auto g = staticTensor(loc, adaptor.getGrad(), "gelu_grad", "grad");
  if (failed(x) || failed(g))
    return failure();
  if (*x != *g)
    return emitOptionalError(loc, "gelu_grad: x is ", formatType(*x), " but grad is ",
                             formatType(*g));
  types.push_back(*x);
  return success();
}

LogicalResult LayerNormGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto x = staticTensor(loc, adaptor.getX(), "layer_norm_grad", "x");
  auto w = staticTensor(loc, adaptor.getWeight(), "layer_norm_grad", "weight");
  auto g = staticTensor(loc, adaptor.getGrad(), "layer_norm_grad", "grad");
  if (failed(x) || failed(w) || failed(g))
    return failure();
  if (*x != *g || x->getRank() < 1 || w->getRank() != 1 || w->getDimSize(0) != x->getShape().back())
    return emitOptionalError(loc, "layer_norm_grad: x ", formatType(*x), ", weight ",
                             formatType(*w), " and grad ", formatType(*g), " do not match");
  types.push_back(*x);
  return success();
}

/// The logits' type, after checking the labels and the rank-0 gradient.
static FailureOr<RankedTensorType> crossEntropyGradType(std::optional<Location> loc, StringRef op,
                                                        Value logitsValue, Value labelsValue,
                                                        Value grad) {
  auto logits = staticTensor(loc, logitsValue, op, "logits");
  auto labels = staticTensor(loc, labelsValue, op, "labels");
  auto g = staticTensor(loc, grad, op, "grad");
  if (failed(logits) || failed(labels) || failed(g))
    return failure();
  if (logits->getRank() < 1 || labels->getShape() != logits->getShape().drop_back() ||
      g->getRank() != 0) {
    (void)emitOptionalError(loc, op, ": logits ", formatType(*logits), ", labels ",
                            formatType(*labels), " and grad ", formatType(*g), " do not match");
    return failure();
  }
  return *logits;
}

LogicalResult CrossEntropyGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                   Adaptor adaptor, SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> logits = crossEntropyGradType(
      loc, "cross_entropy_grad", adaptor.getLogits(), adaptor.getLabels(), adaptor.getGrad());
  if (failed(logits))
    return failure();
  types.push_back(*logits);
  return success();
}

LogicalResult CrossEntropyWithGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                       Adaptor adaptor,
                                                       SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> logits = crossEntropyGradType(
      loc, "cross_entropy_with_grad", adaptor.getLogits(), adaptor.getLabels(), adaptor.getGrad());
  if (failed(logits))
    return failure();
  types.push_back(RankedTensorType::get({}, logits->getElementType()));
  types.push_back(*logits);
  return success();
}

LogicalResult CrossEntropyRowsOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                   Adaptor adaptor, SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> logits = crossEntropyGradType(
      loc, "cross_entropy_rows", adaptor.getLogits(), adaptor.getLabels(), adaptor.getGrad());
  auto count = staticTensor(loc, adaptor.getCount(), "cross_entropy_rows", "count");
  if (failed(logits) || failed(count))
    return failure();
  if (logits->getRank() != 2)
    return emitOptionalError(loc, "cross_entropy_rows: logits ", formatType(*logits),
                             " must be rows of classes (rank 2)");
  if (count->getRank() != 0)
    return emitOptionalError(loc, "cross_entropy_rows: count ", formatType(*count),
                             " must be a scalar");
  types.push_back(RankedTensorType::get({logits->getDimSize(0)}, logits->getElementType()));
  types.push_back(*logits);
  return success();
}

LogicalResult SliceGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto t = staticTensor(loc, adaptor.getX(), "slice_grad", "operand");
  int64_t axis = adaptor.getAxis();
  if (failed(t) || failed(checkAxis(loc, "slice_grad", axis, *t)))
    return failure();
  int64_t start = adaptor.getStart(), size = adaptor.getSize();
  if (start < 0 || start + t->getDimSize(axis) > size)
    return emitOptionalError(loc, "slice_grad: ", formatType(*t), " at ", start,
                             " does not fit in ", size, " on axis ", axis);
  SmallVector<int64_t> out(t->getShape());
  out[axis] = size;
  types.push_back(RankedTensorType::get(out, t->getElementType()));
  return success();
}

LogicalResult GatherGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto idx = staticTensor(loc, adaptor.getIndices(), "gather_grad", "indices");
  auto g = staticTensor(loc, adaptor.getGrad(), "gather_grad", "grad");
  int64_t axis = adaptor.getAxis();
  if (failed(idx) || failed(g) || failed(checkAxis(loc, "gather_grad", axis, *g)))
    return failure();
  if (idx->getRank() != axis + 1 || idx->getShape() != g->getShape().take_front(axis + 1))
    return emitOptionalError(loc, "gather_grad: indices ", formatType(*idx), " do not match grad ",
                             formatType(*g));
  SmallVector<int64_t> out(g->getShape());
  out[axis] = adaptor.getSize();
  types.push_back(RankedTensorType::get(out, g->getElementType()));
  return success();
}

LogicalResult EmbeddingGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto ids = staticTensor(loc, adaptor.getIds(), "embedding_grad", "ids");
  auto g = staticTensor(loc, adaptor.getGrad(), "embedding_grad", "grad");
  if (failed(ids) || failed(g))
    return failure();
  if (g->getRank() != ids->getRank() + 1 || g->getShape().drop_back() != ids->getShape() ||
      adaptor.getRows() <= 0)
    return emitOptionalError(loc, "embedding_grad: grad ", formatType(*g), " does not match ids ",
                             formatType(*ids));
  types.push_back(RankedTensorType::get(
      {static_cast<int64_t>(adaptor.getRows()), g->getShape().back()}, g->getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Kernel kinds (KernelKindOp)
//===----------------------------------------------------------------------===//

bertc::contract::KernelKind MatmulOp::getKernelKind() {
  return bertc::contract::KernelKind::Matmul;
}
bertc::contract::KernelKind SoftmaxOp::getKernelKind() {
  return bertc::contract::KernelKind::Softmax;
}
bertc::contract::KernelKind AttentionOp::getKernelKind() {
  return bertc::contract::KernelKind::Attention;
}
bertc::contract::KernelKind LayerNormOp::getKernelKind() {
  return bertc::contract::KernelKind::LayerNorm;
}
bertc::contract::KernelKind LayerNormGradOp::getKernelKind() {
  return bertc::contract::KernelKind::LayerNorm;
}
bertc::contract::KernelKind CrossEntropyOp::getKernelKind() {
  return bertc::contract::KernelKind::Loss;
}
bertc::contract::KernelKind CrossEntropyGradOp::getKernelKind() {
  return bertc::contract::KernelKind::Loss;
}
bertc::contract::KernelKind CrossEntropyWithGradOp::getKernelKind() {
  return bertc::contract::KernelKind::Loss;
}
bertc::contract::KernelKind CrossEntropyRowsOp::getKernelKind() {
  return bertc::contract::KernelKind::Loss;
}
bertc::contract::KernelKind AdamWOp::getKernelKind() {
  return bertc::contract::KernelKind::Optimizer;
}
