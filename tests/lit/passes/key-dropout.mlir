// RUN: bertc-opt %s --bertc-key-dropout --split-input-file --verify-diagnostics | FileCheck %s

// A training graph's dropouts get the runtime's key and sites 1, 2, ...
// CHECK-LABEL: func.func @train
func.func @train() attributes {bertc.loss = "loss"} {
  // CHECK-DAG: %[[SEED:.*]] = graph.input "seed" : tensor<i32>
  // CHECK-DAG: %[[STEP:.*]] = graph.input "step" : tensor<i32>
  // CHECK-DAG: %[[SCALE:.*]] = graph.input "dropout" : tensor<f32>
  %x = graph.input "x" : tensor<4x8xf32>
  // CHECK: graph.dropout %{{.*}} rate 1.000000e-01 site 1 key(%[[SEED]], %[[STEP]], %[[SCALE]])
  %a = graph.dropout %x rate 1.000000e-01 : tensor<4x8xf32>
  // CHECK: graph.dropout %{{.*}} rate 5.000000e-01 site 2 key(%[[SEED]], %[[STEP]], %[[SCALE]])
  %b = graph.dropout %a rate 5.000000e-01 : tensor<4x8xf32>
  %s = graph.sum %b axes [] : tensor<4x8xf32> -> tensor<f32>
  graph.output "loss" %s : tensor<f32>
  return
}

// -----

// Inference graphs (no objective) keep identity dropouts and get no inputs.
// CHECK-LABEL: func.func @infer
func.func @infer() {
  // CHECK-NOT: graph.input "seed"
  %x = graph.input "x" : tensor<4x8xf32>
  // CHECK: graph.dropout %{{.*}} rate 1.000000e-01 : tensor<4x8xf32>
  %a = graph.dropout %x rate 1.000000e-01 : tensor<4x8xf32>
  graph.output "y" %a : tensor<4x8xf32>
  return
}

// -----

// The model's own input of that name must have the key's type.
func.func @clash() attributes {bertc.loss = "loss"} {
  // expected-error @+1 {{input 'step' must have type 'tensor<i32>' for training}}
  %t = graph.input "step" : tensor<f32>
  %a = graph.dropout %t rate 1.000000e-01 : tensor<f32>
  graph.output "loss" %a : tensor<f32>
  return
}
