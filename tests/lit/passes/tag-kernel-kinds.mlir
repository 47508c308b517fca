// RUN: bertc-opt %s --bertc-tag-kernel-kinds --mlir-print-debuginfo | FileCheck %s
// RUN: bertc-opt %s --bertc-tag-kernel-kinds --bertc-differentiate --mlir-print-debuginfo \
// RUN:   | FileCheck %s --check-prefix=GRAD

// Ops with a kind of work get it around their location; others keep theirs.
// CHECK-LABEL: func.func @f
// CHECK: graph.matmul {{.*}} loc(#[[MM:.*]])
// CHECK: graph.gelu {{.*}} loc(#[[GELU:.*]])
// CHECK: graph.layer_norm {{.*}} loc(#[[LN:.*]])
// CHECK: graph.softmax {{.*}} loc(#[[SM:.*]])
// CHECK-DAG: #[[MMFILE:.*]] = loc("m.bertc":3:7)
// CHECK-DAG: #[[MM]] = loc("kind:matmul"(#[[MMFILE]]))
// CHECK-DAG: #[[GELU]] = loc("m.bertc":4:7)
// CHECK-DAG: #[[LN]] = loc("kind:layernorm"(
// CHECK-DAG: #[[SM]] = loc("kind:softmax"(

// The gradient's ops reuse the forward op's location, so they carry its
// kind: the layer_norm's gradient is layernorm work, the matmul's is
// matmul work.
// GRAD-LABEL: func.func @f
// GRAD: graph.layer_norm_grad {{.*}} loc(#[[LN:.*]])
// GRAD: graph.matmul {{.*}} loc(#[[MM:.*]])
// GRAD-DAG: #[[MM]] = loc("kind:matmul"(
// GRAD-DAG: #[[LN]] = loc("kind:layernorm"(
func.func @f() attributes {bertc.loss = "loss"} {
  %x = graph.input "x" : tensor<4x8xf32>
  %w = graph.parameter "w" normal std = 2.000000e-02 : tensor<8x8xf32>
  %g = graph.parameter "g" ones : tensor<8xf32>
  %b = graph.parameter "b" zeros : tensor<8xf32>
  %y = graph.matmul %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32> loc("m.bertc":3:7)
  %a = graph.gelu %y : tensor<4x8xf32> loc("m.bertc":4:7)
  %n = graph.layer_norm %a, %g, %b eps 1.000000e-12 : tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32> loc("m.bertc":5:7)
  %p = graph.softmax %n axis 1 : tensor<4x8xf32> loc("m.bertc":6:7)
  %s = graph.sum %p axes [] : tensor<4x8xf32> -> tensor<f32>
  graph.output "loss" %s : tensor<f32>
  return
}
