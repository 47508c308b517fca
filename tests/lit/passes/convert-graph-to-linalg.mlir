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

// A weight shared by all batches: one 2-D matmul over the collapsed rows;
// transpose_b becomes an explicit linalg.transpose.
// CHECK-LABEL: func.func @dense
func.func @dense(%x: tensor<2x3x4xf32>, %w: tensor<5x4xf32>) -> tensor<2x3x5xf32> {
  // CHECK: linalg.transpose ins(%{{.*}} : tensor<5x4xf32>) outs(%{{.*}} : tensor<4x5xf32>) permutation = [1, 0]
  // Reshapes go through a flat view; the canonicalizer merges the pair.
  // CHECK: tensor.collapse_shape %{{.*}} : tensor<2x3x4xf32> into tensor<24xf32>
  // CHECK: tensor.expand_shape %{{.*}} : tensor<24xf32> into tensor<6x4xf32>
  // CHECK: linalg.fill
  // CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x4xf32>, tensor<4x5xf32>) outs(%{{.*}} : tensor<6x5xf32>)
  // CHECK: tensor.expand_shape %{{.*}} : tensor<30xf32> into tensor<2x3x5xf32>
  %0 = graph.matmul %x, %w {transpose_b = true} : tensor<2x3x4xf32>, tensor<5x4xf32> -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// CHECK-LABEL: func.func @batched
func.func @batched(%q: tensor<2x3x8x4xf32>, %k: tensor<2x3x8x4xf32>) -> tensor<2x3x8x8xf32> {
  // CHECK: linalg.transpose
  // CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<6x8x4xf32>, tensor<6x4x8xf32>) outs(%{{.*}} : tensor<6x8x8xf32>)
  %0 = graph.matmul %q, %k {transpose_b = true} : tensor<2x3x8x4xf32>, tensor<2x3x8x4xf32> -> tensor<2x3x8x8xf32>
  return %0 : tensor<2x3x8x8xf32>
}

// -----

// Softmax: max, exp(x - max), sum, divide.
// CHECK-LABEL: func.func @softmax
func.func @softmax(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // CHECK: arith.constant 0xFF800000 : f32
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
  // CHECK: arith.maximumf
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
  // CHECK: arith.subf
  // CHECK: math.exp
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
  // CHECK: arith.addf
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
  // CHECK: arith.divf
  %0 = graph.softmax %x axis 1 : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @layer_norm
func.func @layer_norm(%x: tensor<2x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  // CHECK-COUNT-2: iterator_types = ["parallel", "reduction"]
  // CHECK: math.sqrt
  // CHECK: arith.divf
  %0 = graph.layer_norm %x, %g, %b eps 1.0e-12 : tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Embedding rows and gathers read with tensor.extract at clamped indices.
// CHECK-LABEL: func.func @embedding
func.func @embedding(%t: tensor<10x4xf32>, %ids: tensor<2x3xi32>) -> tensor<2x3x4xf32> {
  // CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x3xi32>)
  // CHECK: arith.index_cast
  // CHECK: arith.maxsi
  // CHECK: arith.minsi
  // CHECK: linalg.index 2
  // CHECK: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<10x4xf32>
  %0 = graph.embedding %t[%ids] : tensor<10x4xf32>, tensor<2x3xi32> -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// Reshapes are views; slices copy; dropout is the identity.
// CHECK-LABEL: func.func @layout
func.func @layout(%x: tensor<2x3x4xf32>) -> (tensor<6x4xf32>, tensor<2x4xf32>, tensor<2x3x4xf32>) {
  // CHECK: tensor.collapse_shape
  // CHECK: tensor.expand_shape
  %0 = graph.reshape %x to [6, 4] : tensor<2x3x4xf32> -> tensor<6x4xf32>
  // CHECK: tensor.extract_slice %{{.*}}[0, 0, 0] [2, 1, 4] [1, 1, 1] : tensor<2x3x4xf32> to tensor<2x4xf32>
  // CHECK: linalg.copy
  %1 = graph.select %x axis 1 [0] : tensor<2x3x4xf32> -> tensor<2x4xf32>
  // CHECK-NOT: graph.dropout
  %2 = graph.dropout %x rate 1.000000e-01 : tensor<2x3x4xf32>
  return %0, %1, %2 : tensor<6x4xf32>, tensor<2x4xf32>, tensor<2x3x4xf32>
}

// -----

// Cross-entropy: max, sum of exponentials, then one reduction gives both the
// loss sum and the count of labelled rows, and a last op divides.
// CHECK-LABEL: func.func @cross_entropy
func.func @cross_entropy(%l: tensor<6x5xf32>, %y: tensor<6xi32>) -> tensor<f32> {
  // CHECK: arith.maximumf
  // CHECK: math.exp
  // CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]} ins({{.*}} : tensor<6xf32>, tensor<6xf32>, tensor<6xi32>) outs({{.*}} : tensor<f32>, tensor<f32>)
  // CHECK: arith.cmpi ne, %{{.*}}, %c-100_i32
  // CHECK: math.log
  // CHECK: arith.select
  // CHECK: arith.divf
  %0 = graph.cross_entropy %l, %y : tensor<6x5xf32>, tensor<6xi32> -> tensor<f32>
  return %0 : tensor<f32>
}
