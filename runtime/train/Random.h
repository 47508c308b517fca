//===- Random.h - A portable deterministic generator ------------*- C++ -*-===//
//
// xoshiro256** seeded through splitmix64, with its own uniform, integer and
// shuffle functions (the standard library's distributions differ between
// implementations), so that data built from a seed is the same everywhere.
// The whole state is four words and can be saved in a checkpoint.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_RANDOM_H
#define BERTC_RUNTIME_TRAIN_RANDOM_H

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace bertc::rt {

class Random {
public:
  explicit Random(uint64_t seed) {
    for (uint64_t &s : state_) {
      seed += 0x9E3779B97F4A7C15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      s = z ^ (z >> 31);
    }
  }

  uint64_t next() {
    uint64_t result = rotl(state_[1] * 5, 7) * 9;
    uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  /// Uniform in [0, 1), 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Uniform integer in [lo, hi] (inclusive), without modulo bias.
  int64_t between(int64_t lo, int64_t hi) {
    uint64_t range = static_cast<uint64_t>(hi - lo) + 1;
    if (range == 0)
      return static_cast<int64_t>(next());
    uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    uint64_t v;
    do
      v = next();
    while (v >= limit);
    return lo + static_cast<int64_t>(v % range);
  }

  template <typename T> void shuffle(std::vector<T> &v) {
    for (size_t i = v.size(); i > 1; --i)
      std::swap(v[i - 1], v[static_cast<size_t>(between(0, static_cast<int64_t>(i) - 1))]);
  }

  /// Moves a tenth of `rows` (at least one), chosen by this generator, to
  /// `held`; both keep the rows' order. A dev split when none is given.
  template <typename T> void holdOutTenth(std::vector<T> &rows, std::vector<T> &held) {
    std::vector<size_t> order(rows.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    shuffle(order);
    std::vector<bool> isHeld(rows.size(), false);
    for (size_t i = 0; i < std::max<size_t>(1, rows.size() / 10) && i < rows.size(); ++i)
      isHeld[order[i]] = true;
    std::vector<T> rest;
    for (size_t i = 0; i < rows.size(); ++i)
      (isHeld[i] ? held : rest).push_back(std::move(rows[i]));
    rows = std::move(rest);
  }

  const std::array<uint64_t, 4> &state() const { return state_; }
  void setState(const std::array<uint64_t, 4> &s) { state_ = s; }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> state_;
};

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_RANDOM_H
