//===- BufferPlan.cpp - Activation buffers placed by liveness -------------===//
#include "passes/program/BufferPlan.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace bertc {

int64_t planArena(const std::vector<BufferLifetime> &buffers,
                  std::vector<rt::TensorDesc> &tensors) {
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
  std::vector<std::pair<size_t, int64_t>> placed; // buffer, offset
  int64_t peak = 0;
  for (size_t i : order) {
    const BufferLifetime &buf = buffers[i];
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

} // namespace bertc
