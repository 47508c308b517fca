// RUN: bertc-opt %s --bertc-fuse-cross-entropy --split-input-file | FileCheck %s

// A loss's cross-entropy and its gradient (the loss's own gradient a
// constant, as differentiation leaves it): one op at the forward's place.
// CHECK-LABEL: func.func @constant_gradient
func.func @constant_gradient(%logits: tensor<4x7xf32>, %labels: tensor<4xi32>) -> (tensor<f32>, tensor<4x7xf32>) {
  // CHECK-NEXT: %[[G:.*]] = graph.constant 1.000000e+00 : tensor<f32>
  // CHECK-NEXT: %[[L:.*]], %[[D:.*]] = graph.cross_entropy_with_grad %arg0, %arg1, %[[G]] {ignore_index = -1 : i64} : tensor<4x7xf32>, tensor<4xi32>, tensor<f32>
  // CHECK-NEXT: %[[T:.*]] = graph.scale %[[L]]
  // CHECK-NEXT: return %[[T]], %[[D]]
  %l = graph.cross_entropy %logits, %labels {ignore_index = -1 : i64} : tensor<4x7xf32>, tensor<4xi32> -> tensor<f32>
  %t = graph.scale %l by 2.000000e+00 : tensor<f32>
  %g = graph.constant 1.000000e+00 : tensor<f32>
  %d = graph.cross_entropy_grad %logits, %labels, %g {ignore_index = -1 : i64} : tensor<4x7xf32>, tensor<4xi32>, tensor<f32>
  return %t, %d : tensor<f32>, tensor<4x7xf32>
}

// -----

// A gradient computed from the loss itself (a squared loss) is not known
// where the loss is: the two ops stay.
// CHECK-LABEL: func.func @gradient_from_loss
func.func @gradient_from_loss(%logits: tensor<4x7xf32>, %labels: tensor<4xi32>) -> tensor<4x7xf32> {
  // CHECK-NOT: cross_entropy_with_grad
  // CHECK: graph.cross_entropy %
  // CHECK: graph.cross_entropy_grad
  %l = graph.cross_entropy %logits, %labels : tensor<4x7xf32>, tensor<4xi32> -> tensor<f32>
  %g = graph.scale %l by 2.000000e+00 : tensor<f32>
  %d = graph.cross_entropy_grad %logits, %labels, %g : tensor<4x7xf32>, tensor<4xi32>, tensor<f32>
  return %d : tensor<4x7xf32>
}

// -----

// Other labels, or another ignore_index: not the same loss.
// CHECK-LABEL: func.func @different_loss
func.func @different_loss(%logits: tensor<4x7xf32>, %labels: tensor<4xi32>, %other: tensor<4xi32>,
                          %g: tensor<f32>) -> (tensor<f32>, tensor<4x7xf32>, tensor<4x7xf32>) {
  // CHECK-NOT: cross_entropy_with_grad
  %l = graph.cross_entropy %logits, %labels : tensor<4x7xf32>, tensor<4xi32> -> tensor<f32>
  %d = graph.cross_entropy_grad %logits, %other, %g : tensor<4x7xf32>, tensor<4xi32>, tensor<f32>
  %e = graph.cross_entropy_grad %logits, %labels, %g {ignore_index = 0 : i64} : tensor<4x7xf32>, tensor<4xi32>, tensor<f32>
  return %l, %d, %e : tensor<f32>, tensor<4x7xf32>, tensor<4x7xf32>
}

// -----

// A count (the whole step's labelled rows) carries over to the fused op; a
// gradient with another count is not the forward's.
// CHECK-LABEL: func.func @counted
func.func @counted(%logits: tensor<4x7xf32>, %labels: tensor<4xi32>, %rows: tensor<f32>, %other: tensor<f32>) -> (tensor<f32>, tensor<4x7xf32>, tensor<4x7xf32>) {
  // CHECK: %[[L:.*]], %[[D:.*]] = graph.cross_entropy_with_grad %arg0, %arg1, %{{.*}} count %arg2 : tensor<4x7xf32>, tensor<4xi32>, tensor<f32>, tensor<f32>
  // CHECK: graph.cross_entropy_grad %arg0, %arg1, %{{.*}} count %arg3
  %l = graph.cross_entropy %logits, %labels count %rows : tensor<4x7xf32>, tensor<4xi32>, tensor<f32> -> tensor<f32>
  %g = graph.constant 1.000000e+00 : tensor<f32>
  %d = graph.cross_entropy_grad %logits, %labels, %g count %rows : tensor<4x7xf32>, tensor<4xi32>, tensor<f32>, tensor<f32>
  %e = graph.cross_entropy_grad %logits, %labels, %g count %other : tensor<4x7xf32>, tensor<4xi32>, tensor<f32>, tensor<f32>
  return %l, %d, %e : tensor<f32>, tensor<4x7xf32>, tensor<4x7xf32>
}
