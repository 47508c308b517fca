// Workgroup kernels bufferized: tensors become views of the bindings, the
// one intermediate (here the negation feeding the sum) a stack buffer at the
// kernel's entry, in the memory space of bertc.scratch_space.
// RUN: bertc-opt --split-input-file --bertc-bufferize-kernels %s | FileCheck %s

// CHECK-LABEL: func.func @scratch(
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<16xf32>, %[[OUT:[a-z0-9]+]]: memref<16xf32>
// CHECK-NEXT: %[[TMP:.*]] = memref.alloca() {{.*}}: memref<16xf32>
// CHECK-NOT: memref.alloc(
// CHECK: linalg.negf ins(%[[A]] : memref<16xf32>) outs(%[[TMP]] : memref<16xf32>)
// CHECK: linalg.add ins(%[[TMP]], %[[A]] : {{.*}}) outs(%[[OUT]] : memref<16xf32>)
// The result, already in place, is copied onto itself: the pipelines' CSE
// and canonicalization remove that copy.
// CHECK-NEXT: linalg.copy ins(%[[OUT]] : memref<16xf32>) outs(%[[OUT]] : memref<16xf32>)
// CHECK-NOT: bufferization.
func.func @scratch(%a: memref<16xf32>, %out: memref<16xf32>, %x: index, %y: index, %z: index) {
  %ta = bufferization.to_tensor %a restrict : memref<16xf32>
  %e = tensor.empty() : tensor<16xf32>
  %n = linalg.negf ins(%ta : tensor<16xf32>) outs(%e : tensor<16xf32>) -> tensor<16xf32>
  %e2 = tensor.empty() : tensor<16xf32>
  %s = linalg.add ins(%n, %ta : tensor<16xf32>, tensor<16xf32>) outs(%e2 : tensor<16xf32>) -> tensor<16xf32>
  bufferization.materialize_in_destination %s in restrict writable %out : (tensor<16xf32>, memref<16xf32>) -> ()
  return
}

// -----

// CHECK-LABEL: func.func @workgroup_memory(
// CHECK-NEXT: memref.alloca() {{.*}}: memref<16xf32, 3>
func.func @workgroup_memory(%a: memref<16xf32>, %out: memref<16xf32>, %x: index, %y: index, %z: index) attributes {bertc.scratch_space = 3 : i64} {
  %ta = bufferization.to_tensor %a restrict : memref<16xf32>
  %e = tensor.empty() : tensor<16xf32>
  %n = linalg.negf ins(%ta : tensor<16xf32>) outs(%e : tensor<16xf32>) -> tensor<16xf32>
  %e2 = tensor.empty() : tensor<16xf32>
  %s = linalg.add ins(%n, %ta : tensor<16xf32>, tensor<16xf32>) outs(%e2 : tensor<16xf32>) -> tensor<16xf32>
  bufferization.materialize_in_destination %s in restrict writable %out : (tensor<16xf32>, memref<16xf32>) -> ()
  return
}
