// Matmuls (passes/lowering/Matmul.cpp) to linalg on tensors.
// RUN: bertc-opt %s --bertc-convert-graph-to-linalg --split-input-file | FileCheck %s

// A weight shared by all batches: one 2-D matmul over the collapsed rows,
// reading the weight transposed in place.
// CHECK-LABEL: func.func @dense
func.func @dense(%x: tensor<2x3x4xf32>, %w: tensor<5x4xf32>) -> tensor<2x3x5xf32> {
  // CHECK-NOT: linalg.transpose
  // Reshapes go through a flat view; the canonicalizer merges the pair.
  // CHECK: tensor.collapse_shape %{{.*}} : tensor<2x3x4xf32> into tensor<24xf32>
  // CHECK: tensor.expand_shape %{{.*}} : tensor<24xf32> into tensor<6x4xf32>
  // CHECK: linalg.fill
  // CHECK: linalg.matmul_transpose_b ins(%{{.*}}, %{{.*}} : tensor<6x4xf32>, tensor<5x4xf32>) outs(%{{.*}} : tensor<6x5xf32>)
  // CHECK: tensor.expand_shape %{{.*}} : tensor<30xf32> into tensor<2x3x5xf32>
  %0 = graph.matmul %x, %w {transpose_b = true} : tensor<2x3x4xf32>, tensor<5x4xf32> -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// CHECK-LABEL: func.func @batched
func.func @batched(%q: tensor<2x3x8x4xf32>, %k: tensor<2x3x8x4xf32>) -> tensor<2x3x8x8xf32> {
  // CHECK-NOT: linalg.transpose
  // CHECK: linalg.batch_matmul_transpose_b ins(%{{.*}}, %{{.*}} : tensor<6x8x4xf32>, tensor<6x8x4xf32>) outs(%{{.*}} : tensor<6x8x8xf32>)
  %0 = graph.matmul %q, %k {transpose_b = true} : tensor<2x3x8x4xf32>, tensor<2x3x8x4xf32> -> tensor<2x3x8x8xf32>
  return %0 : tensor<2x3x8x8xf32>
}

// -----

// A transposed first operand is read in place: a weight gradient (x^T dy)
// and a batched one (p^T v) use the *_transpose_a forms, with no transpose.
// CHECK-LABEL: func.func @transposed_a
func.func @transposed_a(%x: tensor<6x4xf32>, %dy: tensor<6x5xf32>, %p: tensor<3x8x8xf32>, %v: tensor<3x8x4xf32>) -> (tensor<4x5xf32>, tensor<3x8x4xf32>) {
  // CHECK-NOT: linalg.transpose
  // CHECK: linalg.matmul_transpose_a ins(%{{.*}}, %{{.*}} : tensor<6x4xf32>, tensor<6x5xf32>) outs(%{{.*}} : tensor<4x5xf32>)
  // CHECK: linalg.batch_matmul_transpose_a ins(%{{.*}}, %{{.*}} : tensor<3x8x8xf32>, tensor<3x8x4xf32>) outs(%{{.*}} : tensor<3x8x4xf32>)
  %0 = graph.matmul %x, %dy {transpose_a = true} : tensor<6x4xf32>, tensor<6x5xf32> -> tensor<4x5xf32>
  %1 = graph.matmul %p, %v {transpose_a = true} : tensor<3x8x8xf32>, tensor<3x8x4xf32> -> tensor<3x8x4xf32>
  return %0, %1 : tensor<4x5xf32>, tensor<3x8x4xf32>
}

// -----

// Both operands transposed: no linalg form reads both, so B is transposed
// first and A read in place.
// CHECK-LABEL: func.func @both
func.func @both(%a: tensor<6x4xf32>, %b: tensor<5x6xf32>) -> tensor<4x5xf32> {
  // CHECK: linalg.transpose ins(%{{.*}} : tensor<5x6xf32>) outs(%{{.*}} : tensor<6x5xf32>) permutation = [1, 0]
  // CHECK: linalg.matmul_transpose_a ins(%{{.*}}, %{{.*}} : tensor<6x4xf32>, tensor<6x5xf32>) outs(%{{.*}} : tensor<4x5xf32>)
  %0 = graph.matmul %a, %b {transpose_a = true, transpose_b = true} : tensor<6x4xf32>, tensor<5x6xf32> -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// bf16 operands, an f32 product: the contraction widens each operand.
// CHECK-LABEL: func.func @bf16_operands
func.func @bf16_operands(%x: tensor<2x3x4xbf16>, %w: tensor<5x4xbf16>) -> tensor<2x3x5xf32> {
  // CHECK: tensor.expand_shape %{{.*}} : tensor<24xbf16> into tensor<6x4xbf16>
  // CHECK: linalg.matmul_transpose_b ins(%{{.*}}, %{{.*}} : tensor<6x4xbf16>, tensor<5x4xbf16>) outs(%{{.*}} : tensor<6x5xf32>)
  %0 = graph.matmul %x, %w {transpose_b = true} : tensor<2x3x4xbf16>, tensor<5x4xbf16> -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}
