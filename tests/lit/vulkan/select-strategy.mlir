// The Vulkan strategy: small workgroup tiles that divide their loops, the
// invocations, subgroup cluster and matmul staging on each kernel, scratch
// in workgroup memory.
// RUN: bertc-opt --bertc-to-destination-passing --bertc-vulkan-select-strategy %s | FileCheck %s
// RUN: bertc-opt --bertc-to-destination-passing '--bertc-vulkan-select-strategy=target-workgroups=4 invocations=128 subgroup-cluster=0' %s | FileCheck %s --check-prefix=FEW

// About 1024 workgroups: 2 x 2 tiles of the 96 x 80 product.
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: bertc.scratch_space = #spirv.storage_class<Workgroup>
// CHECK-SAME: bertc.strategy = {invocations = 64 : i64, staged_elements_max = 1024 : i64, staged_k_chunk = 32 : i64, staged_tile_min = 16 : i64, subgroup_cluster = 8 : i64}
// CHECK: linalg.matmul {bertc.workgroup_tiles = array<i64: 2, 2, 0>}
// Four workgroups: at most 32 x 32, and 80 columns in tiles of 20 (27
// would leave a partial tile).
// FEW-LABEL: func.func @matmul(
// FEW-SAME: bertc.strategy = {invocations = 128 : i64, {{.*}}, subgroup_cluster = 0 : i64}
// FEW: linalg.matmul {bertc.workgroup_tiles = array<i64: 32, 20, 0>}
func.func @matmul(%a: tensor<96x64xf32>, %b: tensor<64x80xf32>) -> tensor<96x80xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<96x80xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<96x80xf32>) -> tensor<96x80xf32>
  %m = linalg.matmul ins(%a, %b : tensor<96x64xf32>, tensor<64x80xf32>) outs(%f : tensor<96x80xf32>) -> tensor<96x80xf32>
  return %m : tensor<96x80xf32>
}

// An attention's kernel gets blocks of 32 query rows and 32 keys.
// CHECK-LABEL: func.func @attention(
// CHECK-SAME: bertc.strategy = {attention_keys = 32 : i64, attention_rows = 32 : i64, invocations = 64
// FEW-LABEL: func.func @attention(
// FEW-SAME: bertc.strategy = {attention_keys = 32 : i64, attention_rows = 32 : i64, invocations = 128
func.func @attention(%tq: tensor<2x64x8xf32>, %tb: tensor<2x1x64xf32>) -> tensor<2x64x8xf32> {
  %o = graph.attention %tq, %tq, %tq, %tb scale 2.500000e-01 rate 0.0 : tensor<2x64x8xf32>, tensor<2x64x8xf32>, tensor<2x64x8xf32>, tensor<2x1x64xf32> -> tensor<2x64x8xf32>
  return %o : tensor<2x64x8xf32>
}

// A cross-entropy's rows: blocks of at most 4 rows.
// CHECK-LABEL: func.func @cross_entropy_rows(
// CHECK-SAME: bertc.strategy = {invocations = 64 : i64, loss_rows = 4 : i64,
// FEW-LABEL: func.func @cross_entropy_rows(
// FEW-SAME: bertc.strategy = {invocations = 128 : i64, loss_rows = 4 : i64,
func.func @cross_entropy_rows(%x: tensor<12x7xf32>, %l: tensor<12xi32>, %c: tensor<f32>) -> (tensor<12xf32>, tensor<12x7xf32>) {
  %r:2 = graph.cross_entropy_rows %x, %l, %c, %c : tensor<12x7xf32>, tensor<12xi32>, tensor<f32>, tensor<f32>
  return %r#0, %r#1 : tensor<12xf32>, tensor<12x7xf32>
}

// An embedding gradient: 8 blocks of the table's columns.
// CHECK-LABEL: func.func @embedding_grad(
// CHECK-SAME: scatter_column_blocks = 8 : i64
func.func @embedding_grad(%i: tensor<4xi32>, %g: tensor<4x16xf32>) -> tensor<10x16xf32> {
  %t = graph.embedding_grad %i, %g rows 10 : tensor<4xi32>, tensor<4x16xf32> -> tensor<10x16xf32>
  return %t : tensor<10x16xf32>
}
