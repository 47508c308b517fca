//===- GradientBucketsTest.cpp - Buckets of a data-parallel step ----------===//
#include "runtime/train/Batch.h"

#include <gtest/gtest.h>

namespace {

using namespace bertc::rt;

/// Four gradient buffers in the parameter store, in address order with
/// padding before the third, a view of the third, and four gradient
/// dispatches that make them final in another order; then the update.
Program program() {
  Program p;
  p.tensors = {{"w", DType::F32, {16}, Storage::Parameter, 0},
               {"gradient.a", DType::F32, {4}, Storage::Parameter, 64},  // [64, 80)
               {"gradient.b", DType::F32, {8}, Storage::Parameter, 80},  // [80, 112)
               {"gradient.c", DType::F32, {4}, Storage::Parameter, 128}, // [128, 144)
               {"gradient.d", DType::F32, {2}, Storage::Parameter, 144}, // [144, 152)
               {"view of c", DType::F32, {2, 2}, Storage::Parameter, 128},
               {"x", DType::F32, {4}, Storage::Activation, 0}};
  p.gradientBuffers = {{"gradient.a", 1}, {"gradient.b", 2}, {"gradient.c", 3}, {"gradient.d", 4}};
  // Bindings: inputs, then the `results` written.
  p.dispatches = {{0, {6, 4}, 1, {1, 1, 1}},  // 0: d
                  {0, {6, 1}, 1, {1, 1, 1}},  // 1: a
                  {0, {6, 5}, 1, {1, 1, 1}},  // 2: c, through its view
                  {0, {6, 1, 2}, 1, {1, 1, 1}}, // 3: b (a is read)
                  {0, {1, 2, 0}, 1, {1, 1, 1}}}; // 4: the update writes w
  p.updateDispatches = 4;
  return p;
}

TEST(GradientBuckets, ReadyAfterTheLastWriteOfTheirBytes) {
  EXPECT_EQ(program().gradientReadyDispatches(), (std::vector<int64_t>{1, 3, 2, 0}));
}

TEST(GradientBuckets, CoverTheRegionInTheOrderTheyBecomeFinal) {
  Program p = program();
  ASSERT_EQ(p.gradientRegion().offset, 64);
  ASSERT_EQ(p.gradientRegion().bytes, 88);
  auto same = [](const std::vector<GradientBucket> &got,
                 const std::vector<GradientBucket> &want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].offset, want[i].offset) << i;
      EXPECT_EQ(got[i].bytes, want[i].bytes) << i;
      EXPECT_EQ(got[i].ready, want[i].ready) << i;
    }
  };
  // One buffer each (b takes the padding after it), by readiness.
  same(gradientBuckets(p, 0), {{80, 8, 0}, {0, 16, 1}, {64, 16, 2}, {16, 48, 3}});
  // At least 24 bytes: a+b, final with b; c+d, final with c.
  same(gradientBuckets(p, 24), {{64, 24, 2}, {0, 64, 3}});
  // Larger than the region: one bucket, final with the last write.
  same(gradientBuckets(p, 1 << 20), {{0, 88, 3}});
}

} // namespace
