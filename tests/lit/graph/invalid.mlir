// Each op's verifier rejects bad ranks, shapes and element types.
// RUN: bertc-opt %s --split-input-file --verify-diagnostics

func.func @matmul_inner(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+2 {{matmul: inner sizes differ: a is f32[2, 3] with K = 3, b is f32[4, 5] with K = 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x3x4xf32>, %b: tensor<3x4x5xf32>) {
  // expected-error @+2 {{matmul: batch axes differ}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.matmul %a, %b : tensor<2x3x4xf32>, tensor<3x4x5xf32> -> tensor<2x3x5xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<4xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+2 {{matmul: operands need rank >= 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.matmul %a, %b : tensor<4xf32>, tensor<4x5xf32> -> tensor<5xf32>
  return
}

// -----

func.func @wrong_result(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>) {
  // expected-error @+2 {{'graph.matmul' op inferred type(s) 'tensor<2x5xf32>' are incompatible with return type(s) of operation 'tensor<2x6xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.matmul %a, %b : tensor<2x3xf32>, tensor<3x5xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+2 {{add: shapes f32[2, 3] and f32[2, 4] cannot be broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.add %a, %b : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @element_types(%a: tensor<2xf32>, %b: tensor<2xf64>) {
  // expected-error @+2 {{mul: element types differ: f32[2] and f64[2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.mul %a, %b : tensor<2xf32>, tensor<2xf64> -> tensor<2xf32>
  return
}

// -----

func.func @int_operand(%a: tensor<2xi32>) {
  // expected-error @+1 {{operand #0 must be tensor of 32-bit float or 64-bit float values}}
  %0 = graph.tanh %a : tensor<2xi32>
  return
}

// -----

func.func @dynamic(%a: tensor<?x4xf32>) {
  // expected-error @+1 {{tanh: operand must be a tensor of static shape, got f32[?, 4]}}
  %0 = graph.tanh %a : tensor<?x4xf32>
  return
}

// -----

func.func @softmax_axis(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{softmax: axis 2 is out of range for f32[2, 3] (rank 2)}}
  %0 = graph.softmax %a axis 2 : tensor<2x3xf32>
  return
}

// -----

func.func @layer_norm_weight(%x: tensor<2x8xf32>, %w: tensor<4xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{layer_norm: weight is f32[4], expected [8] to match the last axis of f32[2, 8]}}
  %0 = graph.layer_norm %x, %w, %b eps 1.0e-12 : tensor<2x8xf32>, tensor<4xf32>, tensor<8xf32>
  return
}

// -----

func.func @layer_norm_eps(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{layer_norm: eps must be > 0}}
  %0 = graph.layer_norm %x, %w, %w eps 0.0 : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>
  return
}

// -----

func.func @embedding_table(%t: tensor<10xf32>, %ids: tensor<2xi32>) {
  // expected-error @+2 {{embedding: table must have rank 2, got f32[10]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.embedding %t[%ids] : tensor<10xf32>, tensor<2xi32> -> tensor<2xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{reshape: f32[2, 3] has 6 elements but f32[4, 2] has 8}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.reshape %x to [4, 2] : tensor<2x3xf32> -> tensor<4x2xf32>
  return
}

// -----

func.func @reshape_two_unknowns(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{reshape: only one size may be -1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.reshape %x to [-1, -1] : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @transpose_perm(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{transpose: [0, 0] is not a permutation of the axes of f32[2, 3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.transpose %x perm [0, 0] : tensor<2x3xf32> -> tensor<2x2xf32>
  return
}

// -----

func.func @slice_range(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{slice: range 2..5 is empty or outside 0..3 on axis 1 of f32[2, 3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.slice %x axis 1 [2 : 5] : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @select_index(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{select: index 3 is out of range 0..3 on axis 1 of f32[2, 3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.select %x axis 1 [3] : tensor<2x3xf32> -> tensor<2xf32>
  return
}

// -----

func.func @gather_batch(%x: tensor<2x8x4xf32>, %i: tensor<3x5xi32>) {
  // expected-error @+2 {{gather: indices i32[3, 5] must be [leading axes of x, P] with the 1 leading axes of x f32[2, 8, 4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.gather %x[%i] axis 1 : tensor<2x8x4xf32>, tensor<3x5xi32> -> tensor<2x5x4xf32>
  return
}

// -----

func.func @reduce_twice(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{sum: axis 1 is listed twice}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.sum %x axes [1, 1] : tensor<2x3xf32> -> tensor<2xf32>
  return
}

// -----

func.func @cross_entropy_labels(%l: tensor<2x3x4xf32>, %y: tensor<2x4xi32>) {
  // expected-error @+2 {{cross_entropy: labels i32[2, 4] must have the shape of logits f32[2, 3, 4] without its last (class) axis}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.cross_entropy %l, %y : tensor<2x3x4xf32>, tensor<2x4xi32> -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_rows_rank(%l: tensor<2x3x4xf32>, %y: tensor<2x3xi32>, %c: tensor<f32>) {
  // expected-error @+1 {{cross_entropy_rows: logits f32[2, 3, 4] must be rows of classes (rank 2)}}
  %0:2 = graph.cross_entropy_rows %l, %y, %c, %c : tensor<2x3x4xf32>, tensor<2x3xi32>, tensor<f32>, tensor<f32>
  return
}

// -----

func.func @dropout_rate(%x: tensor<2xf32>) {
  // expected-error @+1 {{'graph.dropout' op rate must be in [0, 1), got 1}}
  %0 = graph.dropout %x rate 1.0 : tensor<2xf32>
  return
}

// -----

func.func @gelu_kind(%x: tensor<2xf32>) {
  // expected-error @+1 {{'graph.gelu' op approximate must be "none" or "tanh", got "sigmoid"}}
  %0 = graph.gelu %x {approximate = "sigmoid"} : tensor<2xf32>
  return
}

// -----

func.func @parameter_std() {
  // expected-error @+1 {{'graph.parameter' op normal initializer of 'w' needs std > 0, got 0}}
  %0 = graph.parameter "w" normal : tensor<2xf32>
  return
}

// -----

func.func @parameter_dtype() {
  // expected-error @+1 {{result #0 must be tensor of 32-bit float or 64-bit float values}}
  %0 = graph.parameter "w" zeros : tensor<2xi32>
  return
}

// -----

func.func @dropout_key(%x: tensor<2xf32>, %s: tensor<i32>) {
  // expected-error @+1 {{'graph.dropout' op key must be (seed, step, scale): tensor<i32>, tensor<i32> and a rank-0 float tensor}}
  %0 = graph.dropout %x rate 0.1 key(%s, %s) : tensor<2xf32>, tensor<i32>, tensor<i32>
  return
}

// -----

func.func @assign_target(%x: tensor<2xf32>) {
  // expected-error @+1 {{'graph.assign' op target must be a graph.parameter, graph.state or graph.parameter_copy}}
  graph.assign %x, %x : tensor<2xf32>
  return
}

// -----

func.func @convert_shape(%x: tensor<2xf32>) {
  // expected-error @+1 {{'graph.convert' op shapes differ: 'tensor<2xf32>' and 'tensor<3xbf16>'}}
  %0 = graph.convert %x : tensor<2xf32> -> tensor<3xbf16>
  return
}

// -----

func.func @parameter_copy_of_input(%x: tensor<2xf32>) {
  // expected-error @+1 {{'graph.parameter_copy' op operand must be a graph.parameter}}
  %0 = graph.parameter_copy %x : tensor<2xf32> -> tensor<2xbf16>
  return
}

// -----

func.func @matmul_bf16_result(%a: tensor<2x3xbf16>, %b: tensor<3x4xbf16>) {
  // expected-error @+1 {{'graph.matmul' op result #0 must be tensor of 32-bit float or 64-bit float values, but got 'tensor<2x4xbf16>'}}
  %0 = graph.matmul %a, %b : tensor<2x3xbf16>, tensor<3x4xbf16> -> tensor<2x4xbf16>
  return
}

// -----

func.func @adamw_types(%p: tensor<2xf32>, %g: tensor<3xf32>, %s: tensor<f32>, %t: tensor<i32>) {
  // expected-error @+1 {{'graph.adamw' op failed to verify that all of {param, grad, m, v, new_param, new_m, new_v} have same type}}
  %a, %b, %c = "graph.adamw"(%p, %g, %p, %p, %s, %s, %t) {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-6 : f64, weight_decay = 0.01 : f64, max_norm = 1.0 : f64, bias_correction = true} : (tensor<2xf32>, tensor<3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<f32>, tensor<f32>, tensor<i32>) -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
  return
}

// -----

func.func @attention_shapes(%q: tensor<2x4x8xf32>, %k: tensor<2x5x6xf32>) {
  // expected-error @+2 {{attention: shapes do not match: q f32[2, 4, 8], k f32[2, 5, 6], v f32[2, 5, 6] (want [..., M, D], [..., N, D], [..., N, E])}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.attention %q, %k, %k, %q scale 1.0 rate 0.0 : tensor<2x4x8xf32>, tensor<2x5x6xf32>, tensor<2x5x6xf32>, tensor<2x4x8xf32> -> tensor<2x4x6xf32>
  return
}

// -----

func.func @attention_bias(%q: tensor<2x4x8xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+2 {{attention: bias f32[3, 4] does not broadcast to the scores f32[2, 4, 4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = graph.attention %q, %q, %q, %b scale 1.0 rate 0.0 : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<3x4xf32> -> tensor<2x4x8xf32>
  return
}

// -----

func.func @attention_rate(%q: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'graph.attention' op rate must be in [0, 1), got 1.5}}
  %0 = graph.attention %q, %q, %q, %q scale 1.0 rate 1.5 : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return
}
