//===- RuntimeTest.cpp - JSON, safetensors, the program format, CPU features ===//
#include "runtime/BFloat16.h"
#include "runtime/CpuFeatures.h"
#include "runtime/Json.h"
#include "runtime/Program.h"
#include "runtime/Safetensors.h"
#include "runtime/Session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

using namespace bertc::rt;

TEST(Json, ParsesAndDumps) {
  Json j;
  std::string error;
  ASSERT_TRUE(
      Json::parse(R"( {"a": [1, -2.5e3, true, null], "b": "x\"\u00e9\n", "c": {}} )", j, error))
      << error;
  ASSERT_TRUE(j.isObject());
  const Json *a = j.find("a");
  ASSERT_TRUE(a && a->isArray());
  EXPECT_EQ(a->items().size(), 4u);
  EXPECT_TRUE(a->items()[0].isInteger());
  EXPECT_DOUBLE_EQ(a->items()[1].number(), -2500.0);
  EXPECT_TRUE(a->items()[2].boolean());
  EXPECT_TRUE(a->items()[3].isNull());
  EXPECT_EQ(j.find("b")->string(), "x\"\xc3\xa9\n");
  Json back;
  ASSERT_TRUE(Json::parse(j.dump(), back, error)) << error;
  EXPECT_EQ(back.dump(), j.dump());
}

TEST(Json, RejectsWithOffsets) {
  struct Bad {
    const char *text, *message;
  };
  for (Bad b :
       {Bad{"[1, 2", "expected ',' or ']' at byte 5"},
        Bad{"{\"a\": 1, \"a\": 2}", "duplicate member 'a'"},
        Bad{"1x", "unexpected text after the JSON value at byte 1"},
        Bad{"01", "malformed number (leading zero)"}, Bad{"\"\\ud800\"", "unpaired surrogate"},
        Bad{"[-]", "malformed number"}, Bad{"\"a\nb\"", "control character in string"}}) {
    Json j;
    std::string error;
    EXPECT_FALSE(Json::parse(b.text, j, error)) << b.text;
    EXPECT_NE(error.find(b.message), std::string::npos) << b.text << ": " << error;
  }
  std::string deep(1000, '[');
  Json j;
  std::string error;
  EXPECT_FALSE(Json::parse(deep, j, error));
  EXPECT_NE(error.find("nested too deeply"), std::string::npos);
}

TEST(Safetensors, RoundTripAndAtomicReplace) {
  std::string path = testing::TempDir() + "/bertc-roundtrip.safetensors";
  std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  std::vector<int32_t> b = {4, 5};
  std::string error;
  ASSERT_TRUE(writeSafetensors(
      path, {{"a.weight", DType::F32, {2, 3}, a.data()}, {"b", DType::I32, {2}, b.data()}},
      {{"format", "pt"}}, error))
      << error;
  SafetensorsFile file;
  ASSERT_TRUE(readSafetensors(path, file, error)) << error;
  EXPECT_EQ(file.metadata["format"], "pt");
  ASSERT_EQ(file.tensors.size(), 2u);
  const StoredTensor &t = file.tensors["a.weight"];
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(t.data.data(), a.data(), 24), 0);
  // Overwriting replaces the file whole and leaves no temporary behind.
  ASSERT_TRUE(writeSafetensors(path, {{"b", DType::I32, {2}, b.data()}}, {}, error)) << error;
  ASSERT_TRUE(readSafetensors(path, file, error)) << error;
  EXPECT_EQ(file.tensors.size(), 1u);
  std::ifstream tmp(path + ".tmp." + std::to_string(getpid()));
  EXPECT_FALSE(tmp.good());
}

TEST(Safetensors, WriteFailureNamesThePath) {
  std::string error;
  float x = 0;
  EXPECT_FALSE(
      writeSafetensors("/nonexistent-dir/w.safetensors", {{"x", DType::F32, {1}, &x}}, {}, error));
  EXPECT_NE(error.find("/nonexistent-dir/w.safetensors: cannot create"), std::string::npos)
      << error;
}

TEST(Program, JsonRoundTripAndValidation) {
  Program p;
  p.model = "m";
  p.task = "t";
  p.parameterBytes = 64;
  p.activationBytes = 128;
  p.tensors = {{"w", DType::F32, {4, 4}, Storage::Parameter, 0},
               {"x", DType::F32, {4, 4}, Storage::Activation, 0},
               {"%2", DType::F32, {4, 4}, Storage::Activation, 64}};
  p.parameters = {{"w", 0, "normal", 0.02}};
  p.inputs = {{"x", 1}};
  p.outputs = {{"y", 2}};
  p.kernels = {"kernel_0"};
  p.kernelKinds = {"elementwise"};
  p.kernelMatmulFlops = {0};
  p.dispatches = {{0, {1, 0, 2}, 1, {2, 1, 1}}};
  Program back;
  std::string error;
  ASSERT_TRUE(Program::fromJson(p.toJson(), back, error)) << error;
  EXPECT_EQ(back.toJson().dump(), p.toJson().dump());

  // A tensor past its storage is refused.
  Json bad = p.toJson();
  std::string text = bad.dump();
  text.replace(text.find("\"activation_bytes\":128"), 22, "\"activation_bytes\":100");
  ASSERT_TRUE(Json::parse(text, bad, error));
  EXPECT_FALSE(Program::fromJson(bad, back, error));
  EXPECT_NE(error.find("range outside its storage"), std::string::npos) << error;

  // The CPU the kernels were compiled for and its features round-trip.
  p.cpu = "x86-64-v3";
  p.cpuFeatures = {"avx", "avx2", "fma"};
  ASSERT_TRUE(Program::fromJson(p.toJson(), back, error)) << error;
  EXPECT_EQ(back.cpu, "x86-64-v3");
  EXPECT_EQ(back.cpuFeatures, p.cpuFeatures);
  EXPECT_FALSE(back.cpuAmx);
  // So do the bf16 matmuls' instructions.
  p.cpuBf16Dot = p.cpuAmx = true;
  ASSERT_TRUE(Program::fromJson(p.toJson(), back, error)) << error;
  EXPECT_TRUE(back.cpuBf16Dot);
  EXPECT_TRUE(back.cpuAmx);
  p.cpu.clear();
  p.cpuFeatures.clear();
  p.cpuBf16Dot = p.cpuAmx = false;

  // The inputs the session fills with labelled rows round-trip; one that
  // would count a float tensor is refused.
  p.tensors.push_back({"labels", DType::I32, {4}, Storage::Activation, 0});
  p.tensors.push_back({"labelled_rows:labels", DType::F32, {}, Storage::Activation, 16});
  p.labelledRows = {{4, 3, -100, 7}};
  ASSERT_TRUE(Program::fromJson(p.toJson(), back, error)) << error;
  ASSERT_EQ(back.labelledRows.size(), 1u);
  EXPECT_EQ(back.labelledRows[0].labels, 3);
  EXPECT_EQ(back.labelledRows[0].classes, 7);
  p.labelledRows[0].labels = 1;
  EXPECT_FALSE(Program::fromJson(p.toJson(), back, error));
  EXPECT_NE(error.find("not a float scalar counting the I32"), std::string::npos) << error;
  p.labelledRows.clear();
  p.tensors.resize(3);

  // Gradient buffers and the update's first dispatch round-trip; the update
  // cannot start before the forward pass ends or past the last dispatch.
  // The buffers' region holds nothing else: a parameter there is refused.
  p.parameterBytes = 128;
  p.tensors.push_back({"gradient.w", DType::F32, {4, 4}, Storage::Parameter, 64});
  p.gradientBuffers = {{"gradient.w", 3}};
  p.updateDispatches = 1;
  ASSERT_TRUE(Program::fromJson(p.toJson(), back, error)) << error;
  EXPECT_EQ(back.gradientBuffers.size(), 1u);
  EXPECT_EQ(back.updateDispatches, 1);
  EXPECT_EQ(back.gradientRegion().offset, 64);
  EXPECT_EQ(back.gradientRegion().bytes, 64);
  p.updateDispatches = 2;
  EXPECT_FALSE(Program::fromJson(p.toJson(), back, error));
  EXPECT_NE(error.find("update_dispatches out of range"), std::string::npos) << error;
  p.updateDispatches = 1;
  p.gradientBuffers = {{"gradient.w", 0}};
  EXPECT_FALSE(Program::fromJson(p.toJson(), back, error));
  EXPECT_NE(error.find("parameter w lies inside the gradient buffers' region"), std::string::npos)
      << error;
  p.gradientBuffers.clear();
  p.updateDispatches = 0;
  p.tensors.resize(3);
  p.parameterBytes = 64;

  // A Vulkan program's workgroup size, each kernel's workgroup memory and
  // its subgroup modules round-trip; a count per kernel is required, sizes
  // must be positive, subgroup kernels must exist, with a cluster.
  p.invocations = 64;
  p.workgroupMemory = {4096};
  p.subgroupKernels = {0};
  p.subgroupCluster = 8;
  ASSERT_TRUE(Program::fromJson(p.toJson(), back, error)) << error;
  EXPECT_EQ(back.invocations, 64);
  EXPECT_EQ(back.workgroupMemory, (std::vector<int64_t>{4096}));
  EXPECT_EQ(back.subgroupKernels, (std::vector<int64_t>{0}));
  EXPECT_EQ(back.subgroupCluster, 8);
  auto refused = [&](const std::string &from, const std::string &to) {
    std::string edited = p.toJson().dump();
    size_t at = edited.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    edited.replace(at, from.size(), to);
    Json json;
    EXPECT_TRUE(Json::parse(edited, json, error)) << error;
    return !Program::fromJson(json, back, error);
  };
  EXPECT_TRUE(refused("\"workgroup_memory\":[4096]", "\"workgroup_memory\":[4096,1]"));
  EXPECT_NE(error.find("one count per kernel"), std::string::npos) << error;
  EXPECT_TRUE(refused("\"invocations\":64", "\"invocations\":0"));
  EXPECT_NE(error.find("at least 1"), std::string::npos) << error;
  EXPECT_TRUE(refused("\"subgroup_kernels\":[0]", "\"subgroup_kernels\":[1]"));
  EXPECT_NE(error.find("kernel indices"), std::string::npos) << error;
  EXPECT_TRUE(refused("\"subgroup_cluster\":8", "\"subgroup_cluster\":0"));
  EXPECT_NE(error.find("at least 2"), std::string::npos) << error;
  // Each kernel's matmul operations: one count per kernel, none negative.
  EXPECT_TRUE(refused("\"kernel_matmul_flops\":[0]", "\"kernel_matmul_flops\":[0,5]"));
  EXPECT_NE(error.find("one count per kernel"), std::string::npos) << error;
  EXPECT_TRUE(refused("\"kernel_matmul_flops\":[0]", "\"kernel_matmul_flops\":[-2]"));
  EXPECT_NE(error.find("must hold counts"), std::string::npos) << error;
}

// CPUID's answer for every feature a program may require against the flags
// Linux reports in /proc/cpuinfo (which, like the runtime, leaves out what
// the kernel does not save the registers of): every flag listed is detected.
// Some hypervisors list fewer flags than CPUID reports (seen: sse4a and abm
// on AMD EPYC guests); those are printed, and the exact check is against
// LLVM's own decoding of CPUID (CpuFeatures.AgreeWithLlvmHostDetection).
TEST(CpuFeatures, AgreeWithProcCpuinfo) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  std::set<std::string> flags;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      for (std::string w; words >> w;)
        flags.insert(w);
      break;
    }
  if (flags.empty())
    GTEST_SKIP() << "skipped: no /proc/cpuinfo flags";
  std::vector<std::string> host = hostCpuFeatures();
  for (const CpuFeature &f : knownCpuFeatures()) {
    bool detected = std::find(host.begin(), host.end(), f.llvmName) != host.end();
    bool listed = flags.count(f.linuxFlag) > 0;
    if (listed)
      EXPECT_TRUE(detected) << f.llvmName << " (" << f.linuxFlag << ") is in /proc/cpuinfo";
    else if (detected)
      std::printf("note: CPUID reports %s, /proc/cpuinfo does not list %s\n", f.llvmName,
                  f.linuxFlag);
  }
  // Every x86-64 CPU bertc runs on has SSE3; names outside the table count
  // as missing, since the runtime cannot check them.
  EXPECT_TRUE(missingCpuFeatures({"sse3"}).empty());
  EXPECT_EQ(missingCpuFeatures({"sse3", "no-such-feature"}),
            (std::vector<std::string>{"no-such-feature"}));
}

// Linux grants the AMX tile state on request where the CPU has AMX (the
// kernels of a program compiled for AMX fault without it) and refuses it,
// with the reason, elsewhere; the answer is the same on every call.
TEST(CpuFeatures, AmxTileDataOnRequest) {
  bool amx = missingCpuFeatures({"amx-tile"}).empty();
  std::string error;
  bool granted = requestAmxTileData(error);
  EXPECT_EQ(granted, amx) << error;
  if (!amx)
    EXPECT_NE(error.find("refused the AMX tile state"), std::string::npos) << error;
  std::string again;
  EXPECT_EQ(requestAmxTileData(again), granted);
  EXPECT_EQ(again, error);
}

TEST(BFloat16, RoundsToNearestEven) {
  auto bits = [](float f) { return toBFloat16(f); };
  EXPECT_EQ(bits(1.0f), 0x3f80);
  // Half an ulp above 1 (ulp 2^-7) is a tie: to the even 1.0.
  EXPECT_EQ(fromBFloat16(bits(1.0f + 0x1p-8f)), 1.0f);
  // 1 + 2^-7 + 2^-8 ties between odd 1 + 2^-7 and even 1 + 2^-6.
  EXPECT_EQ(fromBFloat16(bits(1.0f + 0x1p-7f + 0x1p-8f)), 1.0f + 0x1p-6f);
  // Just above a tie rounds up.
  EXPECT_EQ(fromBFloat16(bits(1.0f + 0x1p-8f + 0x1p-20f)), 1.0f + 0x1p-7f);
  EXPECT_EQ(fromBFloat16(bits(-3.0f)), -3.0f);
  EXPECT_TRUE(std::isinf(fromBFloat16(bits(INFINITY))));
  EXPECT_TRUE(std::isnan(fromBFloat16(bits(NAN))));
  // The largest floats round to infinity, as IEEE rounding does.
  EXPECT_TRUE(std::isinf(fromBFloat16(bits(3.4e38f))));
}

/// A program of one F32 parameter and its BF16 copy, no dispatches.
Program copyProgram() {
  Program p;
  p.model = "m";
  p.task = "t";
  p.tensors = {{"w", DType::F32, {5}, Storage::Parameter, 0},
               {"w.bf16", DType::BF16, {5}, Storage::Parameter, 64}};
  p.parameters = {{"w", 0, "normal", 1.0}};
  p.parameterCopies = {{1, 0}};
  p.parameterBytes = 128;
  return p;
}

TEST(Program, ParameterCopiesRoundTripAndAreChecked) {
  Program p = copyProgram(), back;
  std::string error;
  ASSERT_TRUE(Program::fromJson(p.toJson(), back, error)) << error;
  ASSERT_EQ(back.parameterCopies.size(), 1u);
  EXPECT_EQ(back.parameterCopies[0].tensor, 1);
  EXPECT_EQ(back.parameterCopies[0].source, 0);
  // A copy must be BF16 of an F32 parameter of its shape.
  p.tensors[1].shape = {4};
  EXPECT_FALSE(Program::fromJson(p.toJson(), back, error));
  EXPECT_NE(error.find("parameter copy w.bf16: not a BF16 copy of the F32 parameter w"),
            std::string::npos)
      << error;
}

TEST(Session, ParameterCopiesFollowInitAndLoadsAndAreNotSaved) {
  Session s(copyProgram(), nullptr, 1);
  auto w = static_cast<float *>(s.data(0));
  auto copy = static_cast<const uint16_t *>(s.data(1));
  s.initParameters(3);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(copy[i], toBFloat16(w[i])) << i;
  // A bf16 checkpoint loads into the f32 parameter, widened exactly.
  std::string path = testing::TempDir() + "/bertc-bf16.safetensors";
  std::vector<uint16_t> stored = {0x3f80, 0xc040, 0x3f81, 0x0000, 0x4000}; // 1, -3, 1+2^-7, 0, 2
  std::string error;
  ASSERT_TRUE(writeSafetensors(path, {{"w", DType::BF16, {5}, stored.data()}}, {}, error))
      << error;
  ASSERT_TRUE(s.loadParameters(path, error)) << error;
  EXPECT_EQ(w[0], 1.0f);
  EXPECT_EQ(w[1], -3.0f);
  EXPECT_EQ(w[2], 1.0f + 0x1p-7f);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(copy[i], stored[i]) << i;
  // Direct writes reach the copy when asked.
  w[3] = 0.5f;
  s.updateParameterCopies();
  EXPECT_EQ(copy[3], 0x3f00);
  // Checkpoints hold the f32 parameters only.
  ASSERT_TRUE(s.saveParameters(path, error, /*withState=*/true)) << error;
  SafetensorsFile file;
  ASSERT_TRUE(readSafetensors(path, file, error)) << error;
  ASSERT_EQ(file.tensors.size(), 1u);
  EXPECT_EQ(file.tensors["w"].dtype, DType::F32);
}
