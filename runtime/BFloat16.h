//===- BFloat16.h - bf16 rounding for the runtime --------------*- C++ -*-===//
//
// bf16 is the upper half of an IEEE float32: 8 exponent bits, 7 mantissa
// bits. The runtime converts between the two when it fills parameter copies
// and loads bf16 checkpoints; the kernels do the same with arith.truncf.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_BFLOAT16_H
#define BERTC_RUNTIME_BFLOAT16_H

#include <cstdint>
#include <cstring>

namespace bertc::rt {

/// `f` rounded to the nearest bf16, ties to even; a NaN stays a (quiet)
/// NaN.
inline uint16_t toBFloat16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

/// The float32 of the same value (exact).
inline float fromBFloat16(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

} // namespace bertc::rt

#endif // BERTC_RUNTIME_BFLOAT16_H
