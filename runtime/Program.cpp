//===- Program.cpp - What the compiler hands the runtime ------------------===//
#include "runtime/Program.h"

namespace bertc::rt {

int64_t dtypeSize(DType t) {
  switch (t) {
  case DType::F32:
    return 4;
  case DType::F64:
    return 8;
  case DType::I32:
    return 4;
  case DType::BF16:
  case DType::F16:
    return 2;
  case DType::I64:
    return 8;
  }
  return 0;
}

const char *dtypeName(DType t) {
  switch (t) {
  case DType::F32:
    return "F32";
  case DType::F64:
    return "F64";
  case DType::I32:
    return "I32";
  case DType::BF16:
    return "BF16";
  case DType::F16:
    return "F16";
  case DType::I64:
    return "I64";
  }
  return "?";
}

bool parseDType(const std::string &name, DType &out) {
  for (DType t : {DType::F32, DType::F64, DType::I32, DType::BF16, DType::F16, DType::I64})
    if (name == dtypeName(t)) {
      out = t;
      return true;
    }
  return false;
}

int64_t TensorDesc::elements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

static Json intArray(const std::vector<int64_t> &v) {
  Json a = Json::array();
  for (int64_t x : v)
    a.push(Json(x));
  return a;
}

Json Program::toJson() const {
  Json j = Json::object();
  j["model"] = model;
  j["task"] = task;
  j["preset"] = preset;
  j["config"] = config;
  j["parameter_bytes"] = Json(parameterBytes);
  j["activation_bytes"] = Json(activationBytes);
  j["forward_dispatches"] = Json(forwardDispatches);
  j["update_dispatches"] = Json(updateDispatches);
  j["invocations"] = Json(invocations);
  Json shared = Json::array();
  for (int64_t bytes : workgroupMemory)
    shared.push(Json(bytes));
  j["workgroup_memory"] = std::move(shared);
  j["subgroup_kernels"] = intArray(subgroupKernels);
  j["subgroup_cluster"] = Json(subgroupCluster);
  if (!cpu.empty()) {
    Json c = Json::object(), features = Json::array();
    c["name"] = cpu;
    for (const std::string &f : cpuFeatures)
      features.push(Json(f));
    c["features"] = std::move(features);
    c["bf16_dot"] = Json(cpuBf16Dot);
    c["amx"] = Json(cpuAmx);
    j["cpu"] = std::move(c);
  }
  j["precision"] = precision;
  Json ts = Json::array();
  for (const TensorDesc &t : tensors) {
    Json o = Json::object();
    o["name"] = t.name;
    o["dtype"] = dtypeName(t.dtype);
    o["shape"] = intArray(t.shape);
    o["storage"] = t.storage == Storage::Parameter ? "parameter" : "activation";
    o["offset"] = Json(t.offset);
    ts.push(std::move(o));
  }
  j["tensors"] = std::move(ts);
  Json ps = Json::array();
  for (const ParameterDesc &p : parameters) {
    Json o = Json::object();
    o["name"] = p.name;
    o["tensor"] = Json(p.tensor);
    o["init"] = p.init;
    o["std"] = Json(p.std);
    ps.push(std::move(o));
  }
  j["parameters"] = std::move(ps);
  for (const char *key : {"inputs", "outputs", "state", "gradient_buffers"}) {
    Json list = Json::array();
    for (const NamedTensor &n : namedList(key)) {
      Json o = Json::object();
      o["name"] = n.name;
      o["tensor"] = Json(n.tensor);
      list.push(std::move(o));
    }
    j[key] = std::move(list);
  }
  Json copies = Json::array();
  for (const ParameterCopy &c : parameterCopies) {
    Json o = Json::object();
    o["tensor"] = Json(c.tensor);
    o["source"] = Json(c.source);
    copies.push(std::move(o));
  }
  j["parameter_copies"] = std::move(copies);
  Json counted = Json::array();
  for (const LabelledRows &c : labelledRows) {
    Json o = Json::object();
    o["tensor"] = Json(c.tensor);
    o["labels"] = Json(c.labels);
    o["ignore_index"] = Json(c.ignoreIndex);
    o["classes"] = Json(c.classes);
    counted.push(std::move(o));
  }
  j["labelled_rows"] = std::move(counted);
  Json ks = Json::array();
  for (const std::string &k : kernels)
    ks.push(Json(k));
  j["kernels"] = std::move(ks);
  Json kinds = Json::array();
  for (const std::string &k : kernelKinds)
    kinds.push(Json(k));
  j["kernel_kinds"] = std::move(kinds);
  Json flops = Json::array();
  for (int64_t f : kernelMatmulFlops)
    flops.push(Json(f));
  j["kernel_matmul_flops"] = std::move(flops);
  Json ds = Json::array();
  for (const DispatchDesc &d : dispatches) {
    Json o = Json::object();
    o["kernel"] = Json(d.kernel);
    Json b = Json::array();
    for (int t : d.bindings)
      b.push(Json(t));
    o["bindings"] = std::move(b);
    o["results"] = Json(d.results);
    o["grid"] = intArray({d.grid[0], d.grid[1], d.grid[2]});
    ds.push(std::move(o));
  }
  j["dispatches"] = std::move(ds);
  return j;
}

namespace {

/// Reads typed members, remembering the first problem.
struct Reader {
  std::string &error;

  bool fail(const std::string &what) {
    if (error.empty())
      error = what;
    return false;
  }
  const Json *member(const Json &o, const char *key, Json::Kind kind, const std::string &where) {
    const Json *v = o.find(key);
    if (!v || v->kind() != kind) {
      fail(where + ": missing or mistyped '" + key + "'");
      return nullptr;
    }
    return v;
  }
  bool str(const Json &o, const char *key, std::string &out, const std::string &where) {
    const Json *v = member(o, key, Json::Kind::String, where);
    if (v)
      out = v->string();
    return v;
  }
  bool integer(const Json &o, const char *key, int64_t &out, const std::string &where) {
    const Json *v = member(o, key, Json::Kind::Number, where);
    if (!v)
      return false;
    if (!v->isInteger())
      return fail(where + ": '" + key + "' must be an integer");
    out = v->integer();
    return true;
  }
  bool tensorId(const Json &o, const char *key, int &out, size_t count, const std::string &where) {
    int64_t v;
    if (!integer(o, key, v, where))
      return false;
    if (v < 0 || static_cast<size_t>(v) >= count)
      return fail(where + ": tensor id " + std::to_string(v) + " out of range");
    out = static_cast<int>(v);
    return true;
  }
};

} // namespace

/// The CPU the kernels were compiled for (programs written before it was
/// recorded, and Vulkan ones, have none).
static bool readCpu(const Json &j, Program &p, Reader &r) {
  const Json *c = j.find("cpu");
  if (!c)
    return true;
  const Json *features = r.member(*c, "features", Json::Kind::Array, "program: cpu");
  if (!features || !r.str(*c, "name", p.cpu, "program: cpu"))
    return false;
  for (const Json &f : features->items()) {
    if (!f.isString())
      return r.fail("program: cpu features must be strings");
    p.cpuFeatures.push_back(f.string());
  }
  if (const Json *dot = c->find("bf16_dot")) {
    if (dot->kind() != Json::Kind::Bool)
      return r.fail("program: cpu bf16_dot must be a boolean");
    p.cpuBf16Dot = dot->boolean();
  }
  if (const Json *amx = c->find("amx")) {
    if (amx->kind() != Json::Kind::Bool)
      return r.fail("program: cpu amx must be a boolean");
    p.cpuAmx = amx->boolean();
  }
  return true;
}

bool Program::fromJson(const Json &j, Program &p, std::string &error) {
  p = Program();
  error.clear();
  Reader r{error};
  if (!j.isObject())
    return r.fail("program: not a JSON object");
  if (!r.str(j, "model", p.model, "program") || !r.str(j, "task", p.task, "program") ||
      !r.str(j, "preset", p.preset, "program") ||
      !r.integer(j, "parameter_bytes", p.parameterBytes, "program") ||
      !r.integer(j, "activation_bytes", p.activationBytes, "program") ||
      !r.integer(j, "forward_dispatches", p.forwardDispatches, "program") ||
      !r.integer(j, "update_dispatches", p.updateDispatches, "program"))
    return false;
  // Programs written before workgroups had several invocations have none.
  if (j.find("invocations") && !r.integer(j, "invocations", p.invocations, "program"))
    return false;
  if (p.invocations < 1)
    return r.fail("program: 'invocations' must be at least 1");
  if (const Json *c = j.find("config"))
    p.config = *c;
  const Json *ts = r.member(j, "tensors", Json::Kind::Array, "program");
  if (!ts)
    return false;
  for (const Json &t : ts->items()) {
    TensorDesc d;
    std::string dtype, storage;
    std::string where = "tensor " + std::to_string(p.tensors.size());
    if (!r.str(t, "name", d.name, where) || !r.str(t, "dtype", dtype, where) ||
        !r.str(t, "storage", storage, where) || !r.integer(t, "offset", d.offset, where))
      return false;
    if (!parseDType(dtype, d.dtype) || d.dtype == DType::F16 || d.dtype == DType::I64)
      return r.fail(where + ": unknown dtype " + dtype);
    d.storage = storage == "parameter" ? Storage::Parameter : Storage::Activation;
    const Json *shape = r.member(t, "shape", Json::Kind::Array, where);
    if (!shape)
      return false;
    for (const Json &s : shape->items()) {
      if (!s.isInteger() || s.integer() <= 0)
        return r.fail(where + ": bad shape");
      d.shape.push_back(s.integer());
    }
    int64_t limit = d.storage == Storage::Parameter ? p.parameterBytes : p.activationBytes;
    if (d.offset < 0 || d.offset + d.bytes() > limit)
      return r.fail(where + ": range outside its storage");
    p.tensors.push_back(std::move(d));
  }
  size_t count = p.tensors.size();
  const Json *ps = r.member(j, "parameters", Json::Kind::Array, "program");
  if (!ps)
    return false;
  for (const Json &o : ps->items()) {
    ParameterDesc d;
    const Json *stdv = o.find("std");
    if (!r.str(o, "name", d.name, "parameter") || !r.str(o, "init", d.init, "parameter") ||
        !r.tensorId(o, "tensor", d.tensor, count, "parameter " + d.name) || !stdv ||
        !stdv->isNumber())
      return r.fail("parameter: malformed entry");
    d.std = stdv->number();
    p.parameters.push_back(std::move(d));
  }
  for (const char *key : {"inputs", "outputs", "state", "gradient_buffers"}) {
    const Json *list = r.member(j, key, Json::Kind::Array, "program");
    if (!list)
      return false;
    for (const Json &o : list->items()) {
      NamedTensor n;
      if (!r.str(o, "name", n.name, key) || !r.tensorId(o, "tensor", n.tensor, count, key))
        return false;
      p.namedList(key).push_back(std::move(n));
    }
  }
  // The gradient buffers: one region of one element type, in order,
  // shared with no other tensor of the store.
  for (size_t i = 0; i < p.gradientBuffers.size(); ++i) {
    const TensorDesc &t = p.tensors[p.gradientBuffers[i].tensor];
    const TensorDesc &first = p.tensors[p.gradientBuffers[0].tensor];
    if (t.storage != Storage::Parameter || t.dtype != first.dtype ||
        (i > 0 && t.offset < p.tensors[p.gradientBuffers[i - 1].tensor].offset +
                                 p.tensors[p.gradientBuffers[i - 1].tensor].bytes()))
      return r.fail("gradient buffer " + t.name +
                    ": not in the parameter store after the one before, of the same dtype");
  }
  const Json *copies = r.member(j, "parameter_copies", Json::Kind::Array, "program");
  if (!copies)
    return false;
  for (const Json &o : copies->items()) {
    ParameterCopy c;
    if (!r.tensorId(o, "tensor", c.tensor, count, "parameter copy") ||
        !r.tensorId(o, "source", c.source, count, "parameter copy"))
      return false;
    const TensorDesc &copy = p.tensors[c.tensor], &source = p.tensors[c.source];
    if (copy.dtype != DType::BF16 || source.dtype != DType::F32 || copy.shape != source.shape ||
        copy.storage != Storage::Parameter || source.storage != Storage::Parameter)
      return r.fail("parameter copy " + copy.name + ": not a BF16 copy of the F32 parameter " +
                    source.name + " of the same shape");
    p.parameterCopies.push_back(c);
  }
  Program::Region region = p.gradientRegion();
  auto inRegion = [&](int id) {
    const TensorDesc &t = p.tensors[id];
    return t.storage == Storage::Parameter && t.offset < region.offset + region.bytes &&
           t.offset + t.bytes() > region.offset;
  };
  for (const ParameterDesc &d : p.parameters)
    if (inRegion(d.tensor))
      return r.fail("parameter " + d.name + " lies inside the gradient buffers' region");
  for (const NamedTensor &s : p.state)
    if (inRegion(s.tensor))
      return r.fail("state " + s.name + " lies inside the gradient buffers' region");
  for (const ParameterCopy &c : p.parameterCopies)
    if (inRegion(c.tensor))
      return r.fail("parameter copy " + p.tensors[c.tensor].name +
                    " lies inside the gradient buffers' region");
  const Json *counted = r.member(j, "labelled_rows", Json::Kind::Array, "program");
  if (!counted)
    return false;
  for (const Json &o : counted->items()) {
    LabelledRows c;
    if (!r.tensorId(o, "tensor", c.tensor, count, "labelled rows") ||
        !r.tensorId(o, "labels", c.labels, count, "labelled rows") ||
        !r.integer(o, "ignore_index", c.ignoreIndex, "labelled rows") ||
        !r.integer(o, "classes", c.classes, "labelled rows"))
      return false;
    const TensorDesc &rows = p.tensors[c.tensor], &labels = p.tensors[c.labels];
    if (!rows.shape.empty() || (rows.dtype != DType::F32 && rows.dtype != DType::F64) ||
        labels.dtype != DType::I32)
      return r.fail("labelled rows " + rows.name + ": not a float scalar counting the I32 " +
                    labels.name);
    p.labelledRows.push_back(c);
  }
  const Json *ks = r.member(j, "kernels", Json::Kind::Array, "program");
  if (!ks)
    return false;
  for (const Json &k : ks->items())
    p.kernels.push_back(k.string());
  const Json *kinds = r.member(j, "kernel_kinds", Json::Kind::Array, "program");
  if (!kinds)
    return false;
  for (const Json &k : kinds->items())
    p.kernelKinds.push_back(k.string());
  if (p.kernelKinds.size() != p.kernels.size())
    return r.fail("program: kernel_kinds must have one kind per kernel");
  const Json *flops = r.member(j, "kernel_matmul_flops", Json::Kind::Array, "program");
  if (!flops)
    return false;
  for (const Json &f : flops->items()) {
    if (!f.isNumber() || f.number() < 0)
      return r.fail("program: kernel_matmul_flops must hold counts");
    p.kernelMatmulFlops.push_back(f.integer());
  }
  if (p.kernelMatmulFlops.size() != p.kernels.size())
    return r.fail("program: kernel_matmul_flops must have one count per kernel");
  if (const Json *shared = j.find("workgroup_memory")) {
    if (!shared->isArray())
      return r.fail("program: 'workgroup_memory' must be an array");
    for (const Json &bytes : shared->items()) {
      if (!bytes.isInteger() || bytes.integer() < 0)
        return r.fail("program: 'workgroup_memory' must hold byte counts");
      p.workgroupMemory.push_back(bytes.integer());
    }
    if (!p.workgroupMemory.empty() && p.workgroupMemory.size() != p.kernels.size())
      return r.fail("program: 'workgroup_memory' must have one count per kernel");
  }
  // Programs written before the subgroup modules have none.
  if (const Json *sub = j.find("subgroup_kernels")) {
    if (!sub->isArray())
      return r.fail("program: 'subgroup_kernels' must be an array");
    for (const Json &k : sub->items()) {
      if (!k.isInteger() || k.integer() < 0 ||
          static_cast<size_t>(k.integer()) >= p.kernels.size() ||
          (!p.subgroupKernels.empty() && k.integer() <= p.subgroupKernels.back()))
        return r.fail("program: 'subgroup_kernels' must hold kernel indices, increasing");
      p.subgroupKernels.push_back(k.integer());
    }
    if (!r.integer(j, "subgroup_cluster", p.subgroupCluster, "program"))
      return false;
    if (!p.subgroupKernels.empty() && p.subgroupCluster < 2)
      return r.fail("program: 'subgroup_cluster' must be at least 2 with subgroup kernels");
  }
  const Json *ds = r.member(j, "dispatches", Json::Kind::Array, "program");
  if (!ds)
    return false;
  for (const Json &o : ds->items()) {
    DispatchDesc d;
    int64_t kernel;
    if (!r.integer(o, "kernel", kernel, "dispatch"))
      return false;
    if (kernel < 0 || static_cast<size_t>(kernel) >= p.kernels.size())
      return r.fail("dispatch: kernel index out of range");
    d.kernel = static_cast<int>(kernel);
    const Json *b = r.member(o, "bindings", Json::Kind::Array, "dispatch");
    const Json *g = r.member(o, "grid", Json::Kind::Array, "dispatch");
    if (!b || !g || g->items().size() != 3)
      return r.fail("dispatch: malformed bindings or grid");
    for (const Json &t : b->items()) {
      if (!t.isInteger() || t.integer() < 0 || static_cast<size_t>(t.integer()) >= count)
        return r.fail("dispatch: binding out of range");
      d.bindings.push_back(static_cast<int>(t.integer()));
    }
    int64_t results;
    if (!r.integer(o, "results", results, "dispatch"))
      return false;
    if (results < 0 || static_cast<size_t>(results) > d.bindings.size())
      return r.fail("dispatch: more results than bindings");
    d.results = static_cast<int>(results);
    for (int i = 0; i < 3; ++i) {
      if (!g->items()[i].isInteger() || g->items()[i].integer() < 1)
        return r.fail("dispatch: bad grid");
      d.grid[i] = g->items()[i].integer();
    }
    p.dispatches.push_back(std::move(d));
  }
  if (p.forwardDispatches < 0 || p.forwardDispatches > static_cast<int64_t>(p.dispatches.size()))
    return r.fail("forward_dispatches out of range");
  if (p.updateDispatches < p.forwardDispatches ||
      p.updateDispatches > static_cast<int64_t>(p.dispatches.size()))
    return r.fail("update_dispatches out of range");
  if (!r.str(j, "precision", p.precision, "program"))
    return false;
  if (p.precision != "fp32" && p.precision != "bf16")
    return r.fail("program: unknown precision " + p.precision);
  return readCpu(j, p, r);
}

Program::Region Program::gradientRegion() const {
  Region region;
  if (gradientBuffers.empty())
    return region;
  const TensorDesc &first = tensors[gradientBuffers.front().tensor];
  const TensorDesc &last = tensors[gradientBuffers.back().tensor];
  region.offset = first.offset;
  region.bytes = last.offset + last.bytes() - first.offset;
  region.dtype = first.dtype;
  return region;
}

std::vector<int64_t> Program::gradientReadyDispatches() const {
  std::vector<int64_t> ready(gradientBuffers.size(), -1);
  for (size_t d = 0; d < static_cast<size_t>(updateDispatches); ++d) {
    const DispatchDesc &dispatch = dispatches[d];
    for (size_t b = dispatch.bindings.size() - static_cast<size_t>(dispatch.results);
         b < dispatch.bindings.size(); ++b) {
      const TensorDesc &written = tensors[dispatch.bindings[b]];
      if (written.storage != Storage::Parameter)
        continue;
      // By bytes, not tensor ids: a view of a buffer writes the buffer.
      for (size_t g = 0; g < gradientBuffers.size(); ++g) {
        const TensorDesc &buffer = tensors[gradientBuffers[g].tensor];
        if (written.offset < buffer.offset + buffer.bytes() &&
            buffer.offset < written.offset + written.bytes())
          ready[g] = static_cast<int64_t>(d);
      }
    }
  }
  return ready;
}

std::vector<NamedTensor> &Program::namedList(const std::string &key) {
  return key == "inputs"             ? inputs
         : key == "outputs"          ? outputs
         : key == "gradient_buffers" ? gradientBuffers
                                     : state;
}

const std::vector<NamedTensor> &Program::namedList(const std::string &key) const {
  return const_cast<Program *>(this)->namedList(key);
}

int Program::inputId(const std::string &name) const {
  for (const NamedTensor &n : inputs)
    if (n.name == name)
      return n.tensor;
  return -1;
}

int Program::outputId(const std::string &name) const {
  for (const NamedTensor &n : outputs)
    if (n.name == name)
      return n.tensor;
  return -1;
}

const TensorDesc *Program::input(const std::string &name) const {
  for (const NamedTensor &n : inputs)
    if (n.name == name)
      return &tensors[n.tensor];
  return nullptr;
}

const TensorDesc *Program::output(const std::string &name) const {
  for (const NamedTensor &n : outputs)
    if (n.name == name)
      return &tensors[n.tensor];
  return nullptr;
}

int64_t Program::configInt(const std::string &name, int64_t fallback) const {
  const Json *v = config.find(name);
  return v && v->isInteger() ? v->integer() : fallback;
}

} // namespace bertc::rt
