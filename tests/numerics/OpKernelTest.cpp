//===- OpKernelTest.cpp - Every op's generated kernel vs a C++ reference --===//
//
// Each case is a one-op model compiled by bertc (in process) into a shared
// library, run by the runtime on random inputs and parameters, and compared
// with a plain C++ implementation of the op in double precision. Shapes are
// drawn from a seeded generator and include sizes that no tile or vector
// width divides, large enough to be split into several workgroups. Every
// case runs twice: on the CPU, and as SPIR-V on the first Vulkan device
// (lavapipe in CI) with the validation layer, which must stay silent. On a
// CPU with AVX-512 the CPU cases also run compiled for x86-64-v3, the AVX2
// variant with its own register blocks.
//
//===----------------------------------------------------------------------===//
#include "runtime/CpuFeatures.h"
#include "runtime/Loader.h"
#include "runtime/VulkanDevices.h"
#include "tools/driver/Driver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <tuple>

namespace {

using bertc::rt::DType;
using bertc::rt::LoadedProgram;
using bertc::rt::Session;

/// A dense row-major tensor of doubles (the reference's working type).
struct Ref {
  std::vector<int64_t> shape;
  std::vector<double> v;

  Ref() = default;
  explicit Ref(std::vector<int64_t> s) : shape(std::move(s)), v(count(shape), 0.0) {}
  static int64_t count(const std::vector<int64_t> &s) {
    int64_t n = 1;
    for (int64_t d : s)
      n *= d;
    return n;
  }
  std::vector<int64_t> strides() const {
    std::vector<int64_t> st(shape.size(), 1);
    for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i)
      st[i] = st[i + 1] * shape[i + 1];
    return st;
  }
  /// Multi-index of flat position `i`.
  std::vector<int64_t> index(int64_t i) const {
    std::vector<int64_t> idx(shape.size());
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
      idx[d] = i % shape[d];
      i /= shape[d];
    }
    return idx;
  }
  double &at(const std::vector<int64_t> &idx) {
    int64_t flat = 0;
    auto st = strides();
    for (size_t d = 0; d < idx.size(); ++d)
      flat += idx[d] * st[d];
    return v[flat];
  }
  double at(const std::vector<int64_t> &idx) const { return const_cast<Ref *>(this)->at(idx); }
};

/// Numpy broadcasting read of `t` at result index `idx`.
double broadcastAt(const Ref &t, const std::vector<int64_t> &idx) {
  std::vector<int64_t> own(t.shape.size());
  size_t offset = idx.size() - t.shape.size();
  for (size_t d = 0; d < t.shape.size(); ++d)
    own[d] = t.shape[d] == 1 ? 0 : idx[offset + d];
  return t.at(own);
}

using Env = std::map<std::string, Ref>;

struct Case {
  std::string name;
  std::string model; ///< Model text; the task is `t`, the output `y`.
  std::function<Ref(const Env &)> reference;
  double tolerance = 1e-4;
  /// When set, the number of kernels the op must compile to (a fused op).
  size_t kernels = 0;
  /// Compiled with --precision bf16 (CPU only).
  bool bf16 = false;
};

/// gtest prints a case by its name.
void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

/// Whether the first Vulkan device runs `p`'s subgroup modules: subgroups
/// of at least its cluster that divide its workgroups, with shuffles.
bool subgroupsCanRun(const bertc::rt::Program &p) {
  bertc::rt::VulkanDeviceList list;
  std::string error;
  if (!bertc::rt::listVulkanDevices(false, list, error) || list.devices.empty())
    return false;
  const bertc::rt::VulkanDevice &d = list.devices[0];
  return d.subgroupShuffles && d.subgroupSize >= p.subgroupCluster &&
         p.invocations % d.subgroupSize == 0;
}

/// Compiles `model` to a shared library for the CPU (`cpu`: --cpu;
/// `amxBlocksAsLoops`: CompileOptions') or Vulkan, fills inputs and
/// parameters with random values, runs it and checks output `y` against the
/// reference.
void runCase(const Case &c, bool vulkan, const std::string &cpu = "native",
             bool amxBlocksAsLoops = false) {
  std::string dir = testing::TempDir();
  std::string stem = dir + "/bertc-op-" + c.name + (vulkan ? "-vulkan" : "-" + cpu) +
                     (amxBlocksAsLoops ? "-amx-blocks" : "");
  std::string modelPath = stem + ".bertc";
  std::string libPath = stem + ".so";
  {
    std::ofstream out(modelPath);
    out << c.model;
  }
  bertc::CompileOptions options;
  options.modelPath = modelPath;
  options.graph.task = "t";
  options.target = vulkan ? "vulkan" : "cpu";
  options.cpu = cpu;
  options.emit = bertc::Emit::Shared;
  options.outputPath = libPath;
  options.workgroups = vulkan ? 0 : 8; // Vulkan: its own default tiles
  options.bf16 = c.bf16;
  options.amxBlocksAsLoops = amxBlocksAsLoops;
  if (vulkan)
    options.workgroupSizes = {8, 64, 256};
  std::ostringstream errs;
  ASSERT_EQ(bertc::compile(options, errs), 0) << errs.str();
  std::string error;
  std::unique_ptr<LoadedProgram> lib = LoadedProgram::open(libPath, error);
  ASSERT_TRUE(lib) << error;
  // Vulkan: at 64 invocations per workgroup with the subgroup modules
  // where the device runs them (lavapipe does) and without
  // (--no-subgroups), at 256 (a GPU's choice) and at 8 (the fewest: the
  // longest loops per invocation), from the same inputs.
  struct Run {
    const char *name;
    bool subgroups;
    int64_t workgroupSize;
  };
  std::vector<Run> runs = {{"cpu", true, 0}};
  if (vulkan)
    runs = {{"vulkan 64", true, 64},
            {"vulkan 64 no-subgroups", false, 64},
            {"vulkan 256", true, 256},
            {"vulkan 8", true, 8}};
  for (const Run &run : runs) {
    SCOPED_TRACE(run.name);
    bool subgroups = run.subgroups;
    bertc::rt::DeviceChoice device;
    device.kind =
        vulkan ? bertc::rt::DeviceChoice::Kind::Vulkan : bertc::rt::DeviceChoice::Kind::Cpu;
    device.threads = 2;
    device.validation = vulkan;
    device.subgroups = subgroups;
    device.workgroupSize = run.workgroupSize;
    size_t messagesBefore = bertc::rt::vulkanValidationMessages();
    std::unique_ptr<Session> session = lib->newSession(device, error);
    ASSERT_TRUE(session) << error;
    const bertc::rt::Program &p = session->program();
    // lavapipe's subgroups (8 lanes, shuffles in compute) run the subgroup
    // modules unless told not to.
    if (vulkan) {
      EXPECT_EQ(session->device().find("subgroup reductions") != std::string::npos,
                subgroups && !p.subgroupKernels.empty() && subgroupsCanRun(p))
          << session->device();
      EXPECT_EQ(p.invocations, run.workgroupSize) << session->device();
    }

    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> uniform(-2.0, 2.0);
    Env env;
    auto fill = [&](const std::string &name, int id) {
      const bertc::rt::TensorDesc &t = p.tensors[id];
      Ref r(t.shape);
      for (int64_t i = 0; i < r.v.size(); ++i) {
        if (t.dtype == DType::I32) {
          // Ids index axes of at least 7 rows; some labels are ignored (-100).
          int32_t v = static_cast<int32_t>(rng() % 7);
          if (name == "labels" && rng() % 5 == 0)
            v = -100;
          static_cast<int32_t *>(session->data(id))[i] = v;
          r.v[i] = v;
        } else {
          float v = static_cast<float>(uniform(rng));
          static_cast<float *>(session->data(id))[i] = v;
          r.v[i] = v;
        }
      }
      env[name] = std::move(r);
    };
    for (const auto &in : p.inputs)
      fill(in.name, in.tensor);
    for (const auto &param : p.parameters)
      fill(param.name, param.tensor);
    session->updateParameterCopies();
    if (c.kernels)
      EXPECT_EQ(p.dispatches.size(), c.kernels) << c.name << ": not fused into " << c.kernels;
    session->run();

    const bertc::rt::TensorDesc *out = p.output("y");
    ASSERT_NE(out, nullptr);
    int outId = p.outputId("y");
    Ref expected = c.reference(env);
    ASSERT_EQ(expected.shape, out->shape);
    bool ids = out->dtype == DType::I32;
    auto got = [&](int64_t i) -> double {
      return ids ? static_cast<const int32_t *>(session->data(outId))[i]
                 : static_cast<const float *>(session->data(outId))[i];
    };
    double worst = 0;
    for (int64_t i = 0; i < expected.v.size(); ++i) {
      double diff = std::fabs(got(i) - expected.v[i]) / std::max(1.0, std::fabs(expected.v[i]));
      worst = std::max(worst, diff);
    }
    std::printf("%-16s %-18s %zu elements, max rel diff %.3e\n", c.name.c_str(), run.name,
                expected.v.size(), worst);
    EXPECT_LE(worst, c.tolerance) << c.name;
    session.reset();
    EXPECT_EQ(bertc::rt::vulkanValidationMessages(), messagesBefore)
        << "the validation layer reported (messages above)";
  }
}

/// Runs `c` compiled for x86-64-v3, the AVX2 variant, on a host with
/// AVX-512; elsewhere the native run is that variant already.
void runAvx2Variant(const Case &c) {
  std::vector<std::string> host = bertc::rt::hostCpuFeatures();
  if (std::find(host.begin(), host.end(), "avx512f") == host.end())
    GTEST_SKIP() << "skipped: no AVX-512 (the native run is the AVX2 variant)";
  runCase(c, /*vulkan=*/false, "x86-64-v3");
}

std::string dims(const std::vector<int64_t> &s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r;
}

Ref elementwise(const Ref &a, const Ref &b, const std::function<double(double, double)> &f) {
  std::vector<int64_t> shape = a.shape.size() >= b.shape.size() ? a.shape : b.shape;
  for (size_t i = 0; i < shape.size(); ++i) {
    auto dimOf = [&](const Ref &t) {
      int64_t off = shape.size() - t.shape.size();
      return static_cast<int64_t>(i) < off ? 1 : t.shape[i - off];
    };
    shape[i] = std::max(dimOf(a), dimOf(b));
  }
  Ref r(shape);
  for (int64_t i = 0; i < r.v.size(); ++i) {
    auto idx = r.index(i);
    r.v[i] = f(broadcastAt(a, idx), broadcastAt(b, idx));
  }
  return r;
}

Ref unary(const Ref &a, const std::function<double(double)> &f) {
  Ref r = a;
  for (double &x : r.v)
    x = f(x);
  return r;
}

/// a[..., M, K] x b[K, N] or batched; transposes swap the last two axes.
Ref matmul(Ref a, Ref b, bool ta, bool tb) {
  auto transpose = [](const Ref &t) {
    std::vector<int64_t> s = t.shape;
    std::swap(s[s.size() - 1], s[s.size() - 2]);
    Ref r(s);
    for (int64_t i = 0; i < r.v.size(); ++i) {
      auto idx = r.index(i);
      std::swap(idx[idx.size() - 1], idx[idx.size() - 2]);
      r.v[i] = t.at(idx);
    }
    return r;
  };
  if (ta)
    a = transpose(a);
  if (tb)
    b = transpose(b);
  int64_t m = a.shape[a.shape.size() - 2], k = a.shape.back(), n = b.shape.back();
  std::vector<int64_t> shape(a.shape.begin(), a.shape.end() - 2);
  shape.push_back(m);
  shape.push_back(n);
  Ref r(shape);
  int64_t batches = Ref::count(shape) / (m * n);
  for (int64_t bi = 0; bi < batches; ++bi)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          double x = a.v[(bi * m + i) * k + kk];
          double y = b.shape.size() == 2 ? b.v[kk * n + j] : b.v[(bi * k + kk) * n + j];
          s += x * y;
        }
        r.v[(bi * m + i) * n + j] = s;
      }
  return r;
}

/// `a` with each element rounded to the nearest bfloat16 (8 significant
/// bits, ties to even), computed independently of the runtime's rounding:
/// the mantissa scaled to 8 bits and rounded by nearbyint.
Ref roundedToBf16(Ref a) {
  for (double &x : a.v) {
    if (x == 0 || !std::isfinite(x))
      continue;
    int e;
    double m = std::frexp(x, &e); // x = m 2^e, 0.5 <= |m| < 1
    x = std::ldexp(std::nearbyint(std::ldexp(m, 8)), e - 8);
  }
  return a;
}

/// The product of `a` and `b` rounded to bf16, accumulated exactly.
Ref matmulBf16(const Ref &a, const Ref &b, bool ta, bool tb) {
  return matmul(roundedToBf16(a), roundedToBf16(b), ta, tb);
}

/// Reduction of `a` over `axis` kept as a size-1 axis.
Ref reduceAxis(const Ref &a, int64_t axis, double init,
               const std::function<double(double, double)> &f) {
  std::vector<int64_t> s = a.shape;
  s[axis] = 1;
  Ref r(s);
  std::fill(r.v.begin(), r.v.end(), init);
  for (int64_t i = 0; i < a.v.size(); ++i) {
    auto idx = a.index(i);
    idx[axis] = 0;
    r.at(idx) = f(r.at(idx), a.v[i]);
  }
  return r;
}

Ref softmax(const Ref &a, int64_t axis) {
  Ref m = reduceAxis(a, axis, -INFINITY, [](double x, double y) { return std::max(x, y); });
  Ref e = elementwise(a, m, [](double x, double y) { return std::exp(x - y); });
  Ref s = reduceAxis(e, axis, 0, [](double x, double y) { return x + y; });
  return elementwise(e, s, [](double x, double y) { return x / y; });
}

/// LayerNorm over the last axis of a rank-3 `x`.
Ref layerNorm(const Ref &x, const Ref &g, const Ref &b, double eps) {
  double h = static_cast<double>(x.shape.back());
  Ref mean = reduceAxis(x, 2, 0, [](double a, double v) { return a + v; });
  for (double &m : mean.v)
    m /= h;
  Ref c = elementwise(x, mean, [](double a, double m) { return a - m; });
  Ref var = reduceAxis(c, 2, 0, [](double a, double v) { return a + v * v; });
  for (double &v : var.v)
    v = std::sqrt(v / h + eps);
  Ref n = elementwise(c, var, [](double a, double s) { return a / s; });
  n = elementwise(n, g, [](double a, double w) { return a * w; });
  return elementwise(n, b, [](double a, double w) { return a + w; });
}

std::vector<Case> cases() {
  std::mt19937 rng(7);
  auto pick = [&](int lo, int hi) { return static_cast<int64_t>(lo + rng() % (hi - lo + 1)); };
  int64_t B = pick(2, 5), S = pick(30, 70), H = pick(40, 140) | 1, N = pick(20, 90) | 1;
  std::vector<int64_t> x3 = {B, S, H};
  std::string X = "  input x : f32[" + dims(x3) + "]\n";
  std::vector<Case> all;
  auto add = [&](std::string name, std::string body, std::function<Ref(const Env &)> ref,
                 double tol = 1e-4) {
    all.push_back({std::move(name), "task t {\n" + body + "}\n", std::move(ref), tol});
  };
  auto binary = [&](const char *name, const char *op, std::function<double(double, double)> f) {
    add(name, X + "  input b : f32[" + std::to_string(H) + "]\n  output y = x " + op + " b\n",
        [f](const Env &e) { return elementwise(e.at("x"), e.at("b"), f); });
  };
  binary("add", "+", [](double a, double b) { return a + b; });
  binary("sub", "-", [](double a, double b) { return a - b; });
  binary("mul", "*", [](double a, double b) { return a * b; });
  add("div", X + "  input b : f32[" + std::to_string(S) + ", 1]\n  output y = x / (b * b + 1.0)\n",
      [](const Env &e) {
        Ref d = unary(e.at("b"), [](double v) { return v * v + 1.0; });
        return elementwise(e.at("x"), d, [](double a, double b) { return a / b; });
      });
  add("scale", X + "  output y = scale(x, 0.375)\n",
      [](const Env &e) { return unary(e.at("x"), [](double v) { return v * 0.375; }); });
  add("gelu", X + "  output y = gelu(x)\n", [](const Env &e) {
    return unary(e.at("x"), [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); });
  });
  add("gelu_tanh", X + "  output y = gelu(x, approximate = \"tanh\")\n", [](const Env &e) {
    return unary(e.at("x"), [](double v) {
      return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
    });
  });
  add("tanh", X + "  output y = tanh(x)\n",
      [](const Env &e) { return unary(e.at("x"), [](double v) { return std::tanh(v); }); });
  add("dropout", X + "  output y = dropout(x, 0.1)\n", [](const Env &e) { return e.at("x"); });
  add("softmax_last", X + "  output y = softmax(x)\n",
      [](const Env &e) { return softmax(e.at("x"), 2); });
  add("softmax_mid", X + "  output y = softmax(x, axis = 1)\n",
      [](const Env &e) { return softmax(e.at("x"), 1); });
  add("layer_norm",
      X + "  output y = layer_norm(x, param f32[" + std::to_string(H) +
          "] normal(1.0) \"g\", param f32[" + std::to_string(H) +
          "] normal(1.0) \"b\", eps = 1e-5)\n",
      [](const Env &e) { return layerNorm(e.at("x"), e.at("g"), e.at("b"), 1e-5); });
  add("matmul_weight_t",
      X + "  output y = matmul(x, param f32[" + std::to_string(N) + ", " + std::to_string(H) +
          "] normal(0.5) \"w\", transpose_b = true)\n",
      [](const Env &e) { return matmul(e.at("x"), e.at("w"), false, true); });
  add("matmul_weight",
      X + "  output y = matmul(x, param f32[" + std::to_string(H) + ", " + std::to_string(N) +
          "] normal(0.5) \"w\")\n",
      [](const Env &e) { return matmul(e.at("x"), e.at("w"), false, false); });
  add("matmul_batched",
      X + "  input z : f32[" + dims(x3) + "]\n  output y = matmul(x, z, transpose_b = true)\n",
      [](const Env &e) { return matmul(e.at("x"), e.at("z"), false, true); });
  add("matmul_batched_ta",
      X + "  input z : f32[" + dims({B, S, N}) +
          "]\n  output y = matmul(x, z, transpose_a = true)\n",
      [](const Env &e) { return matmul(e.at("x"), e.at("z"), true, false); });
  // Fused kernels against the plain reference of their ops: the matmul with
  // its bias, GELU and residual add (one kernel), the scaled and masked
  // softmax, the LayerNorm of a residual sum (one kernel each); the weight
  // gradient's matmul reading its transposed operand in place.
  add("fused_dense_gelu_residual",
      X + "  input r : f32[" + dims({B, S, N}) + "]\n  let w = param f32[" + std::to_string(H) +
          ", " + std::to_string(N) + "] normal(0.5) \"w\"\n  let c = param f32[" +
          std::to_string(N) + "] normal(1.0) \"c\"\n  output y = gelu(matmul(x, w) + c) + r\n",
      [](const Env &e) {
        Ref h = elementwise(matmul(e.at("x"), e.at("w"), false, false), e.at("c"),
                            [](double a, double b) { return a + b; });
        h = unary(h, [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); });
        return elementwise(h, e.at("r"), [](double a, double b) { return a + b; });
      });
  all.back().kernels = 1;
  add("fused_scaled_masked_softmax",
      X + "  input m : f32[" + dims({B, 1, H}) + "]\n  output y = softmax(scale(x, 0.125) + m)\n",
      [](const Env &e) {
        Ref z = elementwise(unary(e.at("x"), [](double v) { return v * 0.125; }), e.at("m"),
                            [](double a, double b) { return a + b; });
        return softmax(z, 2);
      });
  all.back().kernels = 1;
  add("fused_residual_layer_norm",
      X + "  input r : f32[" + dims(x3) + "]\n  output y = layer_norm(x + r, param f32[" +
          std::to_string(H) + "] normal(1.0) \"g\", param f32[" + std::to_string(H) +
          "] normal(1.0) \"b\", eps = 1e-5)\n",
      [](const Env &e) {
        Ref x = elementwise(e.at("x"), e.at("r"), [](double a, double b) { return a + b; });
        return layerNorm(x, e.at("g"), e.at("b"), 1e-5);
      });
  all.back().kernels = 1;
  add("matmul_weight_gradient",
      "  input x : f32[" + dims({S, H}) + "]\n  input z : f32[" + dims({S, N}) +
          "]\n  output y = matmul(x, z, transpose_a = true)\n",
      [](const Env &e) { return matmul(e.at("x"), e.at("z"), true, false); });
  // Attention as one kernel of online softmax: 160 query rows in two
  // workgroup blocks, 160 keys in four blocks; and sizes no block divides
  // (one block each), a bias broadcast from a rank-2 table.
  auto attention = [](const Env &e, double scale) {
    Ref z = elementwise(
        unary(matmul(e.at("q"), e.at("k"), false, true), [scale](double v) { return v * scale; }),
        e.at("m"), [](double a, double b) { return a + b; });
    return matmul(softmax(z, static_cast<int64_t>(z.shape.size()) - 1), e.at("v"), false, false);
  };
  add("fused_attention",
      "  input q : f32[2, 3, 160, 24]\n  input k : f32[2, 3, 160, 24]\n"
      "  input v : f32[2, 3, 160, 20]\n  input m : f32[2, 1, 1, 160]\n"
      "  output y = matmul(dropout(softmax(scale(matmul(q, k, transpose_b = true), 0.2) + m,"
      " axis = -1), 0.1), v)\n",
      [&](const Env &e) { return attention(e, 0.2); });
  all.back().kernels = 1;
  add("fused_attention_odd",
      "  input q : f32[3, 37, 9]\n  input k : f32[3, 29, 9]\n  input v : f32[3, 29, 5]\n"
      "  input m : f32[37, 29]\n  output y = matmul(softmax(m + matmul(q, k, transpose_b = true)),"
      " v)\n",
      [&](const Env &e) { return attention(e, 1.0); });
  all.back().kernels = 1;
  add("embedding",
      "  input ids : i32[" + dims({B, S}) + "]\n  output y = embedding(param f32[7, " +
          std::to_string(H) + "] normal(1.0) \"table\", ids)\n",
      [H](const Env &e) {
        const Ref &ids = e.at("ids"), &table = e.at("table");
        Ref r({ids.shape[0], ids.shape[1], H});
        for (int64_t i = 0; i < r.v.size(); ++i) {
          auto idx = r.index(i);
          r.v[i] = table.at({static_cast<int64_t>(ids.at({idx[0], idx[1]})), idx[2]});
        }
        return r;
      });
  add("gather",
      X + "  input pos : i32[" + dims({B, 5}) + "]\n  output y = gather(x, pos, axis = 1)\n",
      [H](const Env &e) {
        const Ref &x = e.at("x"), &pos = e.at("pos");
        Ref r({x.shape[0], 5, H});
        for (int64_t i = 0; i < r.v.size(); ++i) {
          auto idx = r.index(i);
          r.v[i] = x.at({idx[0], static_cast<int64_t>(pos.at({idx[0], idx[1]})), idx[2]});
        }
        return r;
      });
  add("transpose", X + "  output y = transpose(x, [2, 0, 1])\n", [](const Env &e) {
    const Ref &x = e.at("x");
    Ref r({x.shape[2], x.shape[0], x.shape[1]});
    for (int64_t i = 0; i < r.v.size(); ++i) {
      auto idx = r.index(i);
      r.v[i] = x.at({idx[1], idx[2], idx[0]});
    }
    return r;
  });
  add("heads", X + "  output y = transpose(x, [1, 0, 2])\n", [](const Env &e) {
    const Ref &x = e.at("x");
    Ref r({x.shape[1], x.shape[0], x.shape[2]});
    for (int64_t i = 0; i < r.v.size(); ++i) {
      auto idx = r.index(i);
      r.v[i] = x.at({idx[1], idx[0], idx[2]});
    }
    return r;
  });
  add("reshape", X + "  output y = tanh(reshape(x, [" + std::to_string(B * S) + ", -1]))\n",
      [](const Env &e) {
        Ref r = unary(e.at("x"), [](double v) { return std::tanh(v); });
        r.shape = {r.shape[0] * r.shape[1], r.shape[2]};
        return r;
      });
  add("slice", X + "  output y = slice(x, 1, 3, " + std::to_string(S - 2) + ")\n",
      [S](const Env &e) {
        const Ref &x = e.at("x");
        Ref r({x.shape[0], S - 5, x.shape[2]});
        for (int64_t i = 0; i < r.v.size(); ++i) {
          auto idx = r.index(i);
          r.v[i] = x.at({idx[0], idx[1] + 3, idx[2]});
        }
        return r;
      });
  add("select", X + "  output y = select(x, 1, 0)\n", [](const Env &e) {
    const Ref &x = e.at("x");
    Ref r({x.shape[0], x.shape[2]});
    for (int64_t i = 0; i < r.v.size(); ++i) {
      auto idx = r.index(i);
      r.v[i] = x.at({idx[0], 0, idx[1]});
    }
    return r;
  });
  add("argmax", X + "  output y = argmax(x, axis = 1)\n", [](const Env &e) {
    const Ref &x = e.at("x");
    Ref r({x.shape[0], x.shape[2]});
    for (int64_t i = 0; i < r.v.size(); ++i) {
      auto idx = r.index(i);
      int64_t best = 0;
      for (int64_t s = 1; s < x.shape[1]; ++s)
        if (x.at({idx[0], s, idx[1]}) > x.at({idx[0], best, idx[1]}))
          best = s;
      r.v[i] = static_cast<double>(best);
    }
    return r;
  });
  add("argmax_last", X + "  output y = argmax(x)\n", [](const Env &e) {
    const Ref &x = e.at("x");
    Ref r({x.shape[0], x.shape[1]});
    for (int64_t i = 0; i < r.v.size(); ++i) {
      auto idx = r.index(i);
      int64_t best = 0;
      for (int64_t h = 1; h < x.shape[2]; ++h)
        if (x.at({idx[0], idx[1], h}) > x.at({idx[0], idx[1], best}))
          best = h;
      r.v[i] = static_cast<double>(best);
    }
    return r;
  });
  add("sum", X + "  output y = sum(x, axes = [0, 2])\n", [](const Env &e) {
    const Ref &x = e.at("x");
    Ref r({x.shape[1]});
    for (int64_t i = 0; i < x.v.size(); ++i)
      r.v[x.index(i)[1]] += x.v[i];
    return r;
  });
  add("mean", X + "  output y = mean(x)\n", [](const Env &e) {
    Ref r(std::vector<int64_t>{});
    for (double v : e.at("x").v)
      r.v[0] += v;
    r.v[0] /= e.at("x").v.size();
    return r;
  });
  // A reduction of 6000000 elements to one: on Vulkan, the workgroup's 64
  // invocations share it, each with an unrolled loop (one invocation's
  // loops, or 93750 iterations in each of 64, would be cut short by
  // lavapipe's limit of 65535, giving a sum short by a third or more).
  // 1e-2: the CPU kernel's float32 sum of so many terms is off by 4.3e-3.
  add(
      "mean_large", "  input big : f32[6000, 1000]\n  output y = mean(big * big)\n",
      [](const Env &e) {
        Ref r(std::vector<int64_t>{});
        for (double v : e.at("big").v)
          r.v[0] += v * v;
        r.v[0] /= e.at("big").v.size();
        return r;
      },
      1e-2);
  add("cross_entropy",
      X + "  input labels : i32[" + dims({B, S}) + "]\n  output y = cross_entropy(x, labels)\n",
      [](const Env &e) {
        const Ref &x = e.at("x"), &labels = e.at("labels");
        Ref sm = softmax(x, 2);
        double total = 0, count = 0;
        for (int64_t i = 0; i < labels.v.size(); ++i) {
          if (labels.v[i] == -100)
            continue;
          auto idx = labels.index(i);
          total -= std::log(sm.at({idx[0], idx[1], static_cast<int64_t>(labels.v[i])}));
          ++count;
        }
        Ref r(std::vector<int64_t>{});
        r.v[0] = count ? total / count : 0;
        return r;
      });
  return all;
}

/// bf16 matmuls (--precision bf16) in every form against the product of
/// the operands rounded to bf16, accumulated in double: the rounding of the
/// operands is the only error, the tolerance that of f32 accumulation. Odd
/// sizes (K, N and rows no block divides) and sizes every block divides.
std::vector<Case> bf16Cases() {
  std::mt19937 rng(11);
  auto pick = [&](int lo, int hi) { return static_cast<int64_t>(lo + rng() % (hi - lo + 1)); };
  int64_t B = pick(2, 5), S = pick(30, 70), H = pick(40, 140) | 1, N = pick(20, 90) | 1;
  std::vector<Case> all;
  auto add = [&](std::string name, std::string body, std::function<Ref(const Env &)> ref) {
    Case c{std::move(name), "task t {\n" + body + "}\n", std::move(ref), 1e-5};
    c.bf16 = true;
    all.push_back(std::move(c));
  };
  for (auto [suffix, rows, k, n] :
       {std::tuple<const char *, int64_t, int64_t, int64_t>{"odd", B * S, H, N},
        {"even", 256, 128, 192}}) {
    std::string X = "  input x : f32[" + dims({rows, k}) + "]\n";
    std::string tag = suffix;
    add("bf16_weight_t_" + tag,
        X + "  output y = matmul(x, param f32[" + dims({n, k}) +
            "] normal(1.0) \"w\", transpose_b = true)\n",
        [](const Env &e) { return matmulBf16(e.at("x"), e.at("w"), false, true); });
    add("bf16_weight_" + tag,
        X + "  output y = matmul(x, param f32[" + dims({k, n}) + "] normal(1.0) \"w\")\n",
        [](const Env &e) { return matmulBf16(e.at("x"), e.at("w"), false, false); });
    add("bf16_weight_gradient_" + tag,
        X + "  input z : f32[" + dims({rows, n}) + "]\n  output y = matmul(x, z, transpose_a = true)\n",
        [](const Env &e) { return matmulBf16(e.at("x"), e.at("z"), true, false); });
  }
  std::string X3 = "  input x : f32[" + dims({B, S, H}) + "]\n";
  add("bf16_batched_tb",
      X3 + "  input z : f32[" + dims({B, N, H}) + "]\n  output y = matmul(x, z, transpose_b = true)\n",
      [](const Env &e) { return matmulBf16(e.at("x"), e.at("z"), false, true); });
  add("bf16_batched",
      X3 + "  input z : f32[" + dims({B, H, N}) + "]\n  output y = matmul(x, z)\n",
      [](const Env &e) { return matmulBf16(e.at("x"), e.at("z"), false, false); });
  add("bf16_batched_ta",
      X3 + "  input z : f32[" + dims({B, S, N}) + "]\n  output y = matmul(x, z, transpose_a = true)\n",
      [](const Env &e) { return matmulBf16(e.at("x"), e.at("z"), true, false); });
  // The epilogue stays f32: bias, GELU and residual on the f32 product.
  add("bf16_dense_gelu_residual",
      X3 + "  input r : f32[" + dims({B, S, N}) + "]\n  let w = param f32[" + dims({H, N}) +
          "] normal(0.5) \"w\"\n  let c = param f32[" + std::to_string(N) +
          "] normal(1.0) \"c\"\n  output y = gelu(matmul(x, w) + c) + r\n",
      [](const Env &e) {
        Ref h = elementwise(matmulBf16(e.at("x"), e.at("w"), false, false), e.at("c"),
                            [](double a, double b) { return a + b; });
        h = unary(h, [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); });
        return elementwise(h, e.at("r"), [](double a, double b) { return a + b; });
      });
  return all;
}

class OpKernelBf16 : public ::testing::TestWithParam<Case> {};

TEST_P(OpKernelBf16, MatchesReference) { runCase(GetParam(), /*vulkan=*/false); }

INSTANTIATE_TEST_SUITE_P(All, OpKernelBf16, ::testing::ValuesIn(bf16Cases()),
                         [](const testing::TestParamInfo<Case> &info) { return info.param.name; });

class OpKernelBf16Avx2 : public ::testing::TestWithParam<Case> {};

TEST_P(OpKernelBf16Avx2, MatchesReference) { runAvx2Variant(GetParam()); }

INSTANTIATE_TEST_SUITE_P(All, OpKernelBf16Avx2, ::testing::ValuesIn(bf16Cases()),
                         [](const testing::TestParamInfo<Case> &info) { return info.param.name; });

/// The blocks of 32 rows that AMX takes, in AMX's layouts (A's rows as
/// pairs of K, B's packed pairs), computed by loops: their slicing and
/// packing checked on any CPU.
class OpKernelBf16AmxBlocks : public ::testing::TestWithParam<Case> {};

TEST_P(OpKernelBf16AmxBlocks, MatchesReference) {
  runCase(GetParam(), /*vulkan=*/false, "native", /*amxBlocksAsLoops=*/true);
}

INSTANTIATE_TEST_SUITE_P(All, OpKernelBf16AmxBlocks, ::testing::ValuesIn(bf16Cases()),
                         [](const testing::TestParamInfo<Case> &info) { return info.param.name; });

/// Compiled for Sapphire Rapids: the blocks on AMX tiles (tdpbf16ps), run
/// where the CPU has them.
class OpKernelBf16Amx : public ::testing::TestWithParam<Case> {};

TEST_P(OpKernelBf16Amx, MatchesReference) {
  if (!bertc::rt::missingCpuFeatures({"amx-tile", "amx-bf16"}).empty())
    GTEST_SKIP() << "skipped: no amx_bf16";
  runCase(GetParam(), /*vulkan=*/false, "sapphirerapids");
}

INSTANTIATE_TEST_SUITE_P(All, OpKernelBf16Amx, ::testing::ValuesIn(bf16Cases()),
                         [](const testing::TestParamInfo<Case> &info) { return info.param.name; });

class OpKernel : public ::testing::TestWithParam<Case> {};

TEST_P(OpKernel, MatchesReference) { runCase(GetParam(), /*vulkan=*/false); }

INSTANTIATE_TEST_SUITE_P(All, OpKernel, ::testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case> &info) { return info.param.name; });

class OpKernelAvx2 : public ::testing::TestWithParam<Case> {};

TEST_P(OpKernelAvx2, MatchesReference) { runAvx2Variant(GetParam()); }

INSTANTIATE_TEST_SUITE_P(All, OpKernelAvx2, ::testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case> &info) { return info.param.name; });

class OpKernelVulkan : public ::testing::TestWithParam<Case> {};

TEST_P(OpKernelVulkan, MatchesReference) { runCase(GetParam(), /*vulkan=*/true); }

INSTANTIATE_TEST_SUITE_P(All, OpKernelVulkan, ::testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case> &info) { return info.param.name; });

} // namespace
