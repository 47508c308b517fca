//===- MLIRGen.cpp - From the model AST to the graph dialect --------------===//
#include "frontend/MLIRGen.h"

#include "dialects/graph/GraphOps.h"
#include "frontend/Builtins.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>

using namespace mlir;
namespace gr = bertc::graph;

namespace bertc::frontend {

namespace {

constexpr int64_t kMaxLoopTrips = 100000;
/// Statements run while unrolling; bounds nested loops that build nothing.
constexpr int64_t kMaxSteps = 10000000;
/// Tensors past 2^40 elements are surely a mistake (and would overflow sizes).
constexpr int64_t kMaxElements = int64_t(1) << 40;
constexpr unsigned kMaxInlineDepth = 64;

/// A value of the model language while it is evaluated.
struct Val {
  enum Kind { None, Int, Float, Bool, String, List, Tensor, Tuple } kind = None;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;
  std::vector<Val> elems; ///< List or Tuple.
  Value tensor;

  static Val ofInt(int64_t v) {
    Val x;
    x.kind = Int;
    x.i = v;
    return x;
  }
  static Val ofFloat(double v) {
    Val x;
    x.kind = Float;
    x.f = v;
    return x;
  }
  static Val ofBool(bool v) {
    Val x;
    x.kind = Bool;
    x.b = v;
    return x;
  }
  static Val ofString(std::string v) {
    Val x;
    x.kind = String;
    x.s = std::move(v);
    return x;
  }
  static Val ofTensor(Value v) {
    Val x;
    x.kind = Tensor;
    x.tensor = v;
    return x;
  }

  bool isNumber() const { return kind == Int || kind == Float; }
  double number() const { return kind == Int ? static_cast<double>(i) : f; }
};

std::string kindName(const Val &v) {
  switch (v.kind) {
  case Val::None:
    return "nothing";
  case Val::Int:
    return "an integer";
  case Val::Float:
    return "a number";
  case Val::Bool:
    return "a boolean";
  case Val::String:
    return "a string";
  case Val::List:
    return "a list";
  case Val::Tensor:
    return "a tensor " + gr::formatType(v.tensor.getType());
  case Val::Tuple:
    return std::to_string(v.elems.size()) + " values";
  }
  return "a value";
}

std::string formatNumber(double v) {
  std::ostringstream ss;
  ss.precision(17);
  ss << v;
  return ss.str();
}

/// Arguments of a built-in, in the order of its signature; absent ones are None.
struct BuiltinArgs {
  std::vector<Val> values;
  std::vector<SourceLoc> locs;
  bool has(size_t i) const { return values[i].kind != Val::None; }
};

class Generator;
using BuiltinFn = std::function<FailureOr<Val>(Generator &, BuiltinArgs &, SourceLoc)>;

class Generator {
public:
  Generator(MLIRContext &ctx, const SourceFile &file, const Module &module,
            const GraphOptions &options)
      : ctx_(ctx), builder_(&ctx), file_(file), m_(module), options_(options),
        fileName_(StringAttr::get(&ctx, file.path())) {}

  OwningOpRef<ModuleOp> run();

  //===--------------------------------------------------------------------===//
  // Helpers shared with the built-in table
  //===--------------------------------------------------------------------===//

  Location loc(SourceLoc l) {
    Location base = FileLineColLoc::get(fileName_, l.line, l.col);
    return callStack_.empty() ? base : CallSiteLoc::get(base, callStack_.back());
  }

  LogicalResult error(SourceLoc l, const Twine &message) {
    emitError(loc(l)) << message;
    return failure();
  }

  FailureOr<Value> tensor(const Val &v, SourceLoc l, StringRef what) {
    if (v.kind == Val::Tensor)
      return v.tensor;
    return error(l, what + " must be a tensor, got " + kindName(v));
  }

  FailureOr<int64_t> integer(const Val &v, SourceLoc l, StringRef what) {
    if (v.kind == Val::Int)
      return v.i;
    return error(l, what + " must be an integer, got " + kindName(v));
  }

  FailureOr<double> number(const Val &v, SourceLoc l, StringRef what) {
    if (v.isNumber())
      return v.number();
    return error(l, what + " must be a number, got " + kindName(v));
  }

  FailureOr<bool> boolean(const Val &v, SourceLoc l, StringRef what) {
    if (v.kind == Val::Bool)
      return v.b;
    return error(l, what + " must be true or false, got " + kindName(v));
  }

  FailureOr<std::string> string(const Val &v, SourceLoc l, StringRef what) {
    if (v.kind == Val::String)
      return v.s;
    return error(l, what + " must be a string, got " + kindName(v));
  }

  FailureOr<SmallVector<int64_t>> intList(const Val &v, SourceLoc l, StringRef what) {
    if (v.kind != Val::List)
      return error(l, what + " must be a list of integers like [0, 2, 1], got " + kindName(v));
    SmallVector<int64_t> out;
    for (const Val &e : v.elems) {
      if (e.kind != Val::Int)
        return error(l, what + " must hold integers only, found " + kindName(e));
      out.push_back(e.i);
    }
    return out;
  }

  /// An axis, negative counting from the end, made non-negative.
  FailureOr<int64_t> axis(const Val &v, Value x, SourceLoc l, StringRef what) {
    auto a = integer(v, l, what);
    if (failed(a))
      return failure();
    int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
    int64_t axis = *a < 0 ? *a + rank : *a;
    if (axis < 0 || axis >= rank)
      return error(l, what + " " + std::to_string(*a) + " is out of range for " +
                          gr::formatType(x.getType()) + " (rank " + std::to_string(rank) + ")");
    return axis;
  }

  /// Creates `OpTy` after inferring its result type; inference errors are
  /// reported at `l` and nothing is created.
  template <typename OpTy>
  FailureOr<Val> create(SourceLoc l, ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
    if (++opCount_ > options_.maxOps)
      return error(l, "the graph grew past " + std::to_string(options_.maxOps) + " ops");
    Location location = loc(l);
    NamedAttrList list(attrs);
    OpTy::populateDefaultAttrs(OperationName(OpTy::getOperationName(), &ctx_), list);
    DictionaryAttr dict = list.getDictionary(&ctx_);
    SmallVector<Type, 1> types;
    if (failed(OpTy::inferReturnTypes(&ctx_, location, operands, dict, OpaqueProperties(nullptr),
                                      RegionRange(), types)))
      return failure();
    auto op = builder_.create<OpTy>(location, types, operands, dict.getValue());
    return Val::ofTensor(op->getResult(0));
  }

  /// A scalar as a rank-0 tensor of `elementType`.
  Value constant(SourceLoc l, double value, Type elementType) {
    ++opCount_;
    return builder_.create<gr::ConstantOp>(loc(l), RankedTensorType::get({}, elementType),
                                           builder_.getF64FloatAttr(value));
  }

  OpBuilder &builder() { return builder_; }

private:
  //===--------------------------------------------------------------------===//
  // Constants and options
  //===--------------------------------------------------------------------===//

  LogicalResult evaluateConstants();
  FailureOr<Val> parseSetting(const std::string &name, const std::string &text);

  //===--------------------------------------------------------------------===//
  // Statements and expressions
  //===--------------------------------------------------------------------===//

  /// Runs `block`; a `return` stores its values in `returned` and stops.
  LogicalResult block(const Block &block, std::optional<Val> *returned);
  LogicalResult statement(const Stmt &s, std::optional<Val> *returned);
  FailureOr<Val> expr(const Expr &e);
  FailureOr<Val> name(const std::string &name, SourceLoc l);
  FailureOr<Val> unary(const UnaryExpr &e);
  FailureOr<Val> binary(const BinaryExpr &e);
  FailureOr<Val> call(const CallExpr &e);
  FailureOr<Val> callFunction(const FnDecl &fn, const CallExpr &e);
  FailureOr<Val> param(const ParamExpr &e);
  FailureOr<Val> interpolate(const StringExpr &e);
  FailureOr<RankedTensorType> type(const TypeExpr &t);
  FailureOr<Val> input(const InputStmt &s);

  Val *lookupLocal(const std::string &name) {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end())
        return &f->second;
    }
    return nullptr;
  }

  MLIRContext &ctx_;
  OpBuilder builder_;
  const SourceFile &file_;
  const Module &m_;
  const GraphOptions &options_;
  StringAttr fileName_;

  std::map<std::string, Val> consts_;
  std::vector<std::pair<std::string, Val>> constOrder_;
  std::map<std::string, const LetStmt *> globalLets_;
  std::map<std::string, const InputStmt *> globalInputs_;
  std::map<std::string, Val> globalCache_;
  std::map<std::string, bool> globalInProgress_;
  std::vector<std::map<std::string, Val>> scopes_;
  std::vector<Location> callStack_;
  std::map<std::string, Location> paramNames_;
  std::string lossOutput_;
  int64_t opCount_ = 0;
  int64_t steps_ = 0;
};

//===----------------------------------------------------------------------===//
// Built-ins: each name maps to the op that implements it.
//===----------------------------------------------------------------------===//

NamedAttribute attr(Generator &g, StringRef name, Attribute value) {
  return g.builder().getNamedAttr(name, value);
}

/// sum and mean over `axes` (default: all).
template <typename OpTy>
FailureOr<Val> reduceOver(Generator &g, BuiltinArgs &a, SourceLoc l, const char *name) {
  auto x = g.tensor(a.values[0], a.locs[0], std::string(name) + "'s x");
  if (failed(x))
    return failure();
  SmallVector<int64_t> axes;
  if (a.has(1)) {
    auto list = g.intList(a.values[1], a.locs[1], "axes");
    if (failed(list))
      return failure();
    for (int64_t v : *list) {
      auto ax = g.axis(Val::ofInt(v), *x, a.locs[1], "axis");
      if (failed(ax))
        return failure();
      axes.push_back(*ax);
    }
  }
  return g.create<OpTy>(l, {*x}, {attr(g, "axes", g.builder().getDenseI64ArrayAttr(axes))});
}

FailureOr<Val> build_matmul(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto x = g.tensor(a.values[0], a.locs[0], "matmul's a");
  auto y = g.tensor(a.values[1], a.locs[1], "matmul's b");
  if (failed(x) || failed(y))
    return failure();
  SmallVector<NamedAttribute> attrs;
  for (size_t i : {2, 3}) {
    if (!a.has(i))
      continue;
    auto v = g.boolean(a.values[i], a.locs[i], i == 2 ? "transpose_a" : "transpose_b");
    if (failed(v))
      return failure();
    attrs.push_back(attr(g, i == 2 ? "transpose_a" : "transpose_b", g.builder().getBoolAttr(*v)));
  }
  return g.create<gr::MatmulOp>(l, {*x, *y}, attrs);
}

FailureOr<Val> build_scale(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto x = g.tensor(a.values[0], a.locs[0], "scale's x");
  auto f = g.number(a.values[1], a.locs[1], "scale's factor");
  if (failed(x) || failed(f))
    return failure();
  return g.create<gr::ScaleOp>(l, {*x}, {attr(g, "factor", g.builder().getF64FloatAttr(*f))});
}

FailureOr<Val> build_gelu(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto x = g.tensor(a.values[0], a.locs[0], "gelu's x");
  if (failed(x))
    return failure();
  std::string approx = "none";
  if (a.has(1)) {
    auto s = g.string(a.values[1], a.locs[1], "approximate");
    if (failed(s))
      return failure();
    if (*s != "none" && *s != "tanh")
      return g.error(a.locs[1], "approximate must be \"none\" or \"tanh\", got \"" + *s + "\"");
    approx = *s;
  }
  return g.create<gr::GeluOp>(l, {*x}, {attr(g, "approximate", g.builder().getStringAttr(approx))});
}

FailureOr<Val> build_tanh(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto x = g.tensor(a.values[0], a.locs[0], "tanh's x");
  if (failed(x))
    return failure();
  return g.create<gr::TanhOp>(l, {*x});
}

FailureOr<Val> build_softmax(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto x = g.tensor(a.values[0], a.locs[0], "softmax's x");
  if (failed(x))
    return failure();
  auto ax = g.axis(a.has(1) ? a.values[1] : Val::ofInt(-1), *x, a.has(1) ? a.locs[1] : l,
                   "softmax's axis");
  if (failed(ax))
    return failure();
  return g.create<gr::SoftmaxOp>(l, {*x}, {attr(g, "axis", g.builder().getI64IntegerAttr(*ax))});
}

FailureOr<Val> build_argmax(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto x = g.tensor(a.values[0], a.locs[0], "argmax's x");
  if (failed(x))
    return failure();
  auto ax = g.axis(a.has(1) ? a.values[1] : Val::ofInt(-1), *x, a.has(1) ? a.locs[1] : l,
                   "argmax's axis");
  if (failed(ax))
    return failure();
  return g.create<gr::ArgmaxOp>(l, {*x}, {attr(g, "axis", g.builder().getI64IntegerAttr(*ax))});
}

FailureOr<Val> build_layer_norm(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto x = g.tensor(a.values[0], a.locs[0], "layer_norm's x");
  auto w = g.tensor(a.values[1], a.locs[1], "layer_norm's weight");
  auto b = g.tensor(a.values[2], a.locs[2], "layer_norm's bias");
  if (failed(x) || failed(w) || failed(b))
    return failure();
  double eps = 1e-12;
  if (a.has(3)) {
    auto e = g.number(a.values[3], a.locs[3], "eps");
    if (failed(e))
      return failure();
    eps = *e;
  }
  return g.create<gr::LayerNormOp>(l, {*x, *w, *b},
                                   {attr(g, "eps", g.builder().getF64FloatAttr(eps))});
}

FailureOr<Val> build_embedding(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto table = g.tensor(a.values[0], a.locs[0], "embedding's table");
  auto ids = g.tensor(a.values[1], a.locs[1], "embedding's ids");
  if (failed(table) || failed(ids))
    return failure();
  if (!cast<RankedTensorType>(ids->getType()).getElementType().isInteger(32))
    return g.error(a.locs[1],
                   "embedding's ids must be an i32 tensor, got " + gr::formatType(ids->getType()));
  return g.create<gr::EmbeddingOp>(l, {*table, *ids});
}

FailureOr<Val> build_reshape(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto x = g.tensor(a.values[0], a.locs[0], "reshape's x");
  auto shape = g.intList(a.values[1], a.locs[1], "reshape's shape");
  if (failed(x) || failed(shape))
    return failure();
  return g.create<gr::ReshapeOp>(l, {*x},
                                 {attr(g, "shape", g.builder().getDenseI64ArrayAttr(*shape))});
}

FailureOr<Val> build_transpose(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto x = g.tensor(a.values[0], a.locs[0], "transpose's x");
  auto perm = g.intList(a.values[1], a.locs[1], "transpose's perm");
  if (failed(x) || failed(perm))
    return failure();
  return g.create<gr::TransposeOp>(l, {*x},
                                   {attr(g, "perm", g.builder().getDenseI64ArrayAttr(*perm))});
}

FailureOr<Val> build_slice(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto x = g.tensor(a.values[0], a.locs[0], "slice's x");
  if (failed(x))
    return failure();
  auto ax = g.axis(a.values[1], *x, a.locs[1], "slice's axis");
  auto start = g.integer(a.values[2], a.locs[2], "slice's start");
  auto end = g.integer(a.values[3], a.locs[3], "slice's end");
  if (failed(ax) || failed(start) || failed(end))
    return failure();
  return g.create<gr::SliceOp>(l, {*x},
                               {attr(g, "axis", g.builder().getI64IntegerAttr(*ax)),
                                attr(g, "start", g.builder().getI64IntegerAttr(*start)),
                                attr(g, "end", g.builder().getI64IntegerAttr(*end))});
}

FailureOr<Val> build_select(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto x = g.tensor(a.values[0], a.locs[0], "select's x");
  if (failed(x))
    return failure();
  auto ax = g.axis(a.values[1], *x, a.locs[1], "select's axis");
  auto index = g.integer(a.values[2], a.locs[2], "select's index");
  if (failed(ax) || failed(index))
    return failure();
  return g.create<gr::SelectOp>(l, {*x},
                                {attr(g, "axis", g.builder().getI64IntegerAttr(*ax)),
                                 attr(g, "index", g.builder().getI64IntegerAttr(*index))});
}

FailureOr<Val> build_gather(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto x = g.tensor(a.values[0], a.locs[0], "gather's x");
  auto idx = g.tensor(a.values[1], a.locs[1], "gather's indices");
  if (failed(x) || failed(idx))
    return failure();
  if (!cast<RankedTensorType>(idx->getType()).getElementType().isInteger(32))
    return g.error(a.locs[1],
                   "gather's indices must be an i32 tensor, got " + gr::formatType(idx->getType()));
  auto ax = g.axis(a.values[2], *x, a.locs[2], "gather's axis");
  if (failed(ax))
    return failure();
  return g.create<gr::GatherOp>(l, {*x, *idx},
                                {attr(g, "axis", g.builder().getI64IntegerAttr(*ax))});
}

FailureOr<Val> build_dropout(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto x = g.tensor(a.values[0], a.locs[0], "dropout's x");
  auto rate = g.number(a.values[1], a.locs[1], "dropout's rate");
  if (failed(x) || failed(rate))
    return failure();
  if (!(*rate >= 0 && *rate < 1))
    return g.error(a.locs[1], "dropout rate must be in [0, 1), got " + formatNumber(*rate));
  return g.create<gr::DropoutOp>(l, {*x}, {attr(g, "rate", g.builder().getF64FloatAttr(*rate))});
}

FailureOr<Val> build_cross_entropy(Generator &g, BuiltinArgs &a, SourceLoc l) {
  auto logits = g.tensor(a.values[0], a.locs[0], "cross_entropy's logits");
  auto labels = g.tensor(a.values[1], a.locs[1], "cross_entropy's labels");
  if (failed(logits) || failed(labels))
    return failure();
  if (!cast<RankedTensorType>(labels->getType()).getElementType().isInteger(32))
    return g.error(a.locs[1], "cross_entropy's labels must be an i32 tensor, got " +
                                  gr::formatType(labels->getType()));
  int64_t ignore = -100;
  if (a.has(2)) {
    auto v = g.integer(a.values[2], a.locs[2], "ignore_index");
    if (failed(v))
      return failure();
    ignore = *v;
  }
  return g.create<gr::CrossEntropyOp>(
      l, {*logits, *labels}, {attr(g, "ignore_index", g.builder().getI64IntegerAttr(ignore))});
}

FailureOr<Val> build_sum(Generator &g, BuiltinArgs &a, SourceLoc l) {
  return reduceOver<gr::SumOp>(g, a, l, "sum");
}

FailureOr<Val> build_mean(Generator &g, BuiltinArgs &a, SourceLoc l) {
  return reduceOver<gr::MeanOp>(g, a, l, "mean");
}

FailureOr<Val> build_size(Generator &g, BuiltinArgs &a, SourceLoc) {
  auto x = g.tensor(a.values[0], a.locs[0], "size's x");
  if (failed(x))
    return failure();
  auto ax = g.axis(a.values[1], *x, a.locs[1], "size's axis");
  if (failed(ax))
    return failure();
  return Val::ofInt(cast<RankedTensorType>(x->getType()).getDimSize(*ax));
}

FailureOr<Val> build_sqrt(Generator &g, BuiltinArgs &a, SourceLoc) {
  auto x = g.number(a.values[0], a.locs[0], "sqrt's x");
  if (failed(x))
    return failure();
  if (*x < 0)
    return g.error(a.locs[0], "sqrt of a negative number");
  return Val::ofFloat(std::sqrt(*x));
}

/// Each built-in's builder, by name (frontend/Builtins.def).
const llvm::StringMap<BuiltinFn> &builtinTable() {
  static const llvm::StringMap<BuiltinFn> table = {
#define BUILTIN(NAME, PARAMS, SUMMARY, SCALAR) {#NAME, &build_##NAME},
#include "frontend/Builtins.def"
#undef BUILTIN
  };
  return table;
}

//===----------------------------------------------------------------------===//
// Generator
//===----------------------------------------------------------------------===//

FailureOr<Val> Generator::parseSetting(const std::string &name, const std::string &text) {
  const char *begin = text.c_str();
  char *end = nullptr;
  errno = 0;
  long long i = std::strtoll(begin, &end, 10);
  if (!text.empty() && *end == '\0' && errno == 0)
    return Val::ofInt(i);
  errno = 0;
  double f = std::strtod(begin, &end);
  if (!text.empty() && *end == '\0' && errno == 0 && std::isfinite(f))
    return Val::ofFloat(f);
  return error({}, "--set " + name + "=" + text + ": the value is not a number");
}

LogicalResult Generator::evaluateConstants() {
  const PresetDecl *preset = nullptr;
  if (!options_.preset.empty()) {
    preset = m_.findPreset(options_.preset);
    if (!preset) {
      std::string known;
      for (const PresetDecl &p : m_.presets)
        known += (known.empty() ? "" : ", ") + p.name.name;
      return error({}, "unknown preset '" + options_.preset + "'" +
                           (known.empty() ? " (the model defines no presets)"
                                          : " (the model defines: " + known + ")"));
    }
  }
  // Command-line values, checked against the model's constants.
  std::map<std::string, Val> overrides;
  auto findConst = [&](const std::string &n) -> const ConstDecl * {
    for (const ConstDecl &c : m_.consts)
      if (c.name.name == n)
        return &c;
    return nullptr;
  };
  auto bindDim = [&](const char *flag, const char *dimName,
                     std::optional<int64_t> v) -> LogicalResult {
    if (!v)
      return success();
    const ConstDecl *c = findConst(dimName);
    if (!c || !c->isDim)
      return error({}, std::string(flag) + ": the model has no 'dim " + dimName + "'");
    overrides[dimName] = Val::ofInt(*v);
    return success();
  };
  for (const ConstantSetting &s : options_.sets) {
    const std::string &n = s.name, &text = s.value;
    if (!findConst(n))
      return error({}, (s.origin.empty() ? "--set " + n + "=" + text : s.origin) +
                           ": the model has no constant '" + n + "'");
    auto v = parseSetting(n, text);
    if (failed(v))
      return failure();
    overrides[n] = *v;
  }
  if (failed(bindDim("--batch", "batch", options_.batch)) ||
      failed(bindDim("--seq", "seq", options_.seq)))
    return failure();

  scopes_.assign(1, {});
  for (const ConstDecl &c : m_.consts) {
    FailureOr<Val> v = failure();
    if (auto it = overrides.find(c.name.name); it != overrides.end()) {
      v = it->second;
    } else {
      const Expr *e = c.value.get();
      if (preset)
        for (const auto &s : preset->settings)
          if (s.name.name == c.name.name)
            e = s.value.get();
      v = expr(*e);
    }
    if (failed(v))
      return failure();
    if (!v->isNumber() && v->kind != Val::Bool && v->kind != Val::String)
      return error(c.name.loc,
                   "constant '" + c.name.name + "' must be a number, got " + kindName(*v));
    if (c.isDim && (v->kind != Val::Int || v->i <= 0))
      return error(c.name.loc, "dim '" + c.name.name + "' must be a positive integer, got " +
                                   (v->isNumber() ? formatNumber(v->number()) : kindName(*v)));
    consts_[c.name.name] = *v;
    constOrder_.push_back({c.name.name, *v});
    scopes_.back()[c.name.name] = *v;
  }
  scopes_.clear();
  return success();
}

OwningOpRef<ModuleOp> Generator::run() {
  if (failed(evaluateConstants()))
    return nullptr;

  const TaskDecl *task = m_.findTask(options_.task);
  if (!task) {
    std::string known;
    for (const TaskDecl &t : m_.tasks)
      known += (known.empty() ? "" : ", ") + t.name.name;
    (void)error({}, "unknown task '" + options_.task + "'" +
                        (known.empty() ? " (the model defines no tasks)"
                                       : " (the model defines: " + known + ")"));
    return nullptr;
  }

  for (const StmtPtr &s : m_.globals) {
    if (s->kind == StmtKind::Let)
      for (const Binding &b : static_cast<const LetStmt &>(*s).names)
        globalLets_[b.name] = static_cast<const LetStmt *>(s.get());
    if (s->kind == StmtKind::Input)
      globalInputs_[static_cast<const InputStmt &>(*s).name.name] =
          static_cast<const InputStmt *>(s.get());
  }

  Location moduleLoc = FileLineColLoc::get(fileName_, 1, 1);
  OwningOpRef<ModuleOp> module = ModuleOp::create(moduleLoc);
  std::string modelName = m_.model.name.empty() ? "model" : m_.model.name;
  builder_.setInsertionPointToEnd(module->getBody());
  auto fn = builder_.create<func::FuncOp>(loc(task->name.loc), modelName + "_" + task->name.name,
                                          builder_.getFunctionType({}, {}));
  mlir::Block *body = fn.addEntryBlock();
  builder_.setInsertionPointToStart(body);

  // Global checks run first: they guard the whole model.
  scopes_.assign(1, {});
  for (const StmtPtr &s : m_.globals)
    if (s->kind == StmtKind::Check && failed(statement(*s, nullptr)))
      return nullptr;
  if (failed(block(task->body, nullptr)))
    return nullptr;
  builder_.create<func::ReturnOp>(loc(task->name.loc));

  // What the runtime needs to know about this graph.
  SmallVector<NamedAttribute> dims, config;
  for (const auto &[n, v] : constOrder_) {
    Attribute a;
    switch (v.kind) {
    case Val::Int:
      a = builder_.getI64IntegerAttr(v.i);
      break;
    case Val::Float:
      a = builder_.getF64FloatAttr(v.f);
      break;
    case Val::Bool:
      a = builder_.getBoolAttr(v.b);
      break;
    case Val::String:
      a = builder_.getStringAttr(v.s);
      break;
    default:
      continue;
    }
    config.push_back(builder_.getNamedAttr(n, a));
    for (const ConstDecl &c : m_.consts)
      if (c.name.name == n && c.isDim)
        dims.push_back(builder_.getNamedAttr(n, a));
  }
  fn->setAttr("bertc.model", builder_.getStringAttr(modelName));
  fn->setAttr("bertc.task", builder_.getStringAttr(task->name.name));
  if (!options_.preset.empty())
    fn->setAttr("bertc.preset", builder_.getStringAttr(options_.preset));
  fn->setAttr("bertc.dims", builder_.getDictionaryAttr(dims));
  fn->setAttr("bertc.config", builder_.getDictionaryAttr(config));
  if (!lossOutput_.empty())
    fn->setAttr("bertc.loss", builder_.getStringAttr(lossOutput_));

  if (failed(verify(*module)))
    return nullptr;
  return module;
}

LogicalResult Generator::block(const Block &stmts, std::optional<Val> *returned) {
  for (const StmtPtr &s : stmts) {
    if (failed(statement(*s, returned)))
      return failure();
    if (returned && returned->has_value())
      return success();
  }
  return success();
}

LogicalResult Generator::statement(const Stmt &s, std::optional<Val> *returned) {
  if (++steps_ > kMaxSteps)
    return error(s.loc, "evaluating the model takes more than " + std::to_string(kMaxSteps) +
                            " steps; is a loop too long?");
  switch (s.kind) {
  case StmtKind::Let: {
    auto &let = static_cast<const LetStmt &>(s);
    auto v = expr(*let.value);
    if (failed(v))
      return failure();
    if (let.names.size() == 1) {
      if (v->kind == Val::Tuple)
        return error(let.names[0].loc, "the value gives " + std::to_string(v->elems.size()) +
                                           " values; bind them all: let a, b = ...");
      scopes_.back()[let.names[0].name] = *v;
      return success();
    }
    if (v->kind != Val::Tuple || v->elems.size() != let.names.size())
      return error(let.loc,
                   "cannot bind " + std::to_string(let.names.size()) + " names to " + kindName(*v));
    for (size_t i = 0; i < let.names.size(); ++i)
      scopes_.back()[let.names[i].name] = v->elems[i];
    return success();
  }
  case StmtKind::Assign: {
    auto &a = static_cast<const AssignStmt &>(s);
    auto v = expr(*a.value);
    if (failed(v))
      return failure();
    Val *target = lookupLocal(a.target.name);
    if (!target)
      return error(a.target.loc, "assignment to unknown name '" + a.target.name + "'");
    *target = *v;
    return success();
  }
  case StmtKind::Return: {
    auto &r = static_cast<const ReturnStmt &>(s);
    if (!returned)
      return error(s.loc, "'return' outside of a function");
    Val result;
    if (r.values.size() == 1) {
      auto v = expr(*r.values[0]);
      if (failed(v))
        return failure();
      result = *v;
    } else {
      result.kind = Val::Tuple;
      for (const ExprPtr &e : r.values) {
        auto v = expr(*e);
        if (failed(v))
          return failure();
        result.elems.push_back(*v);
      }
    }
    *returned = result;
    return success();
  }
  case StmtKind::For: {
    auto &f = static_cast<const ForStmt &>(s);
    auto lo = expr(*f.lo);
    auto hi = expr(*f.hi);
    if (failed(lo) || failed(hi))
      return failure();
    auto l = integer(*lo, f.lo->loc, "the loop's start");
    auto h = integer(*hi, f.hi->loc, "the loop's end");
    if (failed(l) || failed(h))
      return failure();
    if (*h - *l > kMaxLoopTrips)
      return error(f.loc, "loop of " + std::to_string(*h - *l) + " iterations; at most " +
                              std::to_string(kMaxLoopTrips) + " are unrolled");
    for (int64_t i = *l; i < *h; ++i) {
      scopes_.emplace_back();
      scopes_.back()[f.var.name] = Val::ofInt(i);
      LogicalResult r = block(f.body, returned);
      scopes_.pop_back();
      if (failed(r))
        return failure();
    }
    return success();
  }
  case StmtKind::Output: {
    auto &o = static_cast<const OutputStmt &>(s);
    auto v = expr(*o.value);
    if (failed(v))
      return failure();
    auto t = tensor(*v, o.value->loc, "output '" + o.name.name + "'");
    if (failed(t))
      return failure();
    builder_.create<gr::OutputOp>(loc(o.loc), o.name.name, *t);
    scopes_.back()[o.name.name] = *v;
    return success();
  }
  case StmtKind::Minimize: {
    auto &m = static_cast<const MinimizeStmt &>(s);
    lossOutput_ = m.name.name;
    // The objective must be a scalar: find the output it names.
    for (Operation &op : *builder_.getInsertionBlock())
      if (auto out = dyn_cast<gr::OutputOp>(op);
          out && out.getName() == m.name.name &&
          cast<RankedTensorType>(out.getValue().getType()).getRank() != 0)
        return error(m.name.loc, "'minimize " + m.name.name + "': the output is " +
                                     gr::formatType(out.getValue().getType()) +
                                     ", a loss must be a scalar (f32[])");
    return success();
  }
  case StmtKind::Check: {
    auto &c = static_cast<const CheckStmt &>(s);
    auto v = expr(*c.cond);
    if (failed(v))
      return failure();
    auto b = boolean(*v, c.cond->loc, "a check's condition");
    if (failed(b))
      return failure();
    if (!*b)
      return error(c.loc, "check failed: " + c.message);
    return success();
  }
  case StmtKind::Input: {
    auto &in = static_cast<const InputStmt &>(s);
    auto v = input(in);
    if (failed(v))
      return failure();
    scopes_.back()[in.name.name] = *v;
    return success();
  }
  }
  return failure();
}

FailureOr<Val> Generator::input(const InputStmt &s) {
  auto t = type(s.type);
  if (failed(t))
    return failure();
  ++opCount_;
  auto op = builder_.create<gr::InputOp>(loc(s.loc), *t, s.name.name);
  return Val::ofTensor(op.getResult());
}

FailureOr<RankedTensorType> Generator::type(const TypeExpr &t) {
  Type element;
  if (t.dtype == "f32")
    element = options_.f64 ? builder_.getF64Type() : builder_.getF32Type();
  else if (t.dtype == "f64")
    element = builder_.getF64Type();
  else if (t.dtype == "i32")
    element = builder_.getI32Type();
  else
    return error(t.loc, "unknown element type '" + t.dtype + "'");
  SmallVector<int64_t> shape;
  int64_t elements = 1;
  for (const ExprPtr &d : t.dims) {
    auto v = expr(*d);
    if (failed(v))
      return failure();
    if (v->kind != Val::Int || v->i <= 0)
      return error(d->loc, "a dimension must be a positive integer, got " +
                               (v->kind == Val::Int ? std::to_string(v->i) : kindName(*v)));
    shape.push_back(v->i);
    if (elements > kMaxElements / v->i)
      return error(d->loc, "the tensor has more than 2^40 elements");
    elements *= v->i;
  }
  return RankedTensorType::get(shape, element);
}

FailureOr<Val> Generator::expr(const Expr &e) {
  switch (e.kind) {
  case ExprKind::Int:
    return Val::ofInt(static_cast<const IntExpr &>(e).value);
  case ExprKind::Float:
    return Val::ofFloat(static_cast<const FloatExpr &>(e).value);
  case ExprKind::Bool:
    return Val::ofBool(static_cast<const BoolExpr &>(e).value);
  case ExprKind::String:
    return interpolate(static_cast<const StringExpr &>(e));
  case ExprKind::Name:
    return name(static_cast<const NameExpr &>(e).name, e.loc);
  case ExprKind::List: {
    Val list;
    list.kind = Val::List;
    for (const ExprPtr &x : static_cast<const ListExpr &>(e).elements) {
      auto v = expr(*x);
      if (failed(v))
        return failure();
      list.elems.push_back(*v);
    }
    return list;
  }
  case ExprKind::Unary:
    return unary(static_cast<const UnaryExpr &>(e));
  case ExprKind::Binary:
    return binary(static_cast<const BinaryExpr &>(e));
  case ExprKind::Call:
    return call(static_cast<const CallExpr &>(e));
  case ExprKind::Param:
    return param(static_cast<const ParamExpr &>(e));
  }
  return failure();
}

FailureOr<Val> Generator::name(const std::string &n, SourceLoc l) {
  if (Val *v = lookupLocal(n))
    return *v;
  if (auto it = consts_.find(n); it != consts_.end())
    return it->second;
  if (auto it = globalCache_.find(n); it != globalCache_.end())
    return it->second;
  // Globals are built on first use, at the top of the graph's function, so
  // that a task pays only for what it uses.
  if (auto it = globalInputs_.find(n); it != globalInputs_.end()) {
    auto v = input(*it->second);
    if (failed(v))
      return failure();
    return globalCache_[n] = *v;
  }
  if (auto it = globalLets_.find(n); it != globalLets_.end()) {
    if (globalInProgress_[n])
      return error(l, "global '" + n + "' depends on itself");
    globalInProgress_[n] = true;
    // Evaluate in a fresh scope: a global sees only other globals.
    auto savedScopes = std::move(scopes_);
    auto savedStack = std::move(callStack_);
    scopes_.assign(1, {});
    callStack_.clear();
    auto v = expr(*it->second->value);
    scopes_ = std::move(savedScopes);
    callStack_ = std::move(savedStack);
    globalInProgress_[n] = false;
    if (failed(v))
      return failure();
    const LetStmt &let = *it->second;
    if (let.names.size() == 1)
      return globalCache_[n] = *v;
    if (v->kind != Val::Tuple || v->elems.size() != let.names.size())
      return error(let.loc,
                   "cannot bind " + std::to_string(let.names.size()) + " names to " + kindName(*v));
    for (size_t i = 0; i < let.names.size(); ++i)
      globalCache_[let.names[i].name] = v->elems[i];
    return globalCache_[n];
  }
  return error(l, "unknown name '" + n + "'");
}

FailureOr<Val> Generator::interpolate(const StringExpr &e) {
  std::string out;
  for (const auto &p : e.parts) {
    if (!p.isName) {
      out += p.text;
      continue;
    }
    auto v = name(p.text, p.loc);
    if (failed(v))
      return failure();
    switch (v->kind) {
    case Val::Int:
      out += std::to_string(v->i);
      break;
    case Val::Float:
      out += formatNumber(v->f);
      break;
    case Val::String:
      out += v->s;
      break;
    case Val::Bool:
      out += v->b ? "true" : "false";
      break;
    default:
      return error(p.loc, "cannot put " + kindName(*v) + " into a string");
    }
  }
  return Val::ofString(out);
}

FailureOr<Val> Generator::unary(const UnaryExpr &e) {
  auto v = expr(*e.operand);
  if (failed(v))
    return failure();
  if (e.op == UnaryOp::Not) {
    auto b = boolean(*v, e.operand->loc, "the operand of 'not'");
    if (failed(b))
      return failure();
    return Val::ofBool(!*b);
  }
  switch (v->kind) {
  case Val::Int:
    return Val::ofInt(-v->i);
  case Val::Float:
    return Val::ofFloat(-v->f);
  case Val::Tensor:
    return create<gr::ScaleOp>(e.loc, {v->tensor},
                               {builder_.getNamedAttr("factor", builder_.getF64FloatAttr(-1.0))});
  default:
    return error(e.loc, "cannot negate " + kindName(*v));
  }
}

FailureOr<Val> Generator::binary(const BinaryExpr &e) {
  auto lhs = expr(*e.lhs);
  if (failed(lhs))
    return failure();
  // Short-circuit 'and' / 'or' so that a guard can protect its right side.
  if (e.op == BinaryOp::And || e.op == BinaryOp::Or) {
    auto l =
        boolean(*lhs, e.lhs->loc, std::string("the left side of '") + binaryOpSpelling(e.op) + "'");
    if (failed(l))
      return failure();
    if (*l == (e.op == BinaryOp::Or))
      return Val::ofBool(*l);
    auto rhs = expr(*e.rhs);
    if (failed(rhs))
      return failure();
    auto r = boolean(*rhs, e.rhs->loc,
                     std::string("the right side of '") + binaryOpSpelling(e.op) + "'");
    if (failed(r))
      return failure();
    return Val::ofBool(*r);
  }
  auto rhs = expr(*e.rhs);
  if (failed(rhs))
    return failure();
  const char *sym = binaryOpSpelling(e.op);

  // Tensor arithmetic: scalars become rank-0 constants that broadcast.
  if (lhs->kind == Val::Tensor || rhs->kind == Val::Tensor) {
    Value t = lhs->kind == Val::Tensor ? lhs->tensor : rhs->tensor;
    Type element = cast<RankedTensorType>(t.getType()).getElementType();
    auto operand = [&](const Val &v, SourceLoc l) -> FailureOr<Value> {
      if (v.kind == Val::Tensor)
        return v.tensor;
      if (v.isNumber() && isa<FloatType>(element))
        return constant(l, v.number(), element);
      return error(l, std::string("cannot use ") + kindName(v) + " with a tensor in '" + sym + "'");
    };
    auto a = operand(*lhs, e.lhs->loc);
    if (failed(a))
      return failure();
    auto b = operand(*rhs, e.rhs->loc);
    if (failed(b))
      return failure();
    switch (e.op) {
    case BinaryOp::Add:
      return create<gr::AddOp>(e.loc, {*a, *b});
    case BinaryOp::Sub:
      return create<gr::SubOp>(e.loc, {*a, *b});
    case BinaryOp::Mul:
      return create<gr::MulOp>(e.loc, {*a, *b});
    case BinaryOp::Div:
      return create<gr::DivOp>(e.loc, {*a, *b});
    default:
      return error(e.loc, std::string("'") + sym + "' is not defined on tensors");
    }
  }

  if (lhs->kind == Val::String && rhs->kind == Val::String && e.op == BinaryOp::Add)
    return Val::ofString(lhs->s + rhs->s);
  if ((lhs->kind == Val::String && rhs->kind == Val::String) ||
      (lhs->kind == Val::Bool && rhs->kind == Val::Bool)) {
    if (e.op == BinaryOp::Eq || e.op == BinaryOp::Ne) {
      bool eq = lhs->kind == Val::String ? lhs->s == rhs->s : lhs->b == rhs->b;
      return Val::ofBool((e.op == BinaryOp::Eq) == eq);
    }
  }
  if (!lhs->isNumber() || !rhs->isNumber())
    return error(e.loc, std::string("cannot apply '") + sym + "' to " + kindName(*lhs) + " and " +
                            kindName(*rhs));

  bool ints = lhs->kind == Val::Int && rhs->kind == Val::Int;
  double x = lhs->number(), y = rhs->number();
  switch (e.op) {
  case BinaryOp::Eq:
    return Val::ofBool(ints ? lhs->i == rhs->i : x == y);
  case BinaryOp::Ne:
    return Val::ofBool(ints ? lhs->i != rhs->i : x != y);
  case BinaryOp::Lt:
    return Val::ofBool(ints ? lhs->i < rhs->i : x < y);
  case BinaryOp::Le:
    return Val::ofBool(ints ? lhs->i <= rhs->i : x <= y);
  case BinaryOp::Gt:
    return Val::ofBool(ints ? lhs->i > rhs->i : x > y);
  case BinaryOp::Ge:
    return Val::ofBool(ints ? lhs->i >= rhs->i : x >= y);
  default:
    break;
  }
  if (ints) {
    int64_t a = lhs->i, b = rhs->i, r = 0;
    switch (e.op) {
    case BinaryOp::Add:
      if (__builtin_add_overflow(a, b, &r))
        return error(e.loc, "integer overflow in '+'");
      return Val::ofInt(r);
    case BinaryOp::Sub:
      if (__builtin_sub_overflow(a, b, &r))
        return error(e.loc, "integer overflow in '-'");
      return Val::ofInt(r);
    case BinaryOp::Mul:
      if (__builtin_mul_overflow(a, b, &r))
        return error(e.loc, "integer overflow in '*'");
      return Val::ofInt(r);
    case BinaryOp::Div:
    case BinaryOp::Mod:
      if (b == 0)
        return error(e.loc, std::string("division by zero in '") + sym + "'");
      if (a == INT64_MIN && b == -1)
        return error(e.loc, "integer overflow in '/'");
      // Integer division rounds toward negative infinity, like Python.
      r = e.op == BinaryOp::Div ? a / b : a % b;
      if (e.op == BinaryOp::Div && (a % b != 0) && ((a < 0) != (b < 0)))
        --r;
      if (e.op == BinaryOp::Mod && r != 0 && ((r < 0) != (b < 0)))
        r += b;
      return Val::ofInt(r);
    default:
      break;
    }
  }
  switch (e.op) {
  case BinaryOp::Add:
    return Val::ofFloat(x + y);
  case BinaryOp::Sub:
    return Val::ofFloat(x - y);
  case BinaryOp::Mul:
    return Val::ofFloat(x * y);
  case BinaryOp::Div:
    if (y == 0)
      return error(e.loc, "division by zero in '/'");
    return Val::ofFloat(x / y);
  case BinaryOp::Mod:
    if (y == 0)
      return error(e.loc, "division by zero in '%'");
    return Val::ofFloat(std::fmod(x, y));
  default:
    return error(e.loc, std::string("cannot apply '") + sym + "' to numbers");
  }
}

FailureOr<Val> Generator::call(const CallExpr &e) {
  if (const FnDecl *fn = m_.findFunction(e.callee))
    return callFunction(*fn, e);
  const BuiltinSignature *sig = findBuiltin(e.callee);
  auto it = builtinTable().find(e.callee);
  if (!sig || it == builtinTable().end())
    return error(e.loc, "unknown function '" + e.callee + "'");
  BuiltinArgs args;
  args.values.resize(sig->params.size());
  args.locs.resize(sig->params.size(), e.loc);
  size_t positional = 0;
  for (const Arg &a : e.args) {
    size_t slot = positional;
    if (!a.keyword.empty()) {
      slot = 0;
      while (slot < sig->params.size() && a.keyword != sig->params[slot].name)
        ++slot;
    } else {
      ++positional;
    }
    if (slot >= sig->params.size())
      return error(a.loc, "bad argument to '" + e.callee + "'");
    auto v = expr(*a.value);
    if (failed(v))
      return failure();
    args.values[slot] = *v;
    args.locs[slot] = a.value->loc;
  }
  for (size_t i = 0; i < sig->params.size(); ++i)
    if (sig->params[i].required && !args.has(i))
      return error(e.loc, std::string("missing argument '") + sig->params[i].name +
                              "' in call to '" + e.callee + "'");
  return it->second(*this, args, e.loc);
}

FailureOr<Val> Generator::callFunction(const FnDecl &fn, const CallExpr &e) {
  if (callStack_.size() >= kMaxInlineDepth)
    return error(e.loc, "calls nested deeper than " + std::to_string(kMaxInlineDepth));
  std::map<std::string, Val> frame;
  size_t positional = 0;
  for (const Arg &a : e.args) {
    size_t slot = positional;
    if (!a.keyword.empty()) {
      slot = 0;
      while (slot < fn.params.size() && a.keyword != fn.params[slot].name)
        ++slot;
    } else {
      ++positional;
    }
    if (slot >= fn.params.size())
      return error(a.loc, "bad argument to '" + fn.name.name + "'");
    auto v = expr(*a.value);
    if (failed(v))
      return failure();
    frame[fn.params[slot].name] = *v;
  }
  if (frame.size() != fn.params.size())
    return error(e.loc, "'" + fn.name.name + "' takes " + std::to_string(fn.params.size()) +
                            " arguments, got " + std::to_string(frame.size()));
  // The callee sees its parameters and the globals, not the caller's locals.
  auto savedScopes = std::move(scopes_);
  scopes_.assign(1, std::move(frame));
  callStack_.push_back(loc(e.loc));
  std::optional<Val> result;
  LogicalResult r = block(fn.body, &result);
  callStack_.pop_back();
  scopes_ = std::move(savedScopes);
  if (failed(r))
    return failure();
  if (!result)
    return error(e.loc, "'" + fn.name.name + "' returned no value");
  return *result;
}

FailureOr<Val> Generator::param(const ParamExpr &e) {
  auto t = type(e.type);
  if (failed(t))
    return failure();
  if (!isa<FloatType>(t->getElementType()))
    return error(e.type.loc, "parameters must have a floating-point element type");
  auto n = expr(*e.name);
  if (failed(n))
    return failure();
  auto checkpointName = string(*n, e.name->loc, "a parameter's name");
  if (failed(checkpointName))
    return failure();
  if (checkpointName->empty())
    return error(e.name->loc, "a parameter's name must not be empty");
  auto [it, inserted] = paramNames_.emplace(*checkpointName, loc(e.loc));
  if (!inserted) {
    // Point at the first definition too (usually a loop missing {i} in the name).
    InFlightDiagnostic d = emitError(loc(e.name->loc))
                           << "duplicate parameter name '" << *checkpointName << "'";
    d.attachNote(it->second) << "'" << *checkpointName << "' was first defined here";
    return failure();
  }
  std::optional<gr::InitKind> kind = gr::symbolizeInitKind(e.init);
  if (!kind)
    return error(e.initLoc, "unknown initializer '" + e.init + "'");
  double stddev = 0;
  if (*kind == gr::InitKind::normal) {
    if (e.initArgs.size() != 1)
      return error(e.initLoc, "normal(std) takes one argument");
    auto v = expr(*e.initArgs[0]);
    if (failed(v))
      return failure();
    auto s = number(*v, e.initArgs[0]->loc, "normal's std");
    if (failed(s))
      return failure();
    if (!(*s > 0))
      return error(e.initArgs[0]->loc, "normal's std must be > 0, got " + formatNumber(*s));
    stddev = *s;
  }
  ++opCount_;
  auto op = builder_.create<gr::ParameterOp>(
      loc(e.loc), *t, builder_.getStringAttr(*checkpointName), gr::InitKindAttr::get(&ctx_, *kind),
      builder_.getF64FloatAttr(stddev));
  return Val::ofTensor(op.getResult());
}

} // namespace

OwningOpRef<ModuleOp> buildGraph(MLIRContext &context, const SourceFile &file, const Module &module,
                                 const GraphOptions &options) {
  return Generator(context, file, module, options).run();
}

} // namespace bertc::frontend
