// The graph-level pipelines: the training step appended to a forward graph,
// then linalg and dispatch regions.
// RUN: bertc-opt %s --bertc-training-graph | FileCheck %s
// RUN: bertc-opt %s '--bertc-training-graph=optimizer=false' | FileCheck %s --check-prefix=GRADS
// RUN: bertc-opt %s '--bertc-training-graph=gradients=false' | FileCheck %s --check-prefix=FORWARD
// RUN: bertc-opt %s --bertc-training-graph --bertc-dispatch | FileCheck %s --check-prefix=DISPATCH
// RUN: bertc-opt %s --bertc-training-graph '--bertc-dispatch=fusion=false' | FileCheck %s --check-prefix=UNFUSED
// bertc-dispatch is its two halves one after the other.
// RUN: bertc-opt %s --bertc-training-graph --bertc-graph-to-linalg | FileCheck %s --check-prefix=LINALG
// RUN: bertc-opt %s --bertc-training-graph --bertc-graph-to-linalg --bertc-dispatch-regions | FileCheck %s --check-prefix=DISPATCH

// CHECK-LABEL: func.func @step
// CHECK: graph.input "seed"
// CHECK: graph.output "grad:w"
// CHECK: graph.adamw
// CHECK: graph.assign
// GRADS: graph.output "grad:w"
// GRADS-NOT: graph.adamw
// FORWARD-NOT: graph.input "seed"
// FORWARD-NOT: grad:w
// Fused: seven dispatches (the forward matmul with its tanh, dropout and
// sum among them; the weight gradient's squares summed by rows, then to a
// scalar), no graph compute op left outside; unfused: one per linalg op,
// sixteen.
// DISPATCH-COUNT-7: graph.dispatch
// DISPATCH-NOT: graph.dispatch
// DISPATCH-NOT: graph.tanh
// DISPATCH-NOT: graph.matmul
// LINALG: linalg.matmul
// LINALG-NOT: graph.dispatch
// LINALG-NOT: graph.matmul
// UNFUSED-COUNT-16: graph.dispatch
// UNFUSED-NOT: graph.dispatch
func.func @step() attributes {bertc.loss = "loss"} {
  %x = graph.input "x" : tensor<4x8xf32>
  %w = graph.parameter "w" normal std = 2.000000e-02 : tensor<8x3xf32>
  %y = graph.matmul %x, %w : tensor<4x8xf32>, tensor<8x3xf32> -> tensor<4x3xf32>
  %t = graph.tanh %y : tensor<4x3xf32>
  %d = graph.dropout %t rate 1.000000e-01 : tensor<4x3xf32>
  %s = graph.sum %d axes [] : tensor<4x3xf32> -> tensor<f32>
  graph.output "loss" %s : tensor<f32>
  return
}
