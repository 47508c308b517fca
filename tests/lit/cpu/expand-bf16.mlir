// RUN: bertc-opt --bertc-cpu-expand-bf16 %s | FileCheck %s

// f32 to bf16 rounds to nearest even in integer ops (no library call);
// bf16 to f32 is a shift.
// CHECK-LABEL: func.func @bf16(
// CHECK-NOT: arith.truncf
// CHECK-NOT: arith.extf
// CHECK-DAG: arith.shrui {{.*}} : vector<16xi32>
// CHECK-DAG: arith.shli {{.*}} : vector<16xi32>
func.func @bf16(%a: vector<16xf32>, %b: vector<16xbf16>) -> (vector<16xbf16>, vector<16xf32>) {
  %t = arith.truncf %a : vector<16xf32> to vector<16xbf16>
  %e = arith.extf %b : vector<16xbf16> to vector<16xf32>
  return %t, %e : vector<16xbf16>, vector<16xf32>
}
