// RUN: bertc-opt %s --bertc-form-attention --split-input-file | FileCheck %s

// BERT's self-attention: scaled scores, additive mask, softmax, dropout,
// times the values: one graph.attention with the dropout's rate, site and key.
// CHECK-LABEL: func.func @bert_attention
func.func @bert_attention(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>,
                          %v: tensor<2x4x16x8xf32>, %bias: tensor<2x1x1x16xf32>,
                          %seed: tensor<i32>, %step: tensor<i32>, %scale: tensor<f32>)
    -> tensor<2x4x16x8xf32> {
  // CHECK-NEXT: %[[O:.*]] = graph.attention %arg0, %arg1, %arg2, %arg3 scale 3.535500e-01 rate 1.000000e-01 site 3 key(%arg4, %arg5, %arg6)
  // CHECK-SAME: -> tensor<2x4x16x8xf32>
  // CHECK-NEXT: return %[[O]]
  %s = graph.matmul %q, %k {transpose_b = true} : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32> -> tensor<2x4x16x16xf32>
  %t = graph.scale %s by 3.535500e-01 : tensor<2x4x16x16xf32>
  %u = graph.add %t, %bias : tensor<2x4x16x16xf32>, tensor<2x1x1x16xf32> -> tensor<2x4x16x16xf32>
  %p = graph.softmax %u axis 3 : tensor<2x4x16x16xf32>
  %d = graph.dropout %p rate 1.000000e-01 site 3 key(%seed, %step, %scale) : tensor<2x4x16x16xf32>, tensor<i32>, tensor<i32>, tensor<f32>
  %o = graph.matmul %d, %v : tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32> -> tensor<2x4x16x8xf32>
  return %o : tensor<2x4x16x8xf32>
}

// -----

// Without scale or dropout, the bias on the left, values of another width.
// CHECK-LABEL: func.func @plain
func.func @plain(%q: tensor<3x5x8xf32>, %k: tensor<3x7x8xf32>, %v: tensor<3x7x2xf32>,
                 %bias: tensor<5x7xf32>) -> tensor<3x5x2xf32> {
  // CHECK-NEXT: graph.attention %arg0, %arg1, %arg2, %arg3 scale 1.000000e+00 rate 0.000000e+00 :
  // CHECK-SAME: -> tensor<3x5x2xf32>
  // CHECK-NEXT: return
  %s = graph.matmul %q, %k {transpose_b = true} : tensor<3x5x8xf32>, tensor<3x7x8xf32> -> tensor<3x5x7xf32>
  %u = graph.add %bias, %s : tensor<5x7xf32>, tensor<3x5x7xf32> -> tensor<3x5x7xf32>
  %p = graph.softmax %u axis 2 : tensor<3x5x7xf32>
  %o = graph.matmul %p, %v : tensor<3x5x7xf32>, tensor<3x7x2xf32> -> tensor<3x5x2xf32>
  return %o : tensor<3x5x2xf32>
}

// -----

// The probabilities are used elsewhere too: they must exist, nothing forms.
// CHECK-LABEL: func.func @probs_escape
func.func @probs_escape(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %v: tensor<2x4x8xf32>,
                        %bias: tensor<2x1x4xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x4xf32>) {
  // CHECK-NOT: graph.attention
  // CHECK: graph.softmax
  %s = graph.matmul %q, %k {transpose_b = true} : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x4xf32>
  %u = graph.add %s, %bias : tensor<2x4x4xf32>, tensor<2x1x4xf32> -> tensor<2x4x4xf32>
  %p = graph.softmax %u axis 2 : tensor<2x4x4xf32>
  %o = graph.matmul %p, %v : tensor<2x4x4xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %o, %p : tensor<2x4x8xf32>, tensor<2x4x4xf32>
}

// -----

// A softmax over another axis, or a bias that widens the scores, is not
// attention.
// CHECK-LABEL: func.func @not_attention
func.func @not_attention(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %v: tensor<2x4x8xf32>,
                         %bias: tensor<3x1x4x4xf32>) -> (tensor<2x4x8xf32>, tensor<3x2x4x8xf32>) {
  // CHECK-NOT: graph.attention
  %s = graph.matmul %q, %k {transpose_b = true} : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x4xf32>
  %p = graph.softmax %s axis 1 : tensor<2x4x4xf32>
  %o = graph.matmul %p, %v : tensor<2x4x4xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  %s2 = graph.matmul %q, %k {transpose_b = true} : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x4xf32>
  %u2 = graph.add %s2, %bias : tensor<2x4x4xf32>, tensor<3x1x4x4xf32> -> tensor<3x2x4x4xf32>
  %p2 = graph.softmax %u2 axis 3 : tensor<3x2x4x4xf32>
  %v2 = graph.broadcast %v to [3, 2, 4, 8] : tensor<2x4x8xf32> -> tensor<3x2x4x8xf32>
  %o2 = graph.matmul %p2, %v2 : tensor<3x2x4x4xf32>, tensor<3x2x4x8xf32> -> tensor<3x2x4x8xf32>
  return %o, %o2 : tensor<2x4x8xf32>, tensor<3x2x4x8xf32>
}
