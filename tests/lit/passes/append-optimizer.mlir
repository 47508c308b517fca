// RUN: bertc-opt %s --bertc-append-optimizer --split-input-file --verify-diagnostics | FileCheck %s
// RUN: bertc-opt %s --bertc-append-optimizer="bias-correction=false max-norm=0" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=BERT

// One sum of squares over every gradient (by rows first for a matrix); per parameter two zero moments,
// one AdamW update and the in-place assignments. Biases and LayerNorm
// weights are not decayed.
// CHECK-LABEL: func.func @step
func.func @step() attributes {bertc.loss = "loss"} {
  // CHECK-DAG: %[[STEP:.*]] = graph.input "step" : tensor<i32>
  // CHECK-DAG: %[[LR:.*]] = graph.input "learning_rate" : tensor<f32>
  %w = graph.parameter "dense.weight" normal std = 2.000000e-02 : tensor<4x8xf32>
  %b = graph.parameter "dense.bias" zeros : tensor<8xf32>
  %l = graph.parameter "LayerNorm.weight" ones : tensor<8xf32>
  %gw = graph.input "gw" : tensor<4x8xf32>
  %gb = graph.input "gb" : tensor<8xf32>
  %loss = graph.input "loss" : tensor<f32>
  graph.output "loss" %loss : tensor<f32>
  graph.output "grad:dense.weight" %gw : tensor<4x8xf32>
  graph.output "grad:dense.bias" %gb : tensor<8xf32>
  // A matrix's squares are summed by rows first; all row sums come before
  // the sums to scalars.
  // CHECK: %[[SQW:.*]] = graph.mul %[[GW:.*]], %[[GW]]
  // CHECK: %[[RW:.*]] = graph.sum %[[SQW]] axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  // CHECK: %[[SQB:.*]] = graph.mul %[[GB:.*]], %[[GB]]
  // CHECK: %[[SW:.*]] = graph.sum %[[RW]] axes [0] : tensor<4xf32> -> tensor<f32>
  // CHECK: %[[SB:.*]] = graph.sum %[[SQB]] axes [0] : tensor<8xf32> -> tensor<f32>
  // CHECK: %[[SS:.*]] = graph.add %[[SW]], %[[SB]]
  // CHECK: %[[M:.*]] = graph.state "optimizer.adam_m.dense.weight" : tensor<4x8xf32>
  // CHECK: %[[V:.*]] = graph.state "optimizer.adam_v.dense.weight" : tensor<4x8xf32>
  // CHECK: %[[P2:.*]], %[[M2:.*]], %[[V2:.*]] = graph.adamw %{{.*}}, %[[GW]], %[[M]], %[[V]] norm %[[SS]] lr %[[LR]] step %[[STEP]]
  // CHECK-SAME: bias_correction = true
  // CHECK-SAME: max_norm = 1.000000e+00
  // CHECK-SAME: weight_decay = 1.000000e-02
  // CHECK: graph.assign %{{.*}}, %[[P2]]
  // CHECK: graph.assign %[[M]], %[[M2]]
  // CHECK: graph.assign %[[V]], %[[V2]]
  // CHECK: graph.state "optimizer.adam_m.dense.bias"
  // CHECK: graph.adamw
  // CHECK-SAME: weight_decay = 0.000000e+00
  // A parameter without a gradient is not updated.
  // CHECK-NOT: LayerNorm
  // BERT: bias_correction = false
  // BERT-SAME: max_norm = 0.000000e+00
  return
}

// -----

func.func @nothing() attributes {bertc.loss = "loss"} {
  %loss = graph.input "loss" : tensor<f32>
  graph.output "loss" %loss : tensor<f32>
  // expected-error @-3 {{nothing to optimise: no parameter has a gradient (run bertc-differentiate first)}}
  return
}
