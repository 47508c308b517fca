// erf, which SPIR-V's GLSL instructions lack, as a polynomial; tanh, which
// they have, stays.
// RUN: bertc-opt --bertc-vulkan-approximate-erf %s | FileCheck %s

// CHECK-LABEL: func.func @gelu(
// CHECK-NOT: math.erf
// CHECK: math.tanh
func.func @gelu(%x: f32) -> f32 {
  %e = math.erf %x : f32
  %t = math.tanh %e : f32
  return %t : f32
}
