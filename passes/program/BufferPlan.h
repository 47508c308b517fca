//===- BufferPlan.h - Activation buffers placed by liveness -----*- C++ -*-===//
//
// A program's activations share one arena: buffers whose lifetimes (in
// dispatch steps) overlap get disjoint byte ranges, the others may share.
// No MLIR: the plan works on the runtime's tensor descriptions.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_PASSES_PROGRAM_BUFFERPLAN_H
#define BERTC_PASSES_PROGRAM_BUFFERPLAN_H

#include "runtime/Program.h"

#include <cstdint>
#include <vector>

namespace bertc {

/// Every buffer starts at a multiple of this many bytes.
constexpr int64_t kBufferAlignment = 64;

inline int64_t alignUp(int64_t bytes) {
  return (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
}

/// An activation buffer's lifetime in dispatch steps (inputs start at -1):
/// written at `first`, last read at `last`.
struct BufferLifetime {
  int64_t bytes;
  int first, last;
  std::vector<int> tensors; ///< The buffer's tensor and its views.
  bool inPlace = false;     ///< Written into a parameter or state instead.
};

/// Gives each buffer not in place the lowest offset at which it overlaps no
/// buffer live at the same time, largest buffers first, and sets the offset
/// of its tensors; returns the arena's size (the peak).
int64_t planArena(const std::vector<BufferLifetime> &buffers, std::vector<rt::TensorDesc> &tensors);

} // namespace bertc

#endif // BERTC_PASSES_PROGRAM_BUFFERPLAN_H
