//===- BFloat16.h - bf16 and f16 conversions for the runtime ---*- C++ -*-===//
//
// bf16 is the upper half of an IEEE float32: 8 exponent bits, 7 mantissa
// bits. The runtime converts between the two when it fills parameter copies
// and loads bf16 checkpoints; the kernels do the same with arith.truncf.
// IEEE half (f16: 5 exponent bits, 10 mantissa bits) only occurs in
// checkpoints, which loads widen to float32.
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

/// The float32 of an IEEE half `h` (exact: subnormals, infinities and NaNs
/// included).
inline float fromFloat16(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0x1f) { // Infinity or NaN.
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) { // Normal: rebias 15 -> 127.
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) { // Zero.
    bits = sign;
  } else { // Subnormal: mantissa * 2^-24, normalised.
    int shift = 0;
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      ++shift;
    }
    bits = sign | (static_cast<uint32_t>(113 - shift) << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

} // namespace bertc::rt

#endif // BERTC_RUNTIME_BFLOAT16_H
