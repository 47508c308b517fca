// Losses (passes/lowering/Losses.cpp) to linalg on tensors.
// RUN: bertc-opt %s --bertc-convert-graph-to-linalg --split-input-file | FileCheck %s

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

// -----

// A cross-entropy with its gradient: the labelled rows counted, then
// graph.cross_entropy_rows over the rows (the back end lowers it in its
// kernel), then the mean of the row losses.
// CHECK-LABEL: func.func @cross_entropy_with_grad
func.func @cross_entropy_with_grad(%logits: tensor<2x6x7xf32>, %labels: tensor<2x6xi32>, %g: tensor<f32>)
    -> (tensor<f32>, tensor<2x6x7xf32>) {
  // CHECK: %[[X:.*]] = tensor.collapse_shape %arg0 {{.*}} into tensor<84xf32>
  // CHECK: %[[X2:.*]] = tensor.expand_shape %[[X]] {{.*}} into tensor<12x7xf32>
  // CHECK: %[[L:.*]] = tensor.collapse_shape %arg1 {{.*}} into tensor<12xi32>
  // CHECK: %[[COUNT:.*]] = linalg.generic {{.*}}iterator_types = ["reduction"]
  // CHECK: %[[LOSSES:.*]], %[[DX:.*]] = graph.cross_entropy_rows %[[X2]], %[[L]], %[[COUNT]], %arg2 : tensor<12x7xf32>, tensor<12xi32>, tensor<f32>, tensor<f32>
  // CHECK: %[[TOTAL:.*]] = linalg.generic {{.*}}iterator_types = ["reduction"]} ins(%[[LOSSES]] : tensor<12xf32>)
  // CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} ins(%[[TOTAL]], %[[COUNT]] : tensor<f32>, tensor<f32>)
  // CHECK: %[[D:.*]] = tensor.collapse_shape %[[DX]]
  // CHECK: %[[D3:.*]] = tensor.expand_shape %[[D]] {{.*}} into tensor<2x6x7xf32>
  // CHECK: return %[[MEAN]], %[[D3]]
  %l, %d = graph.cross_entropy_with_grad %logits, %labels, %g : tensor<2x6x7xf32>, tensor<2x6xi32>, tensor<f32>
  return %l, %d : tensor<f32>, tensor<2x6x7xf32>
}

// -----

// cross_entropy_grad: row max, sum of exponentials, the count of labelled
// rows, then (softmax - onehot) * grad / count on labelled rows, zero on
// ignored ones.
// CHECK-LABEL: func.func @cross_entropy_grad
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: iterator_types = ["reduction"]{{.*}} outs(%{{.*}} : tensor<f32>)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]{{.*}} outs(%{{.*}} : tensor<4x7xf32>)
// CHECK: arith.cmpi ne, %{{.*}}, %c0_i32
func.func @cross_entropy_grad(%logits: tensor<4x7xf32>, %labels: tensor<4xi32>, %g: tensor<f32>) -> tensor<4x7xf32> {
  %e = graph.cross_entropy_grad %logits, %labels, %g {ignore_index = 0 : i64} : tensor<4x7xf32>, tensor<4xi32>, tensor<f32>
  return %e : tensor<4x7xf32>
}
