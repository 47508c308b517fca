// Kernels over tensors become kernels over their buffer bindings: inputs,
// then outputs, then the workgroup's position; attributes stay.
// RUN: bertc-opt --bertc-to-destination-passing %s | FileCheck %s

// CHECK-LABEL: func.func @kernel_0(
// CHECK-SAME: %[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<4x8xf32>, %[[OUT:.*]]: memref<4x8xf32>, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index)
// CHECK-SAME: attributes {bertc.kept}
// CHECK-NOT: -> tensor
// CHECK-DAG: %[[TA:.*]] = bufferization.to_tensor %[[A]] restrict
// CHECK-DAG: %[[TB:.*]] = bufferization.to_tensor %[[B]] restrict
// CHECK: %[[SUM:.*]] = linalg.add ins(%[[TA]], %[[TB]] :
// CHECK: bufferization.materialize_in_destination %[[SUM]] in restrict writable %[[OUT]]
// CHECK-NEXT: return{{$}}
func.func @kernel_0(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {bertc.kept} {
  %e = tensor.empty() : tensor<4x8xf32>
  %s = linalg.add ins(%a, %b : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// Two results: two output bindings, in order.
// CHECK-LABEL: func.func @kernel_1(
// CHECK-SAME: %{{.*}}: memref<8xf32>, %[[O0:.*]]: memref<8xf32>, %[[O1:.*]]: memref<8xf32>, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index)
// CHECK: materialize_in_destination %{{.*}} in restrict writable %[[O0]]
// CHECK: materialize_in_destination %{{.*}} in restrict writable %[[O1]]
func.func @kernel_1(%a: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %e = tensor.empty() : tensor<8xf32>
  %n = linalg.negf ins(%a : tensor<8xf32>) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  return %n, %a : tensor<8xf32>, tensor<8xf32>
}
