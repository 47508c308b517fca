//===- BuildProgram.cpp - Schedule, kernel table and buffer plan ----------===//
#include "passes/program/BuildProgram.h"
#include "passes/GraphInputs.h"
#include "passes/program/BufferPlan.h"
#include "passes/program/KernelTable.h"

#include "dialects/graph/GraphOps.h"
#include "runtime/Contract.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <algorithm>

using namespace mlir;
namespace gr = bertc::graph;

namespace bertc {

namespace {

FailureOr<rt::DType> dtypeOf(Type element) {
  if (element.isF32())
    return rt::DType::F32;
  if (element.isF64())
    return rt::DType::F64;
  if (element.isInteger(32))
    return rt::DType::I32;
  if (element.isBF16())
    return rt::DType::BF16;
  return failure();
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

/// The schedule: walks the function once, in order, giving every value a
/// tensor of the program and every dispatch its step, and records what the
/// buffer plan needs (each activation buffer's lifetime).
class Scheduler {
public:
  Scheduler(rt::Program &program, KernelTable &kernels) : p_(program), kernels_(kernels) {}

  LogicalResult schedule(Operation &op);
  /// After the walk: the checks that need every read, the forward pass's
  /// length, and the buffer plan.
  LogicalResult finish(func::FuncOp fn);

private:
  FailureOr<int> newTensor(Value v, std::string name, rt::Storage storage);
  FailureOr<int> newActivation(Value v, std::string name, int first);
  FailureOr<int> newPersistent(Value v, StringRef name);
  /// The tensor of `v`, read at the current step.
  FailureOr<int> use(Value v);
  std::string intermediateName() const { return "%" + std::to_string(p_.tensors.size()); }

  LogicalResult scheduleAssign(gr::AssignOp assign);
  LogicalResult scheduleView(Operation &op);
  LogicalResult scheduleDispatch(gr::DispatchOp dispatch);

  rt::Program &p_;
  KernelTable &kernels_;
  llvm::DenseMap<Value, int> tensorOf;       // SSA value -> tensor id
  llvm::DenseMap<int, int> bufferOf;         // activation tensor id -> buffer index
  std::vector<BufferLifetime> buffers;       // the activations' buffers
  llvm::DenseMap<int, int> lastRead;         // persistent tensor id -> last dispatch reading it
  llvm::DenseMap<int, int> viewOf;           // view of a persistent tensor -> that tensor
  std::vector<std::pair<int, int>> assigned; // target tensor id, dispatch writing it
  /// Inputs of labelled rows (bertc.labelled_rows) and the input op naming
  /// their labels, resolved once every input is known.
  std::vector<std::pair<int, gr::InputOp>> counted;
  int step = 0;
};

FailureOr<int> Scheduler::newTensor(Value v, std::string name, rt::Storage storage) {
  auto type = cast<RankedTensorType>(v.getType());
  auto dtype = dtypeOf(type.getElementType());
  if (failed(dtype))
    return emitError(v.getLoc()) << "unsupported element type " << type.getElementType();
  rt::TensorDesc t;
  t.name = std::move(name);
  t.dtype = *dtype;
  t.shape.assign(type.getShape().begin(), type.getShape().end());
  t.storage = storage;
  int id = static_cast<int>(p_.tensors.size());
  p_.tensors.push_back(std::move(t));
  tensorOf[v] = id;
  return id;
}

FailureOr<int> Scheduler::newActivation(Value v, std::string name, int first) {
  auto id = newTensor(v, std::move(name), rt::Storage::Activation);
  if (failed(id))
    return failure();
  bufferOf[*id] = static_cast<int>(buffers.size());
  buffers.push_back({p_.tensors[*id].bytes(), first, first, {*id}});
  return id;
}

FailureOr<int> Scheduler::newPersistent(Value v, StringRef name) {
  auto id = newTensor(v, name.str(), rt::Storage::Parameter);
  if (failed(id))
    return failure();
  p_.tensors[*id].offset = p_.parameterBytes;
  p_.parameterBytes += alignUp(p_.tensors[*id].bytes());
  return id;
}

FailureOr<int> Scheduler::use(Value v) {
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
}

LogicalResult Scheduler::schedule(Operation &op) {
  if (auto param = dyn_cast<gr::ParameterOp>(op)) {
    auto id = newPersistent(param, param.getName());
    if (failed(id))
      return failure();
    p_.parameters.push_back({param.getName().str(), *id,
                             gr::stringifyInitKind(param.getInit()).str(),
                             param.getStd().convertToDouble()});
    return success();
  }
  if (auto state = dyn_cast<gr::StateOp>(op)) {
    auto id = newPersistent(state, state.getName());
    if (failed(id))
      return failure();
    (state->hasAttr(kGradientBufferAttr) ? p_.gradientBuffers : p_.state)
        .push_back({state.getName().str(), *id});
    return success();
  }
  if (auto copy = dyn_cast<gr::ParameterCopyOp>(op)) {
    auto source = use(copy.getParam());
    if (failed(source))
      return failure();
    auto id = newPersistent(copy, p_.tensors[*source].name + ".bf16");
    if (failed(id))
      return failure();
    p_.parameterCopies.push_back({*id, *source});
    return success();
  }
  if (auto assign = dyn_cast<gr::AssignOp>(op))
    return scheduleAssign(assign);
  if (auto input = dyn_cast<gr::InputOp>(op)) {
    auto id = newActivation(input, input.getName().str(), -1);
    if (failed(id))
      return failure();
    p_.inputs.push_back({input.getName().str(), *id});
    if (input->hasAttr(kLabelledRowsAttr))
      counted.push_back({*id, input});
    return success();
  }
  if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(op))
    return scheduleView(op);
  if (auto dispatch = dyn_cast<gr::DispatchOp>(op))
    return scheduleDispatch(dispatch);
  if (auto output = dyn_cast<gr::OutputOp>(op)) {
    auto id = use(output.getValue());
    if (failed(id))
      return failure();
    p_.outputs.push_back({output.getName().str(), *id});
    return success();
  }
  if (isa<func::ReturnOp>(op))
    return success();
  return op.emitError("cannot schedule this op: it is not in a dispatch region");
}

/// The value's dispatch writes straight into the target's storage.
LogicalResult Scheduler::scheduleAssign(gr::AssignOp assign) {
  int target = tensorOf.lookup(assign.getTarget());
  auto dispatch = assign.getValue().getDefiningOp<gr::DispatchOp>();
  auto value = tensorOf.find(assign.getValue());
  auto buffer = value == tensorOf.end() ? bufferOf.end() : bufferOf.find(value->second);
  if (!dispatch || buffer == bufferOf.end() || buffers[buffer->second].inPlace ||
      buffers[buffer->second].tensors.size() != 1)
    return assign.emitError("cannot write this value in place: it must be a dispatch "
                            "result assigned once, without views");
  BufferLifetime &buf = buffers[buffer->second];
  if (lastRead.lookup(target) > buf.first)
    return assign.emitError("the target is read after its new value is computed");
  unsigned result = cast<OpResult>(assign.getValue()).getResultNumber();
  for (auto [i, in] : llvm::enumerate(dispatch.getInputs()))
    if (in == assign.getTarget() && !writesInPlaceSafely(dispatch, i, result))
      return assign.emitError("the dispatch computing the new value does not read the "
                              "target elementwise, so it cannot overwrite it");
  buf.inPlace = true;
  rt::TensorDesc &t = p_.tensors[value->second];
  t.storage = rt::Storage::Parameter;
  t.offset = p_.tensors[target].offset;
  assigned.push_back({target, buf.first});
  return success();
}

/// A reshape is a view: the same range as its source.
LogicalResult Scheduler::scheduleView(Operation &op) {
  auto src = use(op.getOperand(0));
  if (failed(src))
    return failure();
  auto id = newTensor(op.getResult(0), intermediateName(), p_.tensors[*src].storage);
  if (failed(id))
    return failure();
  p_.tensors[*id].offset = p_.tensors[*src].offset;
  if (auto b = bufferOf.find(*src); b != bufferOf.end()) {
    int buffer = b->second; // before the insertion below rehashes
    bufferOf[*id] = buffer;
    buffers[buffer].tensors.push_back(*id);
  } else {
    auto root = viewOf.find(*src);
    int persistent = root == viewOf.end() ? *src : root->second; // before rehashing
    viewOf[*id] = persistent;
  }
  return success();
}

LogicalResult Scheduler::scheduleDispatch(gr::DispatchOp dispatch) {
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
  d.kernel = kernels_.kernelFor(dispatch);
  p_.dispatches.push_back(std::move(d));
  ++step;
  return success();
}

LogicalResult Scheduler::finish(func::FuncOp fn) {
  for (auto [id, input] : counted) {
    auto rows = input->getAttrOfType<DictionaryAttr>(kLabelledRowsAttr);
    auto labels = rows ? rows.getAs<StringAttr>("labels") : StringAttr();
    auto ignore = rows ? rows.getAs<IntegerAttr>("ignore_index") : IntegerAttr();
    auto classes = rows ? rows.getAs<IntegerAttr>("classes") : IntegerAttr();
    const rt::NamedTensor *source = nullptr;
    for (const rt::NamedTensor &in : p_.inputs)
      if (labels && in.name == labels.getValue())
        source = &in;
    if (!source || !ignore || !classes)
      return input.emitError("bertc.labelled_rows must be a dictionary naming an input as "
                             "labels, with ignore_index and classes");
    p_.labelledRows.push_back({id, source->tensor, ignore.getInt(), classes.getInt()});
  }
  for (auto [target, writer] : assigned)
    if (lastRead.lookup(target) > writer)
      return fn.emitError("parameter or state '")
             << p_.tensors[target].name << "' is read after the dispatch that overwrites it";
  // The forward pass: up to the last dispatch that an output other than a
  // gradient needs.
  p_.forwardDispatches = 0;
  for (const rt::NamedTensor &o : p_.outputs) {
    if (contract::isGradient(o.name))
      continue;
    auto b = bufferOf.find(o.tensor);
    int64_t producer = b == bufferOf.end() ? -1 : buffers[b->second].first;
    p_.forwardDispatches = std::max<int64_t>(p_.forwardDispatches, producer + 1);
  }
  if (p_.state.empty() && p_.outputs.empty())
    p_.forwardDispatches = static_cast<int64_t>(p_.dispatches.size());
  // Evaluation runs the forward dispatches alone: none may update a
  // parameter or the optimizer's state (fusion must not have moved one
  // there).
  for (auto [target, writer] : assigned)
    if (writer < p_.forwardDispatches)
      return fn.emitError("parameter or state '")
             << p_.tensors[target].name << "' would be updated by the forward pass (dispatch "
             << writer << " of its " << p_.forwardDispatches << ")";
  // The update: the dispatches after the last one that writes a gradient
  // buffer (the global norm, clipping, AdamW). They run once per step, after
  // the micro-batches' gradients (and, data-parallel, their sum over ranks),
  // so they may read only the buffers, parameters, state, the step's scalar
  // inputs and each other's results (fusion must not have moved a norm's
  // partial sum into a gradient's dispatch); no parameter or state is
  // written before them, and every output but the gradients is computed
  // before them, by each micro-batch.
  p_.updateDispatches = static_cast<int64_t>(p_.dispatches.size());
  if (!p_.gradientBuffers.empty()) {
    llvm::DenseSet<int> buffersOf;
    for (const rt::NamedTensor &g : p_.gradientBuffers)
      buffersOf.insert(g.tensor);
    int64_t lastBufferWrite = -1;
    for (auto [target, writer] : assigned)
      if (buffersOf.contains(target))
        lastBufferWrite = std::max<int64_t>(lastBufferWrite, writer);
    p_.updateDispatches = lastBufferWrite + 1;
    if (p_.forwardDispatches > p_.updateDispatches)
      return fn.emitError("an output is computed by dispatch ")
             << p_.forwardDispatches - 1 << ", after the last gradient is final (dispatch "
             << lastBufferWrite << ")";
    for (auto [target, writer] : assigned)
      if (!buffersOf.contains(target) && writer < p_.updateDispatches)
        return fn.emitError("parameter or state '")
               << p_.tensors[target].name << "' is written by dispatch " << writer
               << ", before the last gradient is final (dispatch " << lastBufferWrite << ")";
    llvm::DenseSet<int> updateInputs;
    for (std::string_view name : {contract::kLearningRateInput, contract::kStepInput})
      if (int id = p_.inputId(std::string(name)); id >= 0)
        updateInputs.insert(id);
    for (size_t d = p_.updateDispatches; d < p_.dispatches.size(); ++d) {
      const rt::DispatchDesc &desc = p_.dispatches[d];
      for (size_t i = 0; i + desc.results < desc.bindings.size(); ++i) {
        int t = desc.bindings[i];
        auto b = bufferOf.find(t);
        bool earlier = p_.tensors[t].storage == rt::Storage::Activation && b != bufferOf.end() &&
                       buffers[b->second].first < p_.updateDispatches;
        if (earlier && !updateInputs.contains(t))
          return fn.emitError("dispatch ")
                 << d << " of the update reads '" << p_.tensors[t].name
                 << "', computed before the gradients are final (update from dispatch "
                 << p_.updateDispatches << ")";
      }
    }
  }
  // Outputs stay readable after the last dispatch.
  for (const rt::NamedTensor &o : p_.outputs)
    if (auto b = bufferOf.find(o.tensor); b != bufferOf.end())
      buffers[b->second].last = step;
  p_.activationBytes = planArena(buffers, p_.tensors);
  return success();
}

/// The model's description, from the function's attributes.
void describeModel(func::FuncOp fn, rt::Program &p) {
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
}

} // namespace

FailureOr<ProgramPlan> buildProgram(func::FuncOp fn) {
  ProgramPlan plan;
  plan.kernels = ModuleOp::create(fn.getLoc());
  describeModel(fn, plan.program);
  KernelTable kernels(*plan.kernels);
  Scheduler scheduler(plan.program, kernels);
  // The gradient buffers first, in the order of their parameters: one
  // contiguous region at the start of the parameter store, which a data-
  // parallel step sums over ranks in one collective.
  auto isGradientBuffer = [](Operation &op) {
    return isa<gr::StateOp>(op) && op.hasAttr(kGradientBufferAttr);
  };
  for (Operation &op : fn.getBody().front())
    if (isGradientBuffer(op) && failed(scheduler.schedule(op)))
      return failure();
  for (Operation &op : fn.getBody().front())
    if (!isGradientBuffer(op) && failed(scheduler.schedule(op)))
      return failure();
  if (failed(scheduler.finish(fn)))
    return failure();
  plan.program.kernels = kernels.names();
  plan.program.kernelKinds = kernels.kinds();
  plan.program.kernelMatmulFlops = kernels.matmulFlops();
  return plan;
}

} // namespace bertc
