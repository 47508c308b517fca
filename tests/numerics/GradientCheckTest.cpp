//===- GradientCheckTest.cpp - Every VJP against finite differences --------===//
//
// Each case is a small model around one differentiable op, compiled by bertc
// (in process) in float64 with its gradients, run on random parameters and
// inputs. Every element of every parameter gradient is compared with the
// central difference (L(p + h) - L(p - h)) / 2h of the same program's loss,
// h = 1e-6. The loss weights the op's result by a random input `r`, so that
// every output element carries a different cotangent.
//
//===----------------------------------------------------------------------===//
#include "runtime/train/Batch.h"
#include "runtime/Loader.h"
#include "tools/driver/Driver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace {

using bertc::rt::DType;
using bertc::rt::LoadedProgram;
using bertc::rt::Session;

struct Case {
  std::string name;
  std::string body; ///< Task body: inputs, parameters and `output loss = ...`.
  std::string kind; ///< When set, a kernel kind the program must have (a fused op).
};

std::vector<Case> cases() {
  // A [3, 4] parameter and the weight of a [3, 4] result.
  const std::string A = "  let a = param f32[3, 4] normal(1.0) \"a\"\n"
                        "  input r : f32[3, 4]\n";
  const std::string X = "  let x = param f32[2, 3, 4] normal(1.0) \"x\"\n"
                        "  input r : f32[2, 3, 4]\n";
  return {
      {"add", A + "  let b = param f32[4] normal(1.0) \"b\"\n  output loss = sum((a + b) * r)\n"},
      {"sub",
       A + "  let b = param f32[3, 1] normal(1.0) \"b\"\n  output loss = sum((b - a) * r)\n"},
      {"mul", A + "  let b = param f32[4] normal(1.0) \"b\"\n  output loss = sum(a * b * r)\n"},
      {"div", A + "  let b = param f32[3, 1] normal(1.0) \"b\"\n"
                  "  output loss = sum(a / (b * b + 1.0) * r)\n"},
      {"scale", A + "  output loss = sum(scale(a, 0.125) * r)\n"},
      {"gelu", A + "  output loss = sum(gelu(a) * r)\n"},
      {"gelu_tanh", A + "  output loss = sum(gelu(a, approximate = \"tanh\") * r)\n"},
      {"tanh", A + "  output loss = sum(tanh(a) * r)\n"},
      {"dropout", A + "  output loss = sum(dropout(a, 0.4) * r)\n"},
      {"softmax_last", X + "  output loss = sum(softmax(x) * r)\n"},
      {"softmax_first", X + "  output loss = sum(softmax(x, axis = 0) * r)\n"},
      {"layer_norm", X + "  let g = param f32[4] normal(1.0) \"g\"\n"
                         "  let b = param f32[4] normal(1.0) \"b\"\n"
                         "  output loss = sum(layer_norm(x, g, b, eps = 1e-5) * r)\n"},
      {"embedding", "  let table = param f32[7, 4] normal(1.0) \"table\"\n"
                    "  input ids : i32[2, 3]\n  input r : f32[2, 3, 4]\n"
                    "  output loss = sum(embedding(table, ids) * r)\n"},
      {"reshape",
       X + "  input s : f32[6, 4]\n  output loss = sum(tanh(reshape(x, [6, -1])) * s)\n"},
      {"transpose", X + "  input s : f32[4, 2, 3]\n"
                        "  output loss = sum(transpose(x, [2, 0, 1]) * s)\n"},
      {"slice", X + "  input s : f32[2, 2, 4]\n  output loss = sum(slice(x, 1, 1, 3) * s)\n"},
      {"select", X + "  input s : f32[2, 4]\n  output loss = sum(select(x, 1, 2) * s)\n"},
      {"gather", X + "  input pos : i32[2, 5]\n  input s : f32[2, 5, 4]\n"
                     "  output loss = sum(gather(x, pos, axis = 1) * s)\n"},
      {"sum", X + "  input s : f32[3]\n  output loss = sum(sum(x, axes = [0, 2]) * s)\n"},
      {"mean", X + "  output loss = mean(x * r)\n"},
      {"cross_entropy", X + "  input labels : i32[2, 3]\n"
                            "  output loss = cross_entropy(x, labels)\n"},
      // Formed into one graph.attention (its gradient recomputes the
      // probabilities), with and without the probabilities' dropout.
      {"attention",
       "  let q = param f32[2, 3, 5, 4] normal(1.0) \"q\"\n"
       "  let k = param f32[2, 3, 6, 4] normal(1.0) \"k\"\n"
       "  let v = param f32[2, 3, 6, 2] normal(1.0) \"v\"\n"
       "  input m : f32[2, 1, 1, 6]\n  input r : f32[2, 3, 5, 2]\n"
       "  output loss = sum(matmul(softmax(scale(matmul(q, k, transpose_b = true),"
       " 0.5) + m), v) * r)\n",
       "attention"},
      {"attention_dropout",
       "  let q = param f32[2, 5, 4] normal(1.0) \"q\"\n"
       "  let k = param f32[2, 6, 4] normal(1.0) \"k\"\n"
       "  let v = param f32[2, 6, 3] normal(1.0) \"v\"\n"
       "  input m : f32[5, 6]\n  input r : f32[2, 5, 3]\n"
       "  output loss = sum(matmul(dropout(softmax(matmul(q, k, transpose_b ="
       " true) + m), 0.3), v) * r)\n",
       "attention"},
      {"matmul", A + "  let b = param f32[4, 5] normal(1.0) \"b\"\n  input s : f32[3, 5]\n"
                     "  output loss = sum(matmul(a, b) * s)\n"},
      {"matmul_transpose_b", A + "  let b = param f32[5, 4] normal(1.0) \"b\"\n"
                                 "  input s : f32[3, 5]\n"
                                 "  output loss = sum(matmul(a, b, transpose_b = true) * s)\n"},
      {"matmul_batched_transpose_a",
       X + "  let y = param f32[2, 3, 5] normal(1.0) \"y\"\n  input s : f32[2, 4, 5]\n"
           "  output loss = sum(matmul(x, y, transpose_a = true) * s)\n"},
      {"matmul_shared_weight", X + "  let w = param f32[4, 5] normal(1.0) \"w\"\n"
                                   "  input s : f32[2, 3, 5]\n"
                                   "  output loss = sum(matmul(x, w) * s)\n"},
  };
}

double loss(Session &s, int id) { return *static_cast<const double *>(s.data(id)); }

void check(const Case &c) {
  std::string dir = testing::TempDir();
  std::string modelPath = dir + "/bertc-fd-" + c.name + ".bertc";
  std::string libPath = dir + "/bertc-fd-" + c.name + ".so";
  {
    std::ofstream out(modelPath);
    out << "model fd\ntask t {\n" << c.body << "  minimize loss\n}\n";
  }
  bertc::CompileOptions options;
  options.modelPath = modelPath;
  options.graph.task = "t";
  options.graph.f64 = true;
  options.step = bertc::StepKind::Gradients;
  options.vectorize = false; // Vector code for f64 kernels is not supported yet.
  options.target = "cpu";
  options.emit = bertc::Emit::Shared;
  options.outputPath = libPath;
  std::ostringstream errs;
  ASSERT_EQ(bertc::compile(options, errs), 0) << errs.str();
  std::string error;
  std::unique_ptr<LoadedProgram> lib = LoadedProgram::open(libPath, error);
  ASSERT_TRUE(lib) << error;
  std::unique_ptr<Session> session = lib->newSession(1);
  const bertc::rt::Program &p = session->program();
  if (!c.kind.empty())
    EXPECT_NE(std::find(p.kernelKinds.begin(), p.kernelKinds.end(), c.kind), p.kernelKinds.end())
        << c.name << ": no " << c.kind << " kernel";

  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto randomize = [&](int id, const std::string &name) {
    const bertc::rt::TensorDesc &t = p.tensors[id];
    for (int64_t i = 0; i < t.elements(); ++i) {
      if (t.dtype == DType::I32) {
        // Indices of axes with at least 3 entries; some labels ignored.
        int32_t v = static_cast<int32_t>(rng() % 3);
        if (name == "labels" && i == 1)
          v = -100;
        static_cast<int32_t *>(session->data(id))[i] = v;
      } else {
        static_cast<double *>(session->data(id))[i] = normal(rng);
      }
    }
  };
  // Inputs live in the activation arena, whose bytes later dispatches reuse:
  // like the runtime, refill them before every run.
  std::vector<std::pair<int, std::vector<char>>> inputs;
  for (const auto &in : p.inputs)
    if (!p.tensors[in.tensor].shape.empty()) {
      randomize(in.tensor, in.name);
      const char *bytes = static_cast<const char *>(session->data(in.tensor));
      inputs.push_back({in.tensor, std::vector<char>(bytes, bytes + p.tensors[in.tensor].bytes())});
    }
  // The step's scalars too (the dropout key among them).
  auto run = [&] {
    for (const auto &[id, bytes] : inputs)
      std::copy(bytes.begin(), bytes.end(), static_cast<char *>(session->data(id)));
    bertc::rt::setStepInputs(*session, {0.0, 1, 3, 1.0});
    session->run();
  };
  for (const auto &param : p.parameters)
    randomize(param.tensor, param.name);
  int lossId = p.outputId("loss");
  ASSERT_GE(lossId, 0);
  run();

  // The gradients of the unperturbed run, before any perturbation.
  std::map<std::string, std::vector<double>> grads;
  for (const auto &param : p.parameters) {
    int gradId = p.outputId("grad:" + param.name);
    ASSERT_GE(gradId, 0) << "no gradient for " << param.name;
    const double *g = static_cast<const double *>(session->data(gradId));
    grads[param.name].assign(g, g + p.tensors[gradId].elements());
  }
  const double h = 1e-6;
  for (const auto &param : p.parameters) {
    int64_t n = p.tensors[param.tensor].elements();
    const std::vector<double> &grad = grads[param.name];
    double *value = static_cast<double *>(session->data(param.tensor));
    double scale = 1, maxDiff = 0;
    for (int64_t i = 0; i < n; ++i) {
      double saved = value[i];
      value[i] = saved + h;
      run();
      double up = loss(*session, lossId);
      value[i] = saved - h;
      run();
      double down = loss(*session, lossId);
      value[i] = saved;
      double fd = (up - down) / (2 * h);
      scale = std::max(scale, std::abs(fd));
      maxDiff = std::max(maxDiff, std::abs(fd - grad[i]));
    }
    double rel = maxDiff / scale;
    std::printf("%-28s %-6s %4lld elements  max |grad - fd| / max(1, |fd|) = %.2e\n",
                c.name.c_str(), param.name.c_str(), static_cast<long long>(n), rel);
    EXPECT_LE(rel, 1e-7) << c.name << ": gradient of " << param.name;
  }
}

class FiniteDifferences : public ::testing::TestWithParam<Case> {};

TEST_P(FiniteDifferences, GradientMatches) { check(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Ops, FiniteDifferences, ::testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case> &info) { return info.param.name; });

/// A cross-entropy's gradients program of `rows` rows (float64), opened.
std::unique_ptr<Session> crossEntropyProgram(int64_t rows, std::unique_ptr<LoadedProgram> &lib) {
  std::string dir = testing::TempDir();
  std::string stem = dir + "/bertc-split-" + std::to_string(rows);
  {
    std::ofstream out(stem + ".bertc");
    out << "model split\ntask t {\n  input x : f32[" << rows << ", 5]\n  input labels : i32["
        << rows << "]\n  output loss = cross_entropy(matmul(x, param f32[5, 3] normal(1.0) \"w\"), "
        << "labels)\n  minimize loss\n}\n";
  }
  bertc::CompileOptions options;
  options.modelPath = stem + ".bertc";
  options.graph.task = "t";
  options.graph.f64 = true;
  options.step = bertc::StepKind::Gradients;
  options.vectorize = false;
  options.target = "cpu";
  options.emit = bertc::Emit::Shared;
  options.outputPath = stem + ".so";
  std::ostringstream errs;
  EXPECT_EQ(bertc::compile(options, errs), 0) << errs.str();
  std::string error;
  lib = LoadedProgram::open(options.outputPath, error);
  EXPECT_TRUE(lib) << error;
  return lib ? lib->newSession(1) : nullptr;
}

// A step split into parts (micro-batches, ranks): each part's cross-entropy
// divided by the labelled rows of all parts (bertc-step-loss-counts), the
// parts' losses and gradients add up to those of the whole batch; without
// the whole step's rows each run divides by its own.
TEST(StepLossCounts, PartsSumToTheWholeBatch) {
  std::unique_ptr<LoadedProgram> wholeLib, partLib;
  std::unique_ptr<Session> whole = crossEntropyProgram(6, wholeLib);
  std::unique_ptr<Session> part = crossEntropyProgram(3, partLib);
  ASSERT_TRUE(whole && part);
  ASSERT_EQ(whole->program().labelledRows.size(), 1u);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal(0.0, 1.0);
  // Rows 1 and 5 ignored: 2 labelled in the first part, 2 in the second.
  std::vector<int32_t> labels = {0, -100, 2, 1, 2, -100};
  std::vector<double> x(6 * 5), w(5 * 3);
  for (double &v : x)
    v = normal(rng);
  for (double &v : w)
    v = normal(rng);
  // An input, or the parameter "w".
  auto set = [](Session &s, const std::string &name, const void *from, size_t bytes) {
    int id = s.program().inputId(name);
    for (const auto &param : s.program().parameters)
      if (param.name == name)
        id = param.tensor;
    ASSERT_GE(id, 0) << name;
    std::memcpy(s.data(id), from, bytes);
  };
  auto grad = [](Session &s) {
    int id = s.program().outputId("grad:w");
    const double *g = static_cast<const double *>(s.data(id));
    return std::vector<double>(g, g + 15);
  };
  auto loss = [](Session &s) {
    return *static_cast<const double *>(s.data(s.program().outputId("loss")));
  };
  set(*whole, "x", x.data(), x.size() * 8);
  set(*whole, "labels", labels.data(), labels.size() * 4);
  set(*whole, "w", w.data(), w.size() * 8);
  EXPECT_EQ(whole->countLabelledRows(), std::vector<double>{4});
  whole->run();
  double wholeLoss = loss(*whole);
  std::vector<double> wholeGrad = grad(*whole);

  double sumLoss = 0;
  std::vector<double> sumGrad(15, 0.0), ownGrad;
  part->setLabelledRows({4});
  for (int half = 0; half < 2; ++half) {
    set(*part, "x", x.data() + half * 15, 15 * 8);
    set(*part, "labels", labels.data() + half * 3, 3 * 4);
    set(*part, "w", w.data(), w.size() * 8);
    EXPECT_EQ(part->countLabelledRows(), std::vector<double>{2});
    part->run();
    sumLoss += loss(*part);
    std::vector<double> g = grad(*part);
    for (size_t i = 0; i < g.size(); ++i)
      sumGrad[i] += g[i];
  }
  double worst = 0;
  for (size_t i = 0; i < wholeGrad.size(); ++i)
    worst = std::max(worst, std::abs(sumGrad[i] - wholeGrad[i]));
  std::printf("split step: loss %.12f vs whole %.12f, max |grad diff| %.3e\n", sumLoss, wholeLoss,
              worst);
  EXPECT_NEAR(sumLoss, wholeLoss, 1e-12);
  EXPECT_LE(worst, 1e-12);

  // Without the whole step's rows: the second part alone, its own mean.
  part->setLabelledRows({});
  part->run();
  double own = loss(*part);
  part->setLabelledRows({2});
  part->run();
  EXPECT_EQ(loss(*part), own);
  EXPECT_THROW(part->setLabelledRows({1, 2}), std::logic_error);
}

} // namespace
