// RUN: bertc-opt %s --bertc-step-loss-counts --split-input-file --verify-diagnostics | FileCheck %s

// Each cross-entropy over input labels divides by the labelled rows of the
// whole step, an input the runtime fills; both losses over the same labels
// share it; a cross-entropy over computed labels counts its own.
// CHECK-LABEL: func.func @train
func.func @train() attributes {bertc.loss = "loss"} {
  %x = graph.input "x" : tensor<4x3xf32>
  %y = graph.input "label" : tensor<4xi32>
  // CHECK: %[[ROWS:.*]] = graph.input "labelled_rows:label" {bertc.labelled_rows = {classes = 3 : i64, ignore_index = -100 : i64, labels = "label"}} : tensor<f32>
  // CHECK: graph.cross_entropy %{{.*}}, %{{.*}} count %[[ROWS]] : tensor<4x3xf32>, tensor<4xi32>, tensor<f32> -> tensor<f32>
  %a = graph.cross_entropy %x, %y : tensor<4x3xf32>, tensor<4xi32> -> tensor<f32>
  // CHECK: graph.cross_entropy %{{.*}}, %{{.*}} count %[[ROWS]] : tensor<4x3xf32>, tensor<4xi32>, tensor<f32> -> tensor<f32>
  %b = graph.cross_entropy %x, %y : tensor<4x3xf32>, tensor<4xi32> -> tensor<f32>
  %p = graph.argmax %x axis 1 : tensor<4x3xf32> -> tensor<4xi32>
  // CHECK: graph.cross_entropy %{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<4xi32> -> tensor<f32>
  %c = graph.cross_entropy %x, %p : tensor<4x3xf32>, tensor<4xi32> -> tensor<f32>
  %ab = graph.add %a, %b : tensor<f32>, tensor<f32> -> tensor<f32>
  %l = graph.add %ab, %c : tensor<f32>, tensor<f32> -> tensor<f32>
  graph.output "loss" %l : tensor<f32>
  return
}

// -----

// Without an objective nothing changes.
// CHECK-LABEL: func.func @infer
func.func @infer() {
  // CHECK-NOT: labelled_rows
  %x = graph.input "x" : tensor<4x3xf32>
  %y = graph.input "label" : tensor<4xi32>
  %a = graph.cross_entropy %x, %y : tensor<4x3xf32>, tensor<4xi32> -> tensor<f32>
  graph.output "loss" %a : tensor<f32>
  return
}

// -----

// Two cross-entropies that count the same labels differently.
func.func @conflict() attributes {bertc.loss = "loss"} {
  %x = graph.input "x" : tensor<4x3xf32>
  %y = graph.input "label" : tensor<4xi32>
  %a = graph.cross_entropy %x, %y : tensor<4x3xf32>, tensor<4xi32> -> tensor<f32>
  // expected-error @+1 {{two cross-entropies count the labels 'label' differently}}
  %b = graph.cross_entropy %x, %y {ignore_index = 0 : i64} : tensor<4x3xf32>, tensor<4xi32> -> tensor<f32>
  %l = graph.add %a, %b : tensor<f32>, tensor<f32> -> tensor<f32>
  graph.output "loss" %l : tensor<f32>
  return
}
