// graph.attention lowered inside its kernel with the blocks of the
// kernel's strategy (backends/common/LowerKernelOps.cpp,
// passes/lowering/Attention.cpp).
// RUN: bertc-opt %s --bertc-lower-kernel-ops --split-input-file | FileCheck %s

// Without a strategy, at most 128 rows and 64 keys: one scf.forall over
// (batch and head, blocks of 80 query rows);
// in each, an scf.for over blocks of 40 keys carries the running row
// maximum, the running sum and the unnormalised output. No tensor of all
// the scores exists.
// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<2x3x160x8xf32>, %v: tensor<2x3x160x4xf32>,
                     %bias: tensor<2x1x1x160xf32>) -> tensor<2x3x160x4xf32> {
  // CHECK: scf.forall (%[[BH:.*]], %[[Q0:.*]]) = (0, 0) to (6, 160) step (1, 80) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<2x3x160x4xf32>)
  // CHECK-DAG: %[[H:.*]] = arith.remui %[[BH]], %c3
  // CHECK-DAG: %[[B:.*]] = arith.divui %[[BH]], %c3
  // CHECK: %[[QT:.*]] = tensor.extract_slice %arg0[%[[B]], %[[H]], %[[Q0]], 0] [1, 1, 80, 8] [1, 1, 1, 1] : tensor<2x3x160x8xf32> to tensor<80x8xf32>
  // CHECK: %[[R:.*]]:3 = scf.for %[[K0:.*]] = %{{.*}} to %{{.*}} step %c40{{.*}} iter_args(%[[M:.*]] = %{{.*}}, %[[L:.*]] = %{{.*}}, %[[ACC:.*]] = %{{.*}}) -> (tensor<80xf32>, tensor<80xf32>, tensor<80x4xf32>)
  // CHECK: tensor.extract_slice %arg0[%[[B]], %[[H]], %[[K0]], 0] [1, 1, 40, 8]
  // CHECK: linalg.transpose
  // CHECK: %[[S:.*]] = linalg.matmul ins(%[[QT]], %{{.*}} : tensor<80x8xf32>, tensor<8x40xf32>) outs(%{{.*}} : tensor<80x40xf32>)
  // CHECK: tensor.extract_slice %arg2[%[[B]], 0, 0, %[[K0]]] [1, 1, 1, 40]
  // CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%[[S]]
  // CHECK: arith.maximumf
  // CHECK: linalg.generic {{.*}} outs(%[[M]], %{{.*}} : tensor<80xf32>, tensor<80xf32>)
  // CHECK: math.exp
  // CHECK: math.exp
  // CHECK: outs(%[[L]] : tensor<80xf32>)
  // CHECK: outs(%[[ACC]] : tensor<80x4xf32>)
  // CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<80x40xf32>, tensor<40x4xf32>)
  // CHECK: scf.yield
  // CHECK: %[[TILE:.*]] = tensor.extract_slice %[[OUT]][%[[B]], %[[H]], %[[Q0]], 0] [1, 1, 80, 4]
  // CHECK: linalg.generic {{.*}} ins(%[[R]]#2, %[[R]]#1 : tensor<80x4xf32>, tensor<80xf32>) outs(%[[TILE]] : tensor<80x4xf32>)
  // CHECK: arith.divf
  // CHECK: scf.forall.in_parallel
  // CHECK-NEXT: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[B]], %[[H]], %[[Q0]], 0] [1, 1, 80, 4]
  // CHECK-NOT: tensor<2x3x160x160xf32>
  %o = graph.attention %q, %q, %v, %bias scale 2.500000e-01 rate 0.0 : tensor<2x3x160x8xf32>, tensor<2x3x160x8xf32>, tensor<2x3x160x4xf32>, tensor<2x1x1x160xf32> -> tensor<2x3x160x4xf32>
  return %o : tensor<2x3x160x4xf32>
}

// -----

// The strategy's blocks: 32 query rows and 32 keys.
// CHECK-LABEL: func.func @small_blocks
// CHECK: scf.forall ({{.*}}) = (0, 0) to (6, 160) step (1, 32)
// CHECK: scf.for {{.*}} step %c32
// CHECK-SAME: -> (tensor<32xf32>, tensor<32xf32>, tensor<32x4xf32>)
// CHECK-NOT: graph.attention
func.func @small_blocks(%q: tensor<2x3x160x8xf32>, %v: tensor<2x3x160x4xf32>,
                        %bias: tensor<2x1x1x160xf32>) -> tensor<2x3x160x4xf32>
    attributes {bertc.strategy = {attention_keys = 32 : i64, attention_rows = 32 : i64}} {
  %o = graph.attention %q, %q, %v, %bias scale 2.500000e-01 rate 0.0 : tensor<2x3x160x8xf32>, tensor<2x3x160x8xf32>, tensor<2x3x160x4xf32>, tensor<2x1x1x160xf32> -> tensor<2x3x160x4xf32>
  return %o : tensor<2x3x160x4xf32>
}
