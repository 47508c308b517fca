// Every graph op prints and parses back to itself.
// RUN: bertc-opt %s | bertc-opt | FileCheck %s
// RUN: bertc-opt %s --mlir-print-op-generic | bertc-opt | FileCheck %s

// CHECK-LABEL: func.func @all_ops
func.func @all_ops() {
  // CHECK: %[[X:.*]] = graph.input "x" : tensor<2x3x4xf32>
  %x = graph.input "x" : tensor<2x3x4xf32>
  // CHECK: %[[IDS:.*]] = graph.input "ids" : tensor<2x3xi32>
  %ids = graph.input "ids" : tensor<2x3xi32>
  %pos = graph.input "pos" : tensor<2x2xi32>
  // CHECK: %[[W:.*]] = graph.parameter "w" normal std = 2.000000e-02 : tensor<5x4xf32>
  %w = graph.parameter "w" normal std = 2.000000e-02 : tensor<5x4xf32>
  // CHECK: graph.parameter "g" ones : tensor<4xf32>
  %g = graph.parameter "g" ones : tensor<4xf32>
  // CHECK: graph.parameter "b" zeros : tensor<4xf32>
  %b = graph.parameter "b" zeros : tensor<4xf32>
  // CHECK: graph.constant 1.000000e+00 : tensor<f32>
  %c = graph.constant 1.000000e+00 : tensor<f32>
  // CHECK: graph.matmul %[[X]], %[[W]] {transpose_b = true} : tensor<2x3x4xf32>, tensor<5x4xf32> -> tensor<2x3x5xf32>
  %mm = graph.matmul %x, %w {transpose_b = true} : tensor<2x3x4xf32>, tensor<5x4xf32> -> tensor<2x3x5xf32>
  // CHECK: graph.matmul %[[X]], %[[X]] {transpose_a = true} : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x4x4xf32>
  %bmm = graph.matmul %x, %x {transpose_a = true} : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x4x4xf32>
  // CHECK: graph.add %[[X]], %{{.*}} : tensor<2x3x4xf32>, tensor<f32> -> tensor<2x3x4xf32>
  %add = graph.add %x, %c : tensor<2x3x4xf32>, tensor<f32> -> tensor<2x3x4xf32>
  // CHECK: graph.sub
  %sub = graph.sub %x, %g : tensor<2x3x4xf32>, tensor<4xf32> -> tensor<2x3x4xf32>
  // CHECK: graph.mul
  %mul = graph.mul %x, %x : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  // CHECK: graph.div
  %div = graph.div %c, %x : tensor<f32>, tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  // CHECK: graph.scale %[[X]] by 1.250000e-01 : tensor<2x3x4xf32>
  %scale = graph.scale %x by 1.250000e-01 : tensor<2x3x4xf32>
  // CHECK: graph.gelu %[[X]] : tensor<2x3x4xf32>
  %gelu = graph.gelu %x : tensor<2x3x4xf32>
  // CHECK: graph.gelu %[[X]] {approximate = "tanh"} : tensor<2x3x4xf32>
  %gelu_tanh = graph.gelu %x {approximate = "tanh"} : tensor<2x3x4xf32>
  // CHECK: graph.tanh
  %tanh = graph.tanh %x : tensor<2x3x4xf32>
  // CHECK: graph.dropout %[[X]] rate 1.000000e-01 : tensor<2x3x4xf32>
  %drop = graph.dropout %x rate 1.000000e-01 : tensor<2x3x4xf32>
  // CHECK: graph.softmax %[[X]] axis 2 : tensor<2x3x4xf32>
  %sm = graph.softmax %x axis 2 : tensor<2x3x4xf32>
  // CHECK: graph.layer_norm %[[X]], %{{.*}}, %{{.*}} eps 9.9999999999999998E-13 : tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>
  %ln = graph.layer_norm %x, %g, %b eps 1.0e-12 : tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>
  // CHECK: graph.embedding %[[W]][%[[IDS]]] : tensor<5x4xf32>, tensor<2x3xi32> -> tensor<2x3x4xf32>
  %emb = graph.embedding %w[%ids] : tensor<5x4xf32>, tensor<2x3xi32> -> tensor<2x3x4xf32>
  // CHECK: graph.reshape %[[X]] to [6, -1] : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %rs = graph.reshape %x to [6, -1] : tensor<2x3x4xf32> -> tensor<6x4xf32>
  // CHECK: graph.transpose %[[X]] perm [0, 2, 1] : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  %tr = graph.transpose %x perm [0, 2, 1] : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  // CHECK: graph.slice %[[X]] axis 1[1 : 3] : tensor<2x3x4xf32> -> tensor<2x2x4xf32>
  %sl = graph.slice %x axis 1 [1 : 3] : tensor<2x3x4xf32> -> tensor<2x2x4xf32>
  // CHECK: graph.select %[[X]] axis 1[0] : tensor<2x3x4xf32> -> tensor<2x4xf32>
  %sel = graph.select %x axis 1 [0] : tensor<2x3x4xf32> -> tensor<2x4xf32>
  // CHECK: graph.gather %[[X]][%{{.*}}] axis 1 : tensor<2x3x4xf32>, tensor<2x2xi32> -> tensor<2x2x4xf32>
  %ga = graph.gather %x[%pos] axis 1 : tensor<2x3x4xf32>, tensor<2x2xi32> -> tensor<2x2x4xf32>
  // CHECK: graph.sum %[[X]] axes [1] : tensor<2x3x4xf32> -> tensor<2x4xf32>
  %sum = graph.sum %x axes [1] : tensor<2x3x4xf32> -> tensor<2x4xf32>
  // CHECK: graph.argmax %[[X]] axis 2 : tensor<2x3x4xf32> -> tensor<2x3xi32>
  %am = graph.argmax %x axis 2 : tensor<2x3x4xf32> -> tensor<2x3xi32>
  // CHECK: graph.mean %[[X]] axes [] : tensor<2x3x4xf32> -> tensor<f32>
  %mean = graph.mean %x axes [] : tensor<2x3x4xf32> -> tensor<f32>
  // CHECK: graph.cross_entropy %[[X]], %[[IDS]] : tensor<2x3x4xf32>, tensor<2x3xi32> -> tensor<f32>
  %ce = graph.cross_entropy %x, %ids : tensor<2x3x4xf32>, tensor<2x3xi32> -> tensor<f32>
  // CHECK: graph.cross_entropy %[[X]], %[[IDS]] {ignore_index = 0 : i64}
  %ce0 = graph.cross_entropy %x, %ids {ignore_index = 0} : tensor<2x3x4xf32>, tensor<2x3xi32> -> tensor<f32>
  // CHECK: graph.output "loss" %{{.*}} : tensor<f32>
  graph.output "loss" %ce : tensor<f32>
  return
}

// f64 is supported throughout (finite-difference checks use it).
// CHECK-LABEL: func.func @double
func.func @double() {
  // CHECK: graph.matmul {{.*}} : tensor<3x3xf64>, tensor<3x3xf64> -> tensor<3x3xf64>
  %a = graph.parameter "a" normal std = 1.0 : tensor<3x3xf64>
  %m = graph.matmul %a, %a : tensor<3x3xf64>, tensor<3x3xf64> -> tensor<3x3xf64>
  graph.output "m" %m : tensor<3x3xf64>
  return
}

// Training: keyed dropout, optimizer state, AdamW and in-place assignment.
// CHECK-LABEL: func.func @training
func.func @training() {
  %x = graph.input "x" : tensor<4x8xf32>
  %seed = graph.input "seed" : tensor<i32>
  %step = graph.input "step" : tensor<i32>
  %scale = graph.input "dropout" : tensor<f32>
  %lr = graph.input "learning_rate" : tensor<f32>
  // CHECK: graph.dropout %{{.*}} rate 1.000000e-01 site 3 key(%{{.*}}, %{{.*}}, %{{.*}}) : tensor<4x8xf32>, tensor<i32>, tensor<i32>, tensor<f32>
  %d = graph.dropout %x rate 1.000000e-01 site 3 key(%seed, %step, %scale) : tensor<4x8xf32>, tensor<i32>, tensor<i32>, tensor<f32>
  %q = graph.input "q" : tensor<2x3x4x8xf32>
  %bias = graph.input "bias" : tensor<2x1x1x4xf32>
  // CHECK: graph.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} scale 2.500000e-01 rate 1.000000e-01 site 4 key(%{{.*}}, %{{.*}}, %{{.*}}) : tensor<2x3x4x8xf32>, tensor<2x3x4x8xf32>, tensor<2x3x4x8xf32>, tensor<2x1x1x4xf32>, tensor<i32>, tensor<i32>, tensor<f32> -> tensor<2x3x4x8xf32>
  %att = graph.attention %q, %q, %q, %bias scale 2.500000e-01 rate 1.000000e-01 site 4 key(%seed, %step, %scale) : tensor<2x3x4x8xf32>, tensor<2x3x4x8xf32>, tensor<2x3x4x8xf32>, tensor<2x1x1x4xf32>, tensor<i32>, tensor<i32>, tensor<f32> -> tensor<2x3x4x8xf32>
  %labels = graph.input "labels" : tensor<4xi32>
  // CHECK: %{{.*}}, %{{.*}} = graph.cross_entropy_with_grad %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<4xi32>, tensor<f32>
  %cel, %ced = graph.cross_entropy_with_grad %x, %labels, %scale : tensor<4x8xf32>, tensor<4xi32>, tensor<f32>
  // CHECK: %{{.*}}, %{{.*}} = graph.cross_entropy_rows %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<4xi32>, tensor<f32>, tensor<f32>
  %rows:2 = graph.cross_entropy_rows %x, %labels, %scale, %scale : tensor<4x8xf32>, tensor<4xi32>, tensor<f32>, tensor<f32>
  // CHECK: graph.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} scale 2.500000e-01 rate 0.000000e+00 : tensor<2x3x4x8xf32>, tensor<2x3x4x8xf32>, tensor<2x3x4x8xf32>, tensor<2x1x1x4xf32> -> tensor<2x3x4x8xf32>
  %att2 = graph.attention %q, %q, %q, %bias scale 2.500000e-01 rate 0.0 : tensor<2x3x4x8xf32>, tensor<2x3x4x8xf32>, tensor<2x3x4x8xf32>, tensor<2x1x1x4xf32> -> tensor<2x3x4x8xf32>
  %w = graph.parameter "w" normal std = 2.000000e-02 : tensor<4x8xf32>
  // CHECK: %[[M:.*]] = graph.state "optimizer.adam_m.w" : tensor<4x8xf32>
  %m = graph.state "optimizer.adam_m.w" : tensor<4x8xf32>
  %v = graph.state "optimizer.adam_v.w" : tensor<4x8xf32>
  %ss = graph.constant 4.0 : tensor<f32>
  // CHECK: %[[P:.*]], %[[M2:.*]], %{{.*}} = graph.adamw %{{.*}}, %{{.*}}, %[[M]], %{{.*}} norm %{{.*}} lr %{{.*}} step %{{.*}} {beta1 = 9.000000e-01 : f64, {{.*}}bias_correction = true{{.*}}} : tensor<4x8xf32>, tensor<f32>, tensor<i32>
  %p2, %m2, %v2 = graph.adamw %w, %d, %m, %v norm %ss lr %lr step %step {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-6 : f64, weight_decay = 0.01 : f64, max_norm = 1.0 : f64, bias_correction = true} : tensor<4x8xf32>, tensor<f32>, tensor<i32>
  // CHECK: graph.assign %{{.*}}, %[[P]] : tensor<4x8xf32>
  graph.assign %w, %p2 : tensor<4x8xf32>
  // CHECK: graph.assign %[[M]], %[[M2]] : tensor<4x8xf32>
  graph.assign %m, %m2 : tensor<4x8xf32>
  graph.assign %v, %v2 : tensor<4x8xf32>
  return
}
