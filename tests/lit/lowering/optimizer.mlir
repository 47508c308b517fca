// The optimizer (passes/lowering/Optimizer.cpp) to linalg on tensors.
// RUN: bertc-opt %s --bertc-convert-graph-to-linalg --split-input-file | FileCheck %s

// AdamW: a rank-0 generic computes the clipping coefficient and the inverse
// bias corrections once; one elementwise generic with three results updates
// the parameter and both moments.
// CHECK-LABEL: func.func @adamw
func.func @adamw(%p: tensor<4x8xf32>, %g: tensor<4x8xf32>, %m: tensor<4x8xf32>, %v: tensor<4x8xf32>, %ss: tensor<f32>, %lr: tensor<f32>, %t: tensor<i32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  // CHECK: %[[F:.*]]:3 = linalg.generic {{.*}} iterator_types = []} ins(%{{.*}}, %{{.*}} : tensor<f32>, tensor<i32>)
  // CHECK: math.sqrt
  // CHECK: arith.minimumf
  // CHECK: math.powf
  // CHECK: math.powf
  // CHECK: %[[U:.*]]:3 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[F]]#0, %[[F]]#1, %[[F]]#2, %{{.*}} : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>)
  // CHECK: math.sqrt
  // CHECK: arith.divf
  // CHECK: linalg.yield %{{.*}}, %{{.*}}, %{{.*}} : f32, f32, f32
  // CHECK: return %[[U]]#0, %[[U]]#1, %[[U]]#2
  %p2, %m2, %v2 = graph.adamw %p, %g, %m, %v norm %ss lr %lr step %t {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-6 : f64, weight_decay = 0.01 : f64, max_norm = 1.0 : f64, bias_correction = true} : tensor<4x8xf32>, tensor<f32>, tensor<i32>
  return %p2, %m2, %v2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}
