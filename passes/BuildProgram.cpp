//===- BuildProgram.cpp - Schedule and buffer plan of a graph -------------===//
#include "passes/BuildProgram.h"
#include "passes/KernelKinds.h"

#include "dialects/graph/GraphOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace mlir;
namespace gr = bertc::graph;

namespace bertc {

namespace {

constexpr int64_t kAlignment = 64;

int64_t alignUp(int64_t v) { return (v + kAlignment - 1) / kAlignment * kAlignment; }

FailureOr<rt::DType> dtypeOf(Type element) {
  if (element.isF32())
    return rt::DType::F32;
  if (element.isF64())
    return rt::DType::F64;
  if (element.isInteger(32))
    return rt::DType::I32;
  return failure();
}

/// An activation buffer's lifetime in dispatch steps (inputs start at -1).
struct Interval {
  int64_t bytes;
  int first, last;
  std::vector<int> tensors; ///< The buffer's tensor and its views.
  bool inPlace = false;     ///< Written into a parameter or state instead.
};

/// Gives each buffer the lowest offset at which it overlaps no buffer live at
/// the same time; returns the peak. Buffers are placed largest first.
int64_t planArena(std::vector<Interval> &buffers, std::vector<rt::TensorDesc> &tensors) {
  std::vector<size_t> order(buffers.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
  std::vector<std::pair<size_t, int64_t>> placed; // buffer, offset
  int64_t peak = 0;
  for (size_t i : order) {
    const Interval &buf = buffers[i];
    if (buf.inPlace)
      continue;
    std::vector<std::pair<int64_t, int64_t>> busy; // [begin, end) of live overlaps
    for (auto [j, off] : placed)
      if (buffers[j].first <= buf.last && buf.first <= buffers[j].last)
        busy.push_back({off, off + alignUp(buffers[j].bytes)});
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (auto [b, e] : busy) {
      if (offset + buf.bytes <= b)
        break;
      offset = std::max(offset, e);
    }
    placed.push_back({i, offset});
    peak = std::max(peak, offset + alignUp(buf.bytes));
    for (int t : buf.tensors)
      tensors[t].offset = offset;
  }
  return peak;
}

/// Outlines a dispatch body as `func.func @name(inputs) -> results`.
func::FuncOp outline(gr::DispatchOp dispatch, OpBuilder &b, StringRef name) {
  Block &body = dispatch.getBody().front();
  auto type = b.getFunctionType(body.getArgumentTypes(), dispatch.getResultTypes());
  auto fn = b.create<func::FuncOp>(dispatch.getLoc(), name, type);
  Block *entry = fn.addEntryBlock();
  IRMapping map;
  map.map(body.getArguments(), entry->getArguments());
  OpBuilder inner = OpBuilder::atBlockBegin(entry);
  for (Operation &op : body.without_terminator())
    inner.clone(op, map);
  SmallVector<Value> results;
  for (Value v : cast<gr::YieldOp>(body.getTerminator()).getValues())
    results.push_back(map.lookup(v));
  inner.create<func::ReturnOp>(dispatch.getLoc(), results);
  return fn;
}

/// Whether result `result` of `dispatch` may be written into the storage of
/// its input `input`: the only reader of that input in the body is the
/// all-parallel linalg.generic yielding the result, through the result's own
/// permutation map, so each element is read before it is written and by the
/// workgroup that writes it.
bool writesInPlaceSafely(gr::DispatchOp dispatch, unsigned input, unsigned result) {
  Block &body = dispatch.getBody().front();
  Value yielded = cast<gr::YieldOp>(body.getTerminator()).getValues()[result];
  auto generic = yielded.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic.getNumReductionLoops() != 0)
    return false;
  OpOperand *out = generic.getDpsInitOperand(cast<OpResult>(yielded).getResultNumber());
  AffineMap outMap = generic.getMatchingIndexingMap(out);
  if (!outMap.isPermutation())
    return false;
  for (OpOperand &use : body.getArgument(input).getUses())
    if (use.getOwner() != generic.getOperation() || !generic.isDpsInput(&use) ||
        generic.getMatchingIndexingMap(&use) != outMap)
      return false;
  return true;
}

} // namespace

FailureOr<ProgramPlan> buildProgram(func::FuncOp fn) {
  MLIRContext *ctx = fn.getContext();
  ProgramPlan plan;
  rt::Program &p = plan.program;
  plan.kernels = ModuleOp::create(fn.getLoc());
  OpBuilder kb = OpBuilder::atBlockEnd(plan.kernels->getBody());

  auto str = [&](StringRef attr) {
    auto a = fn->getAttrOfType<StringAttr>(attr);
    return a ? a.str() : std::string();
  };
  p.model = str("bertc.model");
  p.task = str("bertc.task");
  p.preset = str("bertc.preset");
  p.config = rt::Json::object();
  if (auto config = fn->getAttrOfType<DictionaryAttr>("bertc.config"))
    for (NamedAttribute a : config) {
      if (auto i = dyn_cast<IntegerAttr>(a.getValue()))
        p.config[a.getName().str()] = rt::Json(static_cast<int64_t>(i.getInt()));
      else if (auto f = dyn_cast<FloatAttr>(a.getValue()))
        p.config[a.getName().str()] = rt::Json(f.getValueAsDouble());
    }

  llvm::DenseMap<Value, int> tensorOf; // SSA value -> tensor id
  llvm::DenseMap<int, int> bufferOf;   // activation tensor id -> interval index
  std::vector<Interval> buffers;
  llvm::StringMap<int> kernelOf;             // printed kernel -> kernel index
  llvm::DenseMap<int, int> lastRead;         // persistent tensor id -> last dispatch reading it
  llvm::DenseMap<int, int> viewOf;           // view of a persistent tensor -> that tensor
  std::vector<std::pair<int, int>> assigned; // target tensor id, dispatch writing it
  int step = 0;

  auto newTensor = [&](Value v, std::string name, rt::Storage storage) -> FailureOr<int> {
    auto type = cast<RankedTensorType>(v.getType());
    auto dtype = dtypeOf(type.getElementType());
    if (failed(dtype))
      return emitError(v.getLoc()) << "unsupported element type " << type.getElementType();
    rt::TensorDesc t;
    t.name = std::move(name);
    t.dtype = *dtype;
    t.shape.assign(type.getShape().begin(), type.getShape().end());
    t.storage = storage;
    int id = static_cast<int>(p.tensors.size());
    p.tensors.push_back(std::move(t));
    tensorOf[v] = id;
    return id;
  };
  auto newActivation = [&](Value v, std::string name, int first) -> FailureOr<int> {
    auto id = newTensor(v, std::move(name), rt::Storage::Activation);
    if (failed(id))
      return failure();
    bufferOf[*id] = static_cast<int>(buffers.size());
    buffers.push_back({p.tensors[*id].bytes(), first, first, {*id}});
    return id;
  };
  auto use = [&](Value v) -> FailureOr<int> {
    auto it = tensorOf.find(v);
    if (it == tensorOf.end())
      return emitError(v.getLoc()) << "value is not a tensor of the program";
    if (auto b = bufferOf.find(it->second); b != bufferOf.end())
      buffers[b->second].last = std::max(buffers[b->second].last, step);
    else if (auto root = viewOf.find(it->second); root != viewOf.end())
      lastRead[root->second] = step;
    else
      lastRead[it->second] = step;
    return it->second;
  };
  auto intermediateName = [&] { return "%" + std::to_string(p.tensors.size()); };

  for (Operation &op : fn.getBody().front()) {
    if (auto param = dyn_cast<gr::ParameterOp>(op)) {
      auto id = newTensor(param, param.getName().str(), rt::Storage::Parameter);
      if (failed(id))
        return failure();
      p.tensors[*id].offset = p.parameterBytes;
      p.parameterBytes += alignUp(p.tensors[*id].bytes());
      p.parameters.push_back({param.getName().str(), *id,
                              gr::stringifyInitKind(param.getInit()).str(),
                              param.getStd().convertToDouble()});
    } else if (auto state = dyn_cast<gr::StateOp>(op)) {
      auto id = newTensor(state, state.getName().str(), rt::Storage::Parameter);
      if (failed(id))
        return failure();
      p.tensors[*id].offset = p.parameterBytes;
      p.parameterBytes += alignUp(p.tensors[*id].bytes());
      p.state.push_back({state.getName().str(), *id});
    } else if (auto assign = dyn_cast<gr::AssignOp>(op)) {
      // The value's dispatch writes straight into the target's storage.
      int target = tensorOf.lookup(assign.getTarget());
      auto dispatch = assign.getValue().getDefiningOp<gr::DispatchOp>();
      auto value = tensorOf.find(assign.getValue());
      auto buffer = value == tensorOf.end() ? bufferOf.end() : bufferOf.find(value->second);
      if (!dispatch || buffer == bufferOf.end() || buffers[buffer->second].inPlace ||
          buffers[buffer->second].tensors.size() != 1)
        return assign.emitError("cannot write this value in place: it must be a dispatch "
                                "result assigned once, without views");
      Interval &buf = buffers[buffer->second];
      if (lastRead.lookup(target) > buf.first)
        return assign.emitError("the target is read after its new value is computed");
      unsigned result = cast<OpResult>(assign.getValue()).getResultNumber();
      for (auto [i, in] : llvm::enumerate(dispatch.getInputs()))
        if (in == assign.getTarget() && !writesInPlaceSafely(dispatch, i, result))
          return assign.emitError("the dispatch computing the new value does not read the "
                                  "target elementwise, so it cannot overwrite it");
      buf.inPlace = true;
      rt::TensorDesc &t = p.tensors[value->second];
      t.storage = rt::Storage::Parameter;
      t.offset = p.tensors[target].offset;
      assigned.push_back({target, buf.first});
    } else if (auto input = dyn_cast<gr::InputOp>(op)) {
      auto id = newActivation(input, input.getName().str(), -1);
      if (failed(id))
        return failure();
      p.inputs.push_back({input.getName().str(), *id});
    } else if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(op)) {
      // A view: same range as its source.
      auto src = use(op.getOperand(0));
      if (failed(src))
        return failure();
      auto id = newTensor(op.getResult(0), intermediateName(), p.tensors[*src].storage);
      if (failed(id))
        return failure();
      p.tensors[*id].offset = p.tensors[*src].offset;
      if (auto b = bufferOf.find(*src); b != bufferOf.end()) {
        int buffer = b->second; // before the insertion below rehashes
        bufferOf[*id] = buffer;
        buffers[buffer].tensors.push_back(*id);
      } else {
        auto root = viewOf.find(*src);
        int persistent = root == viewOf.end() ? *src : root->second; // before rehashing
        viewOf[*id] = persistent;
      }
    } else if (auto dispatch = dyn_cast<gr::DispatchOp>(op)) {
      rt::DispatchDesc d;
      for (Value v : dispatch.getInputs()) {
        auto id = use(v);
        if (failed(id))
          return failure();
        d.bindings.push_back(*id);
      }
      for (Value r : dispatch.getResults()) {
        auto id = newActivation(r, intermediateName(), step);
        if (failed(id))
          return failure();
        d.bindings.push_back(*id);
      }
      d.results = static_cast<int>(dispatch.getNumResults());
      // One kernel per distinct body.
      std::string name = "kernel_" + std::to_string(p.kernels.size());
      func::FuncOp kernel = outline(dispatch, kb, "kernel");
      std::string key;
      llvm::raw_string_ostream os(key);
      kernel->print(os, OpPrintingFlags().printGenericOpForm().skipRegions(false));
      os.flush();
      auto [it, inserted] = kernelOf.try_emplace(key, static_cast<int>(p.kernels.size()));
      if (inserted) {
        kernel.setSymName(name);
        p.kernels.push_back(name);
        p.kernelKinds.emplace_back(contract::kernelKindName(kernelKindOf(dispatch.getBody())));
      } else {
        kernel.erase();
      }
      d.kernel = it->second;
      p.dispatches.push_back(std::move(d));
      ++step;
    } else if (auto output = dyn_cast<gr::OutputOp>(op)) {
      auto id = use(output.getValue());
      if (failed(id))
        return failure();
      p.outputs.push_back({output.getName().str(), *id});
    } else if (isa<func::ReturnOp>(op)) {
      continue;
    } else {
      return op.emitError("cannot schedule this op: it is not in a dispatch region");
    }
  }
  for (auto [target, writer] : assigned)
    if (lastRead.lookup(target) > writer)
      return fn.emitError("parameter or state '")
             << p.tensors[target].name << "' is read after the dispatch that overwrites it";
  // The forward pass: up to the last dispatch that an output other than a
  // gradient needs.
  p.forwardDispatches = 0;
  for (const rt::NamedTensor &o : p.outputs) {
    if (contract::isGradient(o.name))
      continue;
    auto b = bufferOf.find(o.tensor);
    int64_t producer = b == bufferOf.end() ? -1 : buffers[b->second].first;
    p.forwardDispatches = std::max<int64_t>(p.forwardDispatches, producer + 1);
  }
  if (p.state.empty() && p.outputs.empty())
    p.forwardDispatches = static_cast<int64_t>(p.dispatches.size());
  // Evaluation runs the forward dispatches alone: none may update a
  // parameter or the optimizer's state (fusion must not have moved one
  // there).
  for (auto [target, writer] : assigned)
    if (writer < p.forwardDispatches)
      return fn.emitError("parameter or state '")
             << p.tensors[target].name << "' would be updated by the forward pass (dispatch "
             << writer << " of its " << p.forwardDispatches << ")";
  // Outputs stay readable after the last dispatch.
  for (const rt::NamedTensor &o : p.outputs)
    if (auto b = bufferOf.find(o.tensor); b != bufferOf.end())
      buffers[b->second].last = step;
  p.activationBytes = planArena(buffers, p.tensors);
  (void)ctx;
  return plan;
}

} // namespace bertc
