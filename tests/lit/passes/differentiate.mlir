// RUN: bertc-opt %s --bertc-differentiate --split-input-file --verify-diagnostics | FileCheck %s

// Elementwise ops with broadcasting: the bias gradient is summed over the
// broadcast axis; the seed is 1 and the mean spreads it as 1/count.
// CHECK-LABEL: func.func @bias
func.func @bias() attributes {bertc.loss = "loss"} {
  %x = graph.input "x" : tensor<4x3xf32>
  %b = graph.parameter "b" zeros : tensor<3xf32>
  %y = graph.add %x, %b : tensor<4x3xf32>, tensor<3xf32> -> tensor<4x3xf32>
  %t = graph.tanh %y : tensor<4x3xf32>
  %m = graph.mean %t axes [] : tensor<4x3xf32> -> tensor<f32>
  graph.output "loss" %m : tensor<f32>
  // CHECK: %[[SEED:.*]] = graph.constant 1.000000e+00 : tensor<f32>
  // CHECK: %[[R:.*]] = graph.reshape %[[SEED]] to [1, 1]
  // CHECK: %[[B:.*]] = graph.broadcast %[[R]] to [4, 3]
  // CHECK: %[[G:.*]] = graph.scale %[[B]] by 0.083333333333333329
  // tanh' = 1 - y^2
  // CHECK: graph.mul %[[T:.*]], %[[T]]
  // CHECK: graph.sub
  // CHECK: %[[GY:.*]] = graph.mul %[[G]]
  // CHECK: %[[GB:.*]] = graph.sum %[[GY]] axes [0] : tensor<4x3xf32> -> tensor<3xf32>
  // The input gets no gradient: nothing computed for it survives.
  // CHECK-NOT: graph.matmul
  // CHECK: graph.output "grad:b" %[[GB]] : tensor<3xf32>
  return
}

// -----

// Matmul with a transposed, shared weight over a batch: dW = g^T x over all
// rows; a value used twice accumulates both gradients.
// CHECK-LABEL: func.func @dense
func.func @dense() attributes {bertc.loss = "loss"} {
  %x = graph.input "x" : tensor<2x3x4xf32>
  %w = graph.parameter "w" normal std = 1.0 : tensor<5x4xf32>
  %h = graph.matmul %x, %w {transpose_b = true} : tensor<2x3x4xf32>, tensor<5x4xf32> -> tensor<2x3x5xf32>
  %hh = graph.mul %h, %h : tensor<2x3x5xf32>, tensor<2x3x5xf32> -> tensor<2x3x5xf32>
  %s = graph.sum %hh axes [] : tensor<2x3x5xf32> -> tensor<f32>
  graph.output "loss" %s : tensor<f32>
  // d(h*h) = g*h + g*h, accumulated.
  // CHECK: graph.output "loss"
  // CHECK: %[[A:.*]] = graph.mul %{{.*}}, %{{.*}} : tensor<2x3x5xf32>
  // CHECK: %[[B:.*]] = graph.mul %{{.*}}, %{{.*}} : tensor<2x3x5xf32>
  // CHECK: %[[ACC:.*]] = graph.add %[[A]], %[[B]]
  // CHECK: %[[X2:.*]] = graph.reshape %{{.*}} to [6, 4] : tensor<2x3x4xf32> -> tensor<6x4xf32>
  // CHECK: %[[G2:.*]] = graph.reshape %[[ACC]] to [6, 5] : tensor<2x3x5xf32> -> tensor<6x5xf32>
  // CHECK: %[[DW:.*]] = graph.matmul %[[G2]], %[[X2]] {transpose_a = true} : tensor<6x5xf32>, tensor<6x4xf32> -> tensor<5x4xf32>
  // CHECK: graph.output "grad:w" %[[DW]] : tensor<5x4xf32>
  return
}

// -----

// Softmax, gelu, reshape and transpose.
// CHECK-LABEL: func.func @shapes
func.func @shapes() attributes {bertc.loss = "loss"} {
  %p = graph.parameter "p" normal std = 1.0 : tensor<2x6xf32>
  %r = graph.reshape %p to [3, 4] : tensor<2x6xf32> -> tensor<3x4xf32>
  %t = graph.transpose %r perm [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  %g = graph.gelu %t : tensor<4x3xf32>
  %s = graph.softmax %g axis 1 : tensor<4x3xf32>
  %d = graph.div %s, %g : tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  %l = graph.sum %d axes [] : tensor<4x3xf32> -> tensor<f32>
  graph.output "loss" %l : tensor<f32>
  // softmax: y * (g - sum(g * y))
  // CHECK: graph.sum %{{.*}} axes [1] : tensor<4x3xf32> -> tensor<4xf32>
  // CHECK: graph.reshape %{{.*}} to [4, 1]
  // CHECK: graph.gelu_grad %{{.*}}, %{{.*}} : tensor<4x3xf32>
  // CHECK: graph.transpose %{{.*}} perm [1, 0] : tensor<4x3xf32> -> tensor<3x4xf32>
  // CHECK: %[[GP:.*]] = graph.reshape %{{.*}} to [2, 6] : tensor<3x4xf32> -> tensor<2x6xf32>
  // CHECK: graph.output "grad:p" %[[GP]]
  return
}

// -----

// An op with no vector-Jacobian product on the path to the loss is an error
// (gradient ops have none: bertc differentiates once).
func.func @not_differentiable() attributes {bertc.loss = "loss"} {
  %w = graph.parameter "w" normal std = 1.0 : tensor<4x8xf32>
  // expected-error @+1 {{'graph.gelu_grad' is not differentiable yet}}
  %g = graph.gelu_grad %w, %w : tensor<4x8xf32>
  %l = graph.sum %g axes [] : tensor<4x8xf32> -> tensor<f32>
  graph.output "loss" %l : tensor<f32>
  return
}

// -----

// Embedding rows are added back into a zero table.
// CHECK-LABEL: func.func @embedding
func.func @embedding() attributes {bertc.loss = "loss"} {
  %w = graph.parameter "w" normal std = 1.0 : tensor<10x8xf32>
  %ids = graph.input "ids" : tensor<4xi32>
  %e = graph.embedding %w[%ids] : tensor<10x8xf32>, tensor<4xi32> -> tensor<4x8xf32>
  %l = graph.sum %e axes [] : tensor<4x8xf32> -> tensor<f32>
  graph.output "loss" %l : tensor<f32>
  // CHECK: %[[DW:.*]] = graph.embedding_grad %{{.*}}, %{{.*}} rows 10 : tensor<4xi32>, tensor<4x8xf32> -> tensor<10x8xf32>
  // CHECK: graph.output "grad:w" %[[DW]]
  return
}

// -----

// Slice and select put their gradients back into zeros; gather adds its
// rows back at their indices.
// CHECK-LABEL: func.func @indexing
func.func @indexing() attributes {bertc.loss = "loss"} {
  %x = graph.parameter "x" normal std = 1.0 : tensor<2x7x4xf32>
  %pos = graph.input "pos" : tensor<2x3xi32>
  %s = graph.slice %x axis 1 [2 : 5] : tensor<2x7x4xf32> -> tensor<2x3x4xf32>
  %c = graph.select %x axis 1 [0] : tensor<2x7x4xf32> -> tensor<2x4xf32>
  %g = graph.gather %x[%pos] axis 1 : tensor<2x7x4xf32>, tensor<2x3xi32> -> tensor<2x3x4xf32>
  %a = graph.sum %s axes [] : tensor<2x3x4xf32> -> tensor<f32>
  %b = graph.sum %c axes [] : tensor<2x4xf32> -> tensor<f32>
  %d = graph.sum %g axes [] : tensor<2x3x4xf32> -> tensor<f32>
  %ab = graph.add %a, %b : tensor<f32>, tensor<f32> -> tensor<f32>
  %l = graph.add %ab, %d : tensor<f32>, tensor<f32> -> tensor<f32>
  graph.output "loss" %l : tensor<f32>
  // CHECK: graph.gather_grad %{{.*}}, %{{.*}} axis 1 of 7 : tensor<2x3xi32>, tensor<2x3x4xf32> -> tensor<2x7x4xf32>
  // CHECK: graph.reshape %{{.*}} to [2, 1, 4]
  // CHECK: graph.slice_grad %{{.*}} axis 1 at 0 of 7 : tensor<2x1x4xf32> -> tensor<2x7x4xf32>
  // CHECK: graph.slice_grad %{{.*}} axis 1 at 2 of 7 : tensor<2x3x4xf32> -> tensor<2x7x4xf32>
  // CHECK: graph.output "grad:x"
  return
}

// -----

// Layer norm: dx from graph.layer_norm_grad, dweight and dbias summed over
// rows; cross-entropy gives no gradient to its integer labels.
// CHECK-LABEL: func.func @norm_and_loss
func.func @norm_and_loss() attributes {bertc.loss = "loss"} {
  %x = graph.parameter "x" normal std = 1.0 : tensor<3x8xf32>
  %g = graph.parameter "g" ones : tensor<8xf32>
  %b = graph.parameter "b" zeros : tensor<8xf32>
  %y = graph.input "y" : tensor<3xi32>
  %n = graph.layer_norm %x, %g, %b eps 1.0e-12 : tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>
  %l = graph.cross_entropy %n, %y : tensor<3x8xf32>, tensor<3xi32> -> tensor<f32>
  graph.output "loss" %l : tensor<f32>
  // CHECK: %[[DN:.*]] = graph.cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x8xf32>, tensor<3xi32>, tensor<f32>
  // CHECK: %[[XHAT:.*]] = graph.layer_norm %{{.*}}, %{{.*}}, %{{.*}} eps
  // CHECK: %[[DX:.*]] = graph.layer_norm_grad %{{.*}}, %{{.*}}, %[[DN]] eps
  // CHECK: %[[GX:.*]] = graph.mul %[[DN]], %[[XHAT]]
  // CHECK: %[[DG:.*]] = graph.sum %[[GX]] axes [0] : tensor<3x8xf32> -> tensor<8xf32>
  // CHECK: %[[DB:.*]] = graph.sum %[[DN]] axes [0] : tensor<3x8xf32> -> tensor<8xf32>
  // CHECK: graph.output "grad:x" %[[DX]]
  // CHECK: graph.output "grad:g" %[[DG]]
  // CHECK: graph.output "grad:b" %[[DB]]
  return
}

// -----

// A cross-entropy divided by the step's labelled rows: its gradient divides
// by them too; the count (an input) gets no gradient.
// CHECK-LABEL: func.func @counted_loss
func.func @counted_loss() attributes {bertc.loss = "loss"} {
  %x = graph.parameter "x" normal std = 1.0 : tensor<3x8xf32>
  %y = graph.input "y" : tensor<3xi32>
  %rows = graph.input "labelled_rows:y" : tensor<f32>
  %l = graph.cross_entropy %x, %y count %rows : tensor<3x8xf32>, tensor<3xi32>, tensor<f32> -> tensor<f32>
  graph.output "loss" %l : tensor<f32>
  // CHECK: %[[ROWS:.*]] = graph.input "labelled_rows:y"
  // CHECK: %[[DX:.*]] = graph.cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}} count %[[ROWS]] : tensor<3x8xf32>, tensor<3xi32>, tensor<f32>, tensor<f32>
  // CHECK: graph.output "grad:x" %[[DX]]
  return
}

// -----

// No objective: nothing to do.
// CHECK-LABEL: func.func @inference
// CHECK-NOT: grad:
func.func @inference() {
  %w = graph.parameter "w" normal std = 1.0 : tensor<4xf32>
  graph.output "w" %w : tensor<4xf32>
  return
}

// -----

// A keyed dropout's gradient is the same dropout (site and key) of the
// incoming gradient: the same elements are dropped and the rest scaled alike.
// CHECK-LABEL: func.func @dropout
func.func @dropout() attributes {bertc.loss = "loss"} {
  %seed = graph.input "seed" : tensor<i32>
  %step = graph.input "step" : tensor<i32>
  %scale = graph.input "dropout" : tensor<f32>
  %w = graph.parameter "w" normal std = 1.0 : tensor<4xf32>
  // CHECK: graph.dropout %{{.*}} rate 2.500000e-01 site 4 key(%[[SEED:.*]], %[[STEP:.*]], %[[SCALE:.*]]) :
  %d = graph.dropout %w rate 2.500000e-01 site 4 key(%seed, %step, %scale) : tensor<4xf32>, tensor<i32>, tensor<i32>, tensor<f32>
  %s = graph.sum %d axes [] : tensor<4xf32> -> tensor<f32>
  graph.output "loss" %s : tensor<f32>
  // CHECK: %[[B:.*]] = graph.broadcast
  // CHECK: %[[G:.*]] = graph.dropout %[[B]] rate 2.500000e-01 site 4 key(%[[SEED]], %[[STEP]], %[[SCALE]])
  // CHECK: graph.output "grad:w" %[[G]]
  return
}

// -----

// Subtraction negates the right-hand gradient; division gives g / r to the
// left and -(g l) / r^2 to the right, each summed back over its broadcast
// axes.
// CHECK-LABEL: func.func @sub_div
func.func @sub_div() attributes {bertc.loss = "loss"} {
  %l = graph.parameter "l" normal std = 1.0 : tensor<4x3xf32>
  %r = graph.parameter "r" normal std = 1.0 : tensor<3xf32>
  %s = graph.parameter "s" normal std = 1.0 : tensor<4x1xf32>
  %q = graph.div %l, %r : tensor<4x3xf32>, tensor<3xf32> -> tensor<4x3xf32>
  %d = graph.sub %q, %s : tensor<4x3xf32>, tensor<4x1xf32> -> tensor<4x3xf32>
  %loss = graph.sum %d axes [] : tensor<4x3xf32> -> tensor<f32>
  graph.output "loss" %loss : tensor<f32>
  // CHECK: %[[G:.*]] = graph.broadcast %{{.*}} to [4, 3]
  // CHECK: %[[NEG:.*]] = graph.scale %[[G]] by -1.000000e+00
  // CHECK: %[[GS:.*]] = graph.sum %[[NEG]] axes [1] : tensor<4x3xf32> -> tensor<4xf32>
  // CHECK: %[[GS2:.*]] = graph.reshape %[[GS]] to [4, 1]
  // CHECK: %[[GL:.*]] = graph.div %[[G]], %[[R:.*]] : tensor<4x3xf32>, tensor<3xf32>
  // CHECK: %[[R2:.*]] = graph.mul %[[R]], %[[R]]
  // CHECK: %[[GXL:.*]] = graph.mul %[[G]], %[[L:.*]] : tensor<4x3xf32>, tensor<4x3xf32>
  // CHECK: %[[Q:.*]] = graph.div %[[GXL]], %[[R2]]
  // CHECK: %[[NQ:.*]] = graph.scale %[[Q]] by -1.000000e+00
  // CHECK: %[[GR:.*]] = graph.sum %[[NQ]] axes [0] : tensor<4x3xf32> -> tensor<3xf32>
  // CHECK-DAG: graph.output "grad:l" %[[GL]]
  // CHECK-DAG: graph.output "grad:r" %[[GR]]
  // CHECK-DAG: graph.output "grad:s" %[[GS2]]
  return
}

// -----

// Attention: the gradient recomputes the probabilities from q and k (the
// forward pass keeps none); the row sums of the softmax's backward come from
// the result (rowsum(g * O)), so the logits' gradient is elementwise on the
// product g V^T; the dropout reuses the forward's site and key.
// CHECK-LABEL: func.func @attention
func.func @attention() attributes {bertc.loss = "loss"} {
  %q = graph.parameter "q" normal std = 1.0 : tensor<2x4x8xf32>
  %k = graph.parameter "k" normal std = 1.0 : tensor<2x4x8xf32>
  %v = graph.parameter "v" normal std = 1.0 : tensor<2x4x6xf32>
  %bias = graph.input "bias" : tensor<2x1x4xf32>
  %seed = graph.input "seed" : tensor<i32>
  %step = graph.input "step" : tensor<i32>
  %scale = graph.input "dropout" : tensor<f32>
  %o = graph.attention %q, %k, %v, %bias scale 5.000000e-01 rate 1.000000e-01 site 7 key(%seed, %step, %scale) : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x6xf32>, tensor<2x1x4xf32>, tensor<i32>, tensor<i32>, tensor<f32> -> tensor<2x4x6xf32>
  %loss = graph.sum %o axes [] : tensor<2x4x6xf32> -> tensor<f32>
  graph.output "loss" %loss : tensor<f32>
  // CHECK: %[[O:.*]] = graph.attention
  // CHECK: %[[G:.*]] = graph.broadcast
  // CHECK: %[[S:.*]] = graph.matmul %{{.*}}, %{{.*}} {transpose_b = true} : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x4xf32>
  // CHECK: %[[T:.*]] = graph.scale %[[S]] by 5.000000e-01
  // CHECK: %[[U:.*]] = graph.add %[[T]], %{{.*}} : tensor<2x4x4xf32>, tensor<2x1x4xf32>
  // CHECK: %[[P:.*]] = graph.softmax %[[U]] axis 2
  // CHECK: %[[D:.*]] = graph.dropout %[[P]] rate 1.000000e-01 site 7 key
  // CHECK: %[[GV:.*]] = graph.matmul %[[D]], %[[G]] {transpose_a = true} : tensor<2x4x4xf32>, tensor<2x4x6xf32> -> tensor<2x4x6xf32>
  // CHECK: %[[GD:.*]] = graph.matmul %[[G]], %{{.*}} {transpose_b = true} : tensor<2x4x6xf32>, tensor<2x4x6xf32> -> tensor<2x4x4xf32>
  // CHECK: %[[GP:.*]] = graph.dropout %[[GD]] rate 1.000000e-01 site 7 key
  // CHECK: %[[GO:.*]] = graph.mul %[[G]], %[[O]]
  // CHECK: %[[R:.*]] = graph.sum %[[GO]] axes [2]
  // CHECK: %[[R1:.*]] = graph.reshape %[[R]] to [2, 4, 1]
  // CHECK: %[[C:.*]] = graph.sub %[[GP]], %[[R1]]
  // CHECK: %[[GU:.*]] = graph.mul %[[P]], %[[C]]
  // CHECK: %[[GS:.*]] = graph.scale %[[GU]] by 5.000000e-01
  // CHECK: %[[GQ:.*]] = graph.matmul %[[GS]], %{{.*}} : tensor<2x4x4xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  // CHECK: %[[GK:.*]] = graph.matmul %[[GS]], %{{.*}} {transpose_a = true}
  // CHECK-DAG: graph.output "grad:q" %[[GQ]]
  // CHECK-DAG: graph.output "grad:k" %[[GK]]
  // CHECK-DAG: graph.output "grad:v" %[[GV]]
  return
}
