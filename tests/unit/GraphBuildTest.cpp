//===- GraphBuildTest.cpp - The model file to graph pipeline --------------===//
//
// Drives `bertc compile` through its library entry point: the shipped BERT
// builds for every preset and task, and every bad model file under
// tests/lit/errors fails with an error and status 1, never a crash.
//
//===----------------------------------------------------------------------===//
#include "tools/driver/Driver.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

namespace {

bertc::CompileOptions bertOptions(const std::string &preset, const std::string &task) {
  bertc::CompileOptions o;
  o.modelPath = std::string(BERTC_SOURCE_DIR) + "/models/bert.bertc";
  o.graph.preset = preset;
  o.graph.task = task;
  o.emit = bertc::Emit::Summary;
  o.outputPath = testing::TempDir() + "/bertc-summary.txt";
  return o;
}

class BertPresets : public ::testing::TestWithParam<std::tuple<const char *, const char *>> {};

TEST_P(BertPresets, Builds) {
  auto [preset, task] = GetParam();
  std::ostringstream errs;
  EXPECT_EQ(bertc::compile(bertOptions(preset, task), errs), 0) << errs.str();
  EXPECT_EQ(errs.str(), "");
}

INSTANTIATE_TEST_SUITE_P(All, BertPresets,
                         ::testing::Combine(::testing::Values("tiny", "mini", "small", "medium",
                                                              "base", "large"),
                                            ::testing::Values("pretrain", "classify", "infer")));

TEST(GraphBuild, EveryBadModelFailsCleanly) {
  namespace fs = std::filesystem;
  int files = 0;
  for (const auto &entry :
       fs::directory_iterator(std::string(BERTC_SOURCE_DIR) + "/tests/lit/errors")) {
    if (entry.path().extension() != ".bertc")
      continue;
    ++files;
    bertc::CompileOptions o;
    o.modelPath = entry.path().string();
    o.graph.task = "t";
    o.emit = bertc::Emit::Graph;
    o.outputPath = testing::TempDir() + "/bertc-bad.mlir";
    std::ostringstream errs;
    // Some files are only wrong under their lit RUN line's flags; all others
    // must fail with an error message that names the file.
    int status = bertc::compile(o, errs);
    if (status == 0)
      continue;
    EXPECT_EQ(status, 1);
    EXPECT_NE(errs.str().find(entry.path().filename().string()), std::string::npos) << errs.str();
    EXPECT_NE(errs.str().find("error: "), std::string::npos) << errs.str();
  }
  EXPECT_GE(files, 20);
}

TEST(GraphBuild, UnknownPresetAndOverrides) {
  std::ostringstream errs;
  auto o = bertOptions("huge", "pretrain");
  EXPECT_EQ(bertc::compile(o, errs), 1);
  EXPECT_NE(errs.str().find("unknown preset 'huge'"), std::string::npos) << errs.str();

  std::ostringstream errs2;
  o = bertOptions("tiny", "classify");
  o.graph.sets = {{"num_labels", "0"}};
  EXPECT_EQ(bertc::compile(o, errs2), 1);
  EXPECT_NE(errs2.str().find("a dimension must be a positive integer, got 0"), std::string::npos)
      << errs2.str();
}

} // namespace
