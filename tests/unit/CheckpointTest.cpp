//===- CheckpointTest.cpp - Published checkpoints brought to a program ----===//
//
// readCheckpoint on files written here with each quirk of published BERT
// checkpoints, alone and together, and on damaged ones. (Whole models built
// by PyTorch are checked by tests/numerics/check_hf_checkpoints.sh.)
//
//===----------------------------------------------------------------------===//
#include "runtime/BFloat16.h"
#include "runtime/Checkpoint.h"
#include "runtime/Session.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>

using namespace bertc::rt;

namespace {

/// A program whose parameters are a miniature BERT's names: word embeddings
/// [4, 2] (tied to the decoder), one LayerNorm [2], the MLM bias [4].
Program miniBert() {
  Program p;
  p.model = "m";
  p.task = "t";
  p.tensors = {{"bert.embeddings.word_embeddings.weight", DType::F32, {4, 2}, Storage::Parameter, 0},
               {"bert.embeddings.LayerNorm.weight", DType::F32, {2}, Storage::Parameter, 64},
               {"bert.embeddings.LayerNorm.bias", DType::F32, {2}, Storage::Parameter, 128},
               {"cls.predictions.bias", DType::F32, {4}, Storage::Parameter, 192}};
  p.parameters = {{"bert.embeddings.word_embeddings.weight", 0, "normal", 0.02},
                  {"bert.embeddings.LayerNorm.weight", 1, "ones", 0},
                  {"bert.embeddings.LayerNorm.bias", 2, "zeros", 0},
                  {"cls.predictions.bias", 3, "zeros", 0}};
  p.parameterBytes = 256;
  return p;
}

const std::vector<float> kWords = {1, 2, 3, 4, 5, 6, 7, 8};
const std::vector<float> kGamma = {1.5f, -2};
const std::vector<float> kBeta = {0.25f, 0.5f};
const std::vector<float> kBias = {0, 1, 2, 3};

std::string temp(const std::string &name) { return testing::TempDir() + "/bertc-ckpt-" + name; }

std::string write(const std::string &name, const std::vector<TensorView> &tensors) {
  std::string path = temp(name), error;
  EXPECT_TRUE(writeSafetensors(path, tensors, {}, error)) << error;
  return path;
}

std::vector<float> floats(const StoredTensor &t) {
  EXPECT_EQ(t.dtype, DType::F32);
  std::vector<float> v(t.data.size() / 4);
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

/// IEEE half bits of a float that a half holds exactly (tests only).
uint16_t half(float f) {
  if (f == 0)
    return std::signbit(f) ? 0x8000 : 0;
  uint16_t sign = f < 0 ? 0x8000 : 0;
  f = std::fabs(f);
  int e;
  float m = std::frexp(f, &e); // f = m * 2^e, m in [0.5, 1).
  if (e - 1 < -14)             // Subnormal: f = bits * 2^-24.
    return sign | static_cast<uint16_t>(std::ldexp(f, 24));
  return sign | static_cast<uint16_t>((e - 1 + 15) << 10) |
         static_cast<uint16_t>(std::ldexp(m * 2 - 1, 10));
}

bool contains(const std::vector<std::string> &lines, const std::string &text) {
  for (const std::string &l : lines)
    if (l.find(text) != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST(Float16, WidensExactly) {
  for (float f : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 0x1p-14f, 0x1p-24f, 0x3p-24f, 0x3ffp-24f,
                  1.0f + 0x1p-10f})
    EXPECT_EQ(fromFloat16(half(f)), f) << f;
  EXPECT_TRUE(std::isinf(fromFloat16(0x7c00)));
  EXPECT_LT(fromFloat16(0xfc00), 0);
  EXPECT_TRUE(std::isnan(fromFloat16(0x7e00)));
}

TEST(Checkpoint, OwnNamesLoadPlainly) {
  std::string path = write("plain.safetensors", {{"bert.embeddings.word_embeddings.weight", DType::F32, {4, 2}, kWords.data()},
                                                 {"bert.embeddings.LayerNorm.weight", DType::F32, {2}, kGamma.data()},
                                                 {"bert.embeddings.LayerNorm.bias", DType::F32, {2}, kBeta.data()},
                                                 {"cls.predictions.bias", DType::F32, {4}, kBias.data()}});
  SafetensorsFile out;
  LoadReport report;
  std::string error;
  ASSERT_TRUE(readCheckpoint(path, miniBert(), out, report, error)) << error;
  EXPECT_TRUE(report.plain());
  EXPECT_EQ(out.tensors.size(), 4u);
  EXPECT_EQ(floats(out.tensors.at("bert.embeddings.LayerNorm.weight")), kGamma);
}

TEST(Checkpoint, GoogleNamesBaseModelAndBuffersTogether) {
  // A Google-converted BertModel in F16 with the decoder copies: every quirk.
  std::vector<uint16_t> words, gamma, beta, bias;
  for (float f : kWords)
    words.push_back(half(f));
  for (float f : kGamma)
    gamma.push_back(half(f));
  for (float f : kBeta)
    beta.push_back(half(f));
  for (float f : kBias)
    bias.push_back(half(f));
  std::vector<int64_t> positionIds = {0, 1, 2, 3};
  std::vector<uint16_t> otherWords = words;
  otherWords[3] = half(-4);
  std::string path = write("google.safetensors", {{"embeddings.word_embeddings.weight", DType::F16, {4, 2}, words.data()},
                                                  {"embeddings.LayerNorm.gamma", DType::F16, {2}, gamma.data()},
                                                  {"embeddings.LayerNorm.beta", DType::F16, {2}, beta.data()},
                                                  {"embeddings.position_ids", DType::I64, {1, 4}, positionIds.data()},
                                                  {"cls.predictions.decoder.bias", DType::F16, {4}, bias.data()},
                                                  {"cls.predictions.decoder.weight", DType::F16, {4, 2}, otherWords.data()},
                                                  {"pooler.dense.bias", DType::F16, {2}, beta.data()}});
  SafetensorsFile out;
  LoadReport report;
  std::string error;
  ASSERT_TRUE(readCheckpoint(path, miniBert(), out, report, error)) << error;
  EXPECT_EQ(floats(out.tensors.at("bert.embeddings.word_embeddings.weight")), kWords);
  EXPECT_EQ(floats(out.tensors.at("bert.embeddings.LayerNorm.weight")), kGamma);
  EXPECT_EQ(floats(out.tensors.at("bert.embeddings.LayerNorm.bias")), kBeta);
  EXPECT_EQ(floats(out.tensors.at("cls.predictions.bias")), kBias);
  EXPECT_EQ(out.tensors.size(), 4u);
  EXPECT_EQ(report.renamed.size(), 4u);
  EXPECT_EQ(report.converted.at("F16 to F32"), 4);
  EXPECT_EQ(report.ignored.size(), 3u);
  std::vector<std::string> lines = report.lines();
  EXPECT_TRUE(contains(lines, "embeddings.LayerNorm.gamma -> bert.embeddings.LayerNorm.weight")) << lines[1];
  EXPECT_TRUE(contains(lines, "cls.predictions.decoder.bias -> cls.predictions.bias"));
  EXPECT_TRUE(contains(lines, "converted 4 from F16 to F32"));
  EXPECT_TRUE(contains(lines, "embeddings.position_ids (an index buffer)"));
  EXPECT_TRUE(contains(lines, "pooler.dense.bias (not in this model)"));
  // The copy differs at one entry (4 -> -4): reported with the difference.
  EXPECT_TRUE(contains(lines, "cls.predictions.decoder.weight (differs from the tied "
                              "bert.embeddings.word_embeddings.weight by up to 8; that one is used)"));
  for (const std::string &l : lines)
    std::printf("  %s\n", l.c_str());
}

TEST(Checkpoint, TiedCopiesEqualAreIgnoredQuietly) {
  std::vector<double> words(kWords.begin(), kWords.end()), bias(kBias.begin(), kBias.end());
  std::string path = write("tied.safetensors", {{"bert.embeddings.word_embeddings.weight", DType::F64, {4, 2}, words.data()},
                                                {"cls.predictions.decoder.weight", DType::F32, {4, 2}, kWords.data()},
                                                {"cls.predictions.bias", DType::F32, {4}, kBias.data()},
                                                {"cls.predictions.decoder.bias", DType::F64, {4}, bias.data()}});
  SafetensorsFile out;
  LoadReport report;
  std::string error;
  ASSERT_TRUE(readCheckpoint(path, miniBert(), out, report, error)) << error;
  EXPECT_EQ(floats(out.tensors.at("bert.embeddings.word_embeddings.weight")), kWords);
  EXPECT_EQ(report.converted.at("F64 to F32"), 1);
  std::vector<std::string> lines = report.lines();
  EXPECT_TRUE(contains(lines, "cls.predictions.decoder.weight (equal to the tied "
                              "bert.embeddings.word_embeddings.weight)"));
  EXPECT_TRUE(contains(lines, "cls.predictions.decoder.bias (equal to the tied cls.predictions.bias)"));
}

TEST(Checkpoint, BFloat16Widens) {
  std::vector<uint16_t> gamma = {toBFloat16(1.5f), toBFloat16(-2)};
  std::string path = write("bf16.safetensors", {{"bert.embeddings.LayerNorm.weight", DType::BF16, {2}, gamma.data()}});
  SafetensorsFile out;
  LoadReport report;
  std::string error;
  ASSERT_TRUE(readCheckpoint(path, miniBert(), out, report, error)) << error;
  EXPECT_EQ(floats(out.tensors.at("bert.embeddings.LayerNorm.weight")), kGamma);
  EXPECT_EQ(report.converted.at("BF16 to F32"), 1);
}

TEST(Checkpoint, MatchingLoadReportsWhatItInitialised) {
  std::string path = write("partial.safetensors", {{"embeddings.LayerNorm.gamma", DType::F32, {2}, kGamma.data()}});
  Session s(miniBert(), nullptr, 1);
  s.initParameters(1);
  LoadReport report;
  std::string error;
  ASSERT_TRUE(s.loadMatchingParameters(path, error, report)) << error;
  EXPECT_EQ(report.loaded, 1);
  EXPECT_EQ(report.initialised.size(), 3u);
  auto gamma = static_cast<const float *>(s.data(1));
  EXPECT_EQ(gamma[0], 1.5f);
  std::vector<std::string> lines = report.lines();
  EXPECT_TRUE(contains(lines, "loaded 1 parameters from " + path));
  EXPECT_TRUE(contains(lines, "initialised 3: bert.embeddings.word_embeddings.weight"));
  // Every parameter is needed by a full load: the missing one is named.
  EXPECT_FALSE(s.loadParameters(path, error));
  EXPECT_NE(error.find("tensor 'bert.embeddings.word_embeddings.weight' is missing"), std::string::npos)
      << error;
}

TEST(Checkpoint, BadFilesAreErrorsNamingTheTensor) {
  SafetensorsFile out;
  LoadReport report;
  std::string error;
  // One parameter under two names.
  std::string twice = write("twice.safetensors", {{"bert.embeddings.LayerNorm.gamma", DType::F32, {2}, kGamma.data()},
                                                  {"bert.embeddings.LayerNorm.weight", DType::F32, {2}, kGamma.data()}});
  EXPECT_FALSE(readCheckpoint(twice, miniBert(), out, report, error));
  EXPECT_NE(error.find(twice + ": tensors 'bert.embeddings.LayerNorm.gamma' and "
                               "'bert.embeddings.LayerNorm.weight' are both 'bert.embeddings.LayerNorm.weight'"),
            std::string::npos)
      << error;
  // Integers where a float parameter is.
  std::vector<int64_t> ints = {1, 2};
  std::string integer = write("int.safetensors", {{"bert.embeddings.LayerNorm.weight", DType::I64, {2}, ints.data()}});
  EXPECT_FALSE(readCheckpoint(integer, miniBert(), out, report, error));
  EXPECT_NE(error.find(integer + ": tensor 'bert.embeddings.LayerNorm.weight' is I64, the model "
                                 "needs F32"),
            std::string::npos)
      << error;
  // A shape that contradicts the model.
  std::string shape = write("shape.safetensors", {{"cls.predictions.bias", DType::F32, {2}, kGamma.data()}});
  Session s(miniBert(), nullptr, 1);
  EXPECT_FALSE(s.loadMatchingParameters(shape, error, report));
  EXPECT_NE(error.find(shape + ": tensor 'cls.predictions.bias' has shape [2], the model needs [4]"),
            std::string::npos)
      << error;
  // An element type the format has but bertc does not read (I8).
  std::string i8 = temp("i8.safetensors");
  {
    std::string header = R"({"bert.embeddings.LayerNorm.weight":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}})";
    uint64_t n = header.size();
    FILE *f = std::fopen(i8.c_str(), "wb");
    std::fwrite(&n, 8, 1, f);
    std::fwrite(header.data(), 1, n, f);
    std::fwrite("\1\2", 1, 2, f);
    std::fclose(f);
  }
  EXPECT_FALSE(readCheckpoint(i8, miniBert(), out, report, error));
  EXPECT_NE(error.find(i8 + ": tensor 'bert.embeddings.LayerNorm.weight': unsupported dtype I8"),
            std::string::npos)
      << error;
}

TEST(Checkpoint, ModelDirectories) {
  namespace fs = std::filesystem;
  fs::path dir = temp("dir");
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string file;
  std::string error;
  EXPECT_FALSE(checkpointFile(dir.string(), file, error));
  EXPECT_NE(error.find(dir.string() + ": a directory without model.safetensors"), std::string::npos)
      << error;
  std::fclose(std::fopen((dir / "pytorch_model.bin").c_str(), "wb"));
  EXPECT_FALSE(checkpointFile(dir.string(), file, error));
  EXPECT_NE(error.find("pytorch_model.bin (PyTorch's pickle format), which is not read"),
            std::string::npos)
      << error;
  std::string written = write("dir/model.safetensors", {{"cls.predictions.bias", DType::F32, {4}, kBias.data()}});
  ASSERT_TRUE(checkpointFile(dir.string(), file, error)) << error;
  EXPECT_EQ(file, written);
  EXPECT_EQ(checkpointDirectory(dir.string()), dir.string());
  EXPECT_EQ(checkpointDirectory(written), "");
}
