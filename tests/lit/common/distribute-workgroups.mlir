// The workgroup loop replaced by the workgroup ids, its trip counts the
// kernel's bertc.grid.
// RUN: bertc-opt --split-input-file --bertc-distribute-workgroups %s | FileCheck %s

// CHECK-DAG: #[[ROWS:.*]] = affine_map<(d0) -> (d0 * 16)>
// CHECK-DAG: #[[COLS:.*]] = affine_map<(d0) -> (d0 * 8 + 4)>
// CHECK-LABEL: func.func @forall(
// CHECK-SAME: %[[X:[a-z0-9]+]]: index, %[[Y:[a-z0-9]+]]: index, %{{.*}}: index) attributes {bertc.grid = array<i64: 4, 8, 1>}
// CHECK-NOT: scf.forall
// CHECK-DAG: %[[I:.*]] = affine.apply #[[ROWS]](%[[X]])
// CHECK-DAG: %[[J:.*]] = affine.apply #[[COLS]](%[[Y]])
// CHECK: memref.subview %{{.*}}[%[[I]], %[[J]]] [16, 8] [1, 1]
func.func @forall(%a: memref<64x68xf32>, %x: index, %y: index, %z: index) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%i, %j) = (0, 4) to (64, 68) step (16, 8) {
    %v = memref.subview %a[%i, %j] [16, 8] [1, 1] : memref<64x68xf32> to memref<16x8xf32, strided<[68, 1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%v : memref<16x8xf32, strided<[68, 1], offset: ?>>)
  }
  return
}

// -----

// No loop: one workgroup.
// CHECK-LABEL: func.func @whole(
// CHECK-SAME: attributes {bertc.grid = array<i64: 1, 1, 1>}
func.func @whole(%a: memref<8xf32>, %x: index, %y: index, %z: index) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%a : memref<8xf32>)
  return
}

// -----

// A grid the tiling already chose (several roots) stays.
// CHECK-LABEL: func.func @chosen(
// CHECK-SAME: attributes {bertc.grid = array<i64: 5, 1, 1>}
func.func @chosen(%a: memref<8xf32>, %x: index, %y: index, %z: index) attributes {bertc.grid = array<i64: 5, 1, 1>} {
  return
}
