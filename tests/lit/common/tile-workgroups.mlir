// Roots tiled into workgroups by their bertc.workgroup_tiles.
// RUN: bertc-opt --split-input-file --verify-diagnostics --bertc-tile-workgroups %s | FileCheck %s

// A matmul in 96 x 64 tiles, its fill fused into each tile; K stays whole.
// CHECK-LABEL: func.func @matmul(
// CHECK: scf.forall (%[[I:.*]], %[[J:.*]]) = (0, 0) to (384, 512) step (96, 64)
// CHECK-DAG: tensor.extract_slice %{{.*}}[%[[I]], 0] [96, 256]
// CHECK-DAG: tensor.extract_slice %{{.*}}[0, %[[J]]] [256, 64]
// CHECK: linalg.fill {{.*}} -> tensor<96x64xf32>
// CHECK: linalg.matmul ins({{.*}} : tensor<96x256xf32>, tensor<256x64xf32>) outs({{.*}} : tensor<96x64xf32>)
// CHECK-NOT: bertc.workgroup_tiles
// CHECK: tensor.parallel_insert_slice
func.func @matmul(%a: memref<384x256xf32>, %b: memref<256x512xf32>, %out: memref<384x512xf32>, %x: index, %y: index, %z: index) {
  %ta = bufferization.to_tensor %a restrict : memref<384x256xf32>
  %tb = bufferization.to_tensor %b restrict : memref<256x512xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<384x512xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<384x512xf32>) -> tensor<384x512xf32>
  %m = linalg.matmul {bertc.workgroup_tiles = array<i64: 96, 64, 0>} ins(%ta, %tb : tensor<384x256xf32>, tensor<256x512xf32>) outs(%f : tensor<384x512xf32>) -> tensor<384x512xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<384x512xf32>, memref<384x512xf32>) -> ()
  return
}

// -----

// Two roots (horizontal fusion): the tiled one takes workgroups 0..3 of a
// one-dimensional grid, the untiled one workgroup 4, each behind an scf.if
// on the workgroup id.
// CHECK-LABEL: func.func @two_roots(
// CHECK-SAME: %[[X:[a-z0-9]+]]: index, %{{.*}}: index, %{{.*}}: index) attributes {bertc.grid = array<i64: 5, 1, 1>}
// CHECK: %[[C4:.*]] = arith.constant 4 : index
// CHECK: arith.cmpi ult, %[[X]], %[[C4]]
// CHECK: scf.if
// CHECK: linalg.negf ins(%{{.*}} : tensor<16x64xf32>)
// CHECK: arith.cmpi eq, %[[X]], %{{.*}}
// CHECK: scf.if
// CHECK-NEXT: linalg.fill
func.func @two_roots(%a: memref<64x64xf32>, %o0: memref<64x64xf32>, %o1: memref<8xf32>, %x: index, %y: index, %z: index) {
  %ta = bufferization.to_tensor %a restrict : memref<64x64xf32>
  %e = tensor.empty() : tensor<64x64xf32>
  %n = linalg.negf {bertc.workgroup_tiles = array<i64: 16, 0>} ins(%ta : tensor<64x64xf32>) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %e1 = tensor.empty() : tensor<8xf32>
  %one = arith.constant 1.0 : f32
  %f = linalg.fill ins(%one : f32) outs(%e1 : tensor<8xf32>) -> tensor<8xf32>
  bufferization.materialize_in_destination %n in restrict writable %o0 : (tensor<64x64xf32>, memref<64x64xf32>) -> ()
  bufferization.materialize_in_destination %f in restrict writable %o1 : (tensor<8xf32>, memref<8xf32>) -> ()
  return
}

// -----

// A root without tiles runs whole: nothing changes.
// CHECK-LABEL: func.func @untiled(
// CHECK-NOT: scf.forall
// CHECK-NOT: bertc.grid
func.func @untiled(%a: memref<8xf32>, %out: memref<8xf32>, %x: index, %y: index, %z: index) {
  %ta = bufferization.to_tensor %a restrict : memref<8xf32>
  %e = tensor.empty() : tensor<8xf32>
  %n = linalg.negf ins(%ta : tensor<8xf32>) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  bufferization.materialize_in_destination %n in restrict writable %out : (tensor<8xf32>, memref<8xf32>) -> ()
  return
}

// -----

// A tile per loop, or it is an error.
func.func @wrong_rank(%a: memref<8x8xf32>, %out: memref<8x8xf32>, %x: index, %y: index, %z: index) {
  %ta = bufferization.to_tensor %a restrict : memref<8x8xf32>
  %e = tensor.empty() : tensor<8x8xf32>
  // expected-error @+1 {{bertc.workgroup_tiles has 1 sizes for 2 loops}}
  %n = linalg.negf {bertc.workgroup_tiles = array<i64: 4>} ins(%ta : tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) -> tensor<8x8xf32>
  bufferization.materialize_in_destination %n in restrict writable %out : (tensor<8x8xf32>, memref<8x8xf32>) -> ()
  return
}
