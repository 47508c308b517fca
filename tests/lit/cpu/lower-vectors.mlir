// Contractions become outer products (FMAs on registers), transposes
// shuffles, transfers of rank one loads and stores.
// RUN: bertc-opt --bertc-cpu-lower-vectors %s | FileCheck %s

// CHECK-LABEL: func.func @contract(
// CHECK-NOT: vector.contract
// Six rows of 16, each updated once per step of K: 24 FMAs.
// CHECK-COUNT-24: vector.fma {{.*}} : vector<16xf32>
// CHECK-NOT: vector.fma
func.func @contract(%a: vector<6x4xf32>, %b: vector<4x16xf32>, %c: vector<6x16xf32>) -> vector<6x16xf32> {
  %r = vector.contract {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %a, %b, %c : vector<6x4xf32>, vector<4x16xf32> into vector<6x16xf32>
  return %r : vector<6x16xf32>
}

// CHECK-LABEL: func.func @transpose(
// CHECK-NOT: vector.transpose
// CHECK: vector.shuffle {{.*}} : vector<64xf32>, vector<64xf32>
func.func @transpose(%a: vector<8x8xf32>) -> vector<8x8xf32> {
  %t = vector.transpose %a, [1, 0] : vector<8x8xf32> to vector<8x8xf32>
  return %t : vector<8x8xf32>
}

// A rank-1 transfer in bounds is a plain load (ConvertVectorToSCF, later,
// brings the others to rank 1).
// CHECK-LABEL: func.func @read(
// CHECK-NOT: vector.transfer_read
// CHECK: vector.load %{{.*}}[%{{.*}}] : memref<16xf32>, vector<16xf32>
func.func @read(%m: memref<16xf32>) -> vector<16xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %m[%c0], %pad {in_bounds = [true]} : memref<16xf32>, vector<16xf32>
  return %v : vector<16xf32>
}
