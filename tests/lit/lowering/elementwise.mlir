// Elementwise ops (passes/lowering/Elementwise.cpp) to linalg on tensors.
// RUN: bertc-opt %s --bertc-convert-graph-to-linalg --split-input-file | FileCheck %s

// Broadcasting: the smaller operand's map drops its missing axes; a scalar
// constant is folded into the body.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @broadcast_add
func.func @broadcast_add(%x: tensor<2x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  // CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
  // CHECK: arith.addf
  %0 = graph.add %x, %b : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  // CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]]]
  // CHECK: %[[C:.*]] = arith.constant 2.000000e+00 : f32
  // CHECK: arith.mulf %{{.*}}, %[[C]]
  %c = graph.constant 2.0 : tensor<f32>
  %1 = graph.mul %0, %c : tensor<2x4xf32>, tensor<f32> -> tensor<2x4xf32>
  // CHECK-NOT: graph.constant
  return %1 : tensor<2x4xf32>
}

// -----

// Keyed dropout: a Philox4x32-10 draw per element from its row-major
// position, the step and the site (counter) and the seed (key); 24 bits give
// u in [0, 1); elements with u < rate * scale are zeroed.
// CHECK-LABEL: func.func @dropout
func.func @dropout(%x: tensor<3x5xf32>, %seed: tensor<i32>, %step: tensor<i32>, %scale: tensor<f32>) -> tensor<3x5xf32> {
  // CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x5xf32>, tensor<i32>, tensor<i32>, tensor<f32>)
  // CHECK: ^bb0(%[[X:[a-z0-9_]+]]: f32, %[[SEED:[a-z0-9_]+]]: i32, %[[STEP:[a-z0-9_]+]]: i32, %[[SCALE:[a-z0-9_]+]]: f32
  // CHECK: %[[I0:.*]] = linalg.index 0
  // CHECK: %[[I1:.*]] = linalg.index 1
  // CHECK: %[[ROW:.*]] = arith.muli %[[I0]], %c5
  // CHECK: arith.addi %[[ROW]], %[[I1]]
  // CHECK: arith.index_castui %{{.*}} : index to i64
  // Ten rounds of two 32x32->64-bit products (the Philox multipliers).
  // CHECK-COUNT-10: arith.muli %{{.*}}, %c3528531795_i64{{.*}} : i64
  // CHECK: arith.shrui %{{.*}}, %c8_i32 : i32
  // CHECK: arith.uitofp
  // CHECK: arith.mulf %{{.*}}, %[[SCALE]]
  // CHECK: arith.cmpf oge
  // CHECK: arith.select
  %y = graph.dropout %x rate 1.000000e-01 site 7 key(%seed, %step, %scale) : tensor<3x5xf32>, tensor<i32>, tensor<i32>, tensor<f32>
  return %y : tensor<3x5xf32>
}

// -----

// sub and div: numpy broadcasting as for add.
// CHECK-LABEL: func.func @sub_div
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<2x3x4xf32>, tensor<4xf32>)
// CHECK: arith.subf
// CHECK: linalg.generic
// CHECK: arith.divf
func.func @sub_div(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>) -> tensor<2x3x4xf32> {
  %s = graph.sub %x, %g : tensor<2x3x4xf32>, tensor<4xf32> -> tensor<2x3x4xf32>
  %d = graph.div %s, %x : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  return %d : tensor<2x3x4xf32>
}

// -----

// scale multiplies by its constant; tanh is math.tanh.
// CHECK-LABEL: func.func @scale_tanh
// CHECK: %[[C:.*]] = arith.constant 1.250000e-01 : f32
// CHECK: arith.mulf %{{.*}}, %[[C]]
// CHECK: math.tanh
func.func @scale_tanh(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %s = graph.scale %x by 1.250000e-01 : tensor<2x4xf32>
  %t = graph.tanh %s : tensor<2x4xf32>
  return %t : tensor<2x4xf32>
}

// -----

// GELU exactly (erf), with the tanh approximation, and its gradient
// (Phi(x) + x phi(x)) times the incoming gradient.
// CHECK-LABEL: func.func @gelu
// CHECK: arith.constant 0.707106769 : f32
// CHECK: math.erf
// CHECK: linalg.generic
// CHECK: arith.constant 4.471500e-02 : f32
// CHECK: math.tanh
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<2x4xf32>)
// CHECK: math.erf
// CHECK: math.exp
// CHECK: arith.constant 0.398942292 : f32
func.func @gelu(%x: tensor<2x4xf32>, %g: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %e = graph.gelu %x : tensor<2x4xf32>
  %t = graph.gelu %x {approximate = "tanh"} : tensor<2x4xf32>
  %d = graph.gelu_grad %x, %g : tensor<2x4xf32>
  return %e, %t, %d : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// broadcast reads its operand through a map without the new axes.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @broadcast
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]]{{.*}} outs(%{{.*}} : tensor<3x2x4xf32>)
func.func @broadcast(%v: tensor<2x4xf32>) -> tensor<3x2x4xf32> {
  %b = graph.broadcast %v to [3, 2, 4] : tensor<2x4xf32> -> tensor<3x2x4xf32>
  return %b : tensor<3x2x4xf32>
}

// -----

// Conversions: f32 to bf16 rounds (arith.truncf), bf16 to f32 widens.
// CHECK-LABEL: func.func @convert
func.func @convert(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: arith.truncf %{{.*}} : f32 to bf16
  // CHECK: arith.extf %{{.*}} : bf16 to f32
  %h = graph.convert %x : tensor<4xf32> -> tensor<4xbf16>
  %f = graph.convert %h : tensor<4xbf16> -> tensor<4xf32>
  return %f : tensor<4xf32>
}
