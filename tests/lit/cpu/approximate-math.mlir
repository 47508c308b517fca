// float32 tanh, erf and exp as polynomials (vector code stays vector code);
// float64 is left to libm.
// RUN: bertc-opt --bertc-cpu-approximate-math %s | FileCheck %s

// CHECK-LABEL: func.func @f32(
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK: math.fma {{.*}} : vector<16xf32>
func.func @f32(%x: vector<16xf32>) -> vector<16xf32> {
  %t = math.tanh %x : vector<16xf32>
  %e = math.erf %t : vector<16xf32>
  %y = math.exp %e : vector<16xf32>
  return %y : vector<16xf32>
}

// CHECK-LABEL: func.func @f64(
// CHECK: math.erf %{{.*}} : f64
func.func @f64(%x: f64) -> f64 {
  %e = math.erf %x : f64
  return %e : f64
}
