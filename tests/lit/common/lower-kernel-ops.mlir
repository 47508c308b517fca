// graph.attention, graph.embedding_grad and graph.cross_entropy_rows
// lowered inside their kernels with the blocks of the kernel's strategy
// (backends/common/LowerKernelOps.cpp, passes/lowering/Attention.cpp,
// DataMovement.cpp and Losses.cpp).
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

// -----

// Without a strategy, blocks of at most 4 rows: one scf.forall over blocks
// of 4 of the 12 rows computing each row's maximum, sum of exponentials,
// loss and gradient from one slice of the logits.
// CHECK-LABEL: func.func @cross_entropy_rows
func.func @cross_entropy_rows(%logits: tensor<12x7xf32>, %labels: tensor<12xi32>, %count: tensor<f32>,
                              %g: tensor<f32>) -> (tensor<12xf32>, tensor<12x7xf32>) {
  // CHECK: %[[R:.*]]:2 = scf.forall (%[[ROW:.*]]) = (0) to (12) step (4) shared_outs(%[[LOSS:.*]] = %{{.*}}, %[[GRAD:.*]] = %{{.*}}) -> (tensor<12xf32>, tensor<12x7xf32>)
  // CHECK: %[[TILE:.*]] = tensor.extract_slice %arg0[%[[ROW]], 0] [4, 7] [1, 1] : tensor<12x7xf32> to tensor<4x7xf32>
  // CHECK: arith.maximumf
  // CHECK: math.exp
  // CHECK: math.log
  // CHECK: linalg.generic {{.*}} ins(%[[TILE]], {{.*}}, %arg2, %arg3 : {{.*}}) outs(%{{.*}} : tensor<4x7xf32>)
  // CHECK: scf.forall.in_parallel
  // CHECK: tensor.parallel_insert_slice %{{.*}} into %[[LOSS]][%[[ROW]]] [4] [1]
  // CHECK: tensor.parallel_insert_slice %{{.*}} into %[[GRAD]][%[[ROW]], 0] [4, 7] [1, 1]
  // CHECK: return %[[R]]#0, %[[R]]#1
  %l, %d = graph.cross_entropy_rows %logits, %labels, %count, %g : tensor<12x7xf32>, tensor<12xi32>, tensor<f32>, tensor<f32>
  return %l, %d : tensor<12xf32>, tensor<12x7xf32>
}

// -----

// The strategy's block: 8 rows at most, so 6, the largest that divides 12.
// CHECK-LABEL: func.func @loss_rows
// CHECK: scf.forall ({{.*}}) = (0) to (12) step (6)
// CHECK: tensor.extract_slice %arg0[{{.*}}, 0] [6, 7] [1, 1]
// CHECK-NOT: graph.cross_entropy_rows
func.func @loss_rows(%logits: tensor<12x7xf32>, %labels: tensor<12xi32>, %count: tensor<f32>,
                     %g: tensor<f32>) -> (tensor<12xf32>, tensor<12x7xf32>)
    attributes {bertc.strategy = {loss_rows = 8 : i64}} {
  %l, %d = graph.cross_entropy_rows %logits, %labels, %count, %g : tensor<12x7xf32>, tensor<12xi32>, tensor<f32>, tensor<f32>
  return %l, %d : tensor<12xf32>, tensor<12x7xf32>
}

// -----

// Without a strategy, an embedding gradient is an scf.forall over 8 blocks
// of columns (workgroups),
// each zeroing its columns of the table in place and adding the gradient
// rows into them one position after another (ids may repeat), the id
// clamped to the table.
// CHECK-LABEL: func.func @embedding_grad
func.func @embedding_grad(%ids: tensor<4xi32>, %g: tensor<4x16xf32>) -> tensor<10x16xf32> {
  // CHECK: %[[R:.*]] = scf.forall (%[[C0:.*]]) = (0) to (16) step (2) shared_outs(%[[TABLE:.*]] = %{{.*}}) -> (tensor<10x16xf32>)
  // CHECK: %[[COLS:.*]] = tensor.extract_slice %[[TABLE]][0, %[[C0]]] [10, 2] [1, 1]
  // CHECK: %[[ZERO:.*]] = linalg.fill {{.*}} outs(%[[COLS]] : tensor<10x2xf32>)
  // CHECK: %[[SUMS:.*]] = scf.for %[[P:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %[[ZERO]])
  // CHECK: arith.maxsi
  // CHECK: %[[ROW:.*]] = arith.minsi
  // CHECK: %[[CUR:.*]] = tensor.extract_slice %[[ACC]][%[[ROW]], 0] [1, 2] [1, 1]
  // CHECK: %[[UPD:.*]] = tensor.extract_slice %arg1[%[[P]], %[[C0]]] [1, 2] [1, 1]
  // CHECK: linalg.add ins(%[[CUR]], %[[UPD]] : {{.*}}) outs(%[[CUR]] : tensor<1x2xf32>)
  // CHECK: tensor.parallel_insert_slice %[[SUMS]] into %[[TABLE]][0, %[[C0]]] [10, 2] [1, 1]
  // CHECK: return %[[R]]
  %0 = graph.embedding_grad %ids, %g rows 10 : tensor<4xi32>, tensor<4x16xf32> -> tensor<10x16xf32>
  return %0 : tensor<10x16xf32>
}

// -----

// The strategy's blocks: 3 at most, so 2 (the most that divide the 16
// columns).
// CHECK-LABEL: func.func @scatter_blocks
// CHECK: scf.forall ({{.*}}) = (0) to (16) step (8)
// CHECK-NOT: graph.embedding_grad
func.func @scatter_blocks(%ids: tensor<4xi32>, %g: tensor<4x16xf32>) -> tensor<10x16xf32>
    attributes {bertc.strategy = {scatter_column_blocks = 3 : i64}} {
  %0 = graph.embedding_grad %ids, %g rows 10 : tensor<4xi32>, tensor<4x16xf32> -> tensor<10x16xf32>
  return %0 : tensor<10x16xf32>
}
