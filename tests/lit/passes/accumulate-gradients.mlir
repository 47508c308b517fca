// RUN: bertc-opt %s --bertc-accumulate-gradients --split-input-file | FileCheck %s

// Each gradient output becomes the sum of this micro-batch's gradient and
// the buffer's (kept by the input `accumulate`), assigned to the buffer.
// CHECK-LABEL: func.func @train
func.func @train() attributes {bertc.loss = "loss"} {
  // CHECK: %[[KEEP:.*]] = graph.input "accumulate" : tensor<f32>
  %w = graph.parameter "w" normal std = 1.0 : tensor<4x8xf32>
  %g = graph.scale %w by 2.000000e+00 : tensor<4x8xf32>
  // CHECK: %[[ACC:.*]] = graph.state "gradient.w" {bertc.gradient_buffer} : tensor<4x8xf32>
  // CHECK: %[[KEPT:.*]] = graph.mul %[[ACC]], %[[KEEP]] : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  // CHECK: %[[SUM:.*]] = graph.add %{{.*}}, %[[KEPT]] : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  // CHECK: graph.assign %[[ACC]], %[[SUM]] : tensor<4x8xf32>
  // CHECK: graph.output "grad:w" %[[SUM]] : tensor<4x8xf32>
  graph.output "grad:w" %g : tensor<4x8xf32>
  %s = graph.sum %w axes [0, 1] : tensor<4x8xf32> -> tensor<f32>
  // CHECK: graph.output "loss" %{{.*}} : tensor<f32>
  graph.output "loss" %s : tensor<f32>
  return
}

// -----

// Without an objective nothing changes.
// CHECK-LABEL: func.func @infer
func.func @infer() {
  // CHECK-NOT: accumulate
  %x = graph.input "x" : tensor<4xf32>
  graph.output "y" %x : tensor<4xf32>
  return
}
