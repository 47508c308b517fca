// A register block read and written at every step of K is carried in
// registers instead: one read before the loop, one write after.
// RUN: bertc-opt --bertc-cpu-hoist-accumulators %s | FileCheck %s

// CHECK-LABEL: func.func @accumulate(
// CHECK-SAME: %[[C:[a-z0-9]+]]: memref<6x16xf32>
// CHECK: %[[INIT:.*]] = vector.transfer_read %[[C]]
// CHECK: %[[SUM:.*]] = scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (vector<6x16xf32>)
// CHECK-NOT: vector.transfer_read %[[C]]
// CHECK-NOT: vector.transfer_write
// CHECK: arith.addf %[[ACC]], %{{.*}} : vector<6x16xf32>
// CHECK: }
// CHECK-NEXT: vector.transfer_write %[[SUM]], %[[C]]
func.func @accumulate(%c: memref<6x16xf32>, %b: memref<64x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %pad = arith.constant 0.0 : f32
  scf.for %k = %c0 to %c64 step %c1 {
    %row = vector.transfer_read %b[%k, %c0], %pad {in_bounds = [true, true], permutation_map = affine_map<(d0, d1) -> (0, d1)>} : memref<64x16xf32>, vector<6x16xf32>
    %acc = vector.transfer_read %c[%c0, %c0], %pad {in_bounds = [true, true]} : memref<6x16xf32>, vector<6x16xf32>
    %s = arith.addf %acc, %row : vector<6x16xf32>
    vector.transfer_write %s, %c[%c0, %c0] {in_bounds = [true, true]} : vector<6x16xf32>, memref<6x16xf32>
  }
  return
}
