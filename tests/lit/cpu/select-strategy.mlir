// The CPU strategy: each root's workgroup tiles, each kernel's vector
// blocks.
// RUN: bertc-opt --bertc-cpu-select-strategy %s | FileCheck %s
// RUN: bertc-opt '--bertc-cpu-select-strategy=target-workgroups=4 vectorize=false' %s | FileCheck %s --check-prefix=FEW
// RUN: bertc-opt '--bertc-cpu-select-strategy=vector-bits=512' %s | FileCheck %s --check-prefix=ZMM
// RUN: bertc-opt '--bertc-cpu-select-strategy=vector-bits=512 bf16-dot=true' %s | FileCheck %s --check-prefix=BF16
// RUN: bertc-opt '--bertc-cpu-select-strategy=vector-bits=512 bf16-dot=true amx=1' %s | FileCheck %s --check-prefix=AMX

// About 32 workgroups: the matmul's 384 x 512 in 96 x 64 tiles (multiples
// of the 6 x 16 register block), K whole; the register block, K chunk and
// vector widths on the kernel, B packed. With 512-bit vectors, 8 x 32
// register blocks and tiles of their multiples.
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: bertc.strategy = {amx = 0 : i64, bf16_dot = 0 : i64, k_chunk = 256 : i64, max_piece_elements = 1024 : i64, pack_b = 1 : i64, register_block_cols = 16 : i64, register_block_rows = 6 : i64, transpose = 8 : i64, vector = 16 : i64}
// CHECK: linalg.matmul {bertc.workgroup_tiles = array<i64: 96, 64, 0>}
// ZMM-LABEL: func.func @matmul(
// ZMM-SAME: bertc.strategy = {amx = 0 : i64, bf16_dot = 0 : i64, k_chunk = 256 : i64, max_piece_elements = 1024 : i64, pack_b = 1 : i64, register_block_cols = 32 : i64, register_block_rows = 8 : i64, transpose = 8 : i64, vector = 16 : i64}
// ZMM: linalg.matmul {bertc.workgroup_tiles = array<i64: 96, 64, 0>}
// With vdpbf16ps, bf16 matmuls use it.
// BF16-LABEL: func.func @matmul(
// BF16-SAME: bertc.strategy = {amx = 0 : i64, bf16_dot = 1 : i64, k_chunk = 256 : i64,
// With AMX, matmul tiles of whole 32-row AMX blocks (96 rows: three).
// AMX-LABEL: func.func @matmul(
// AMX-SAME: bertc.strategy = {amx = 1 : i64, bf16_dot = 1 : i64, k_chunk = 256 : i64,
// AMX: linalg.matmul {bertc.workgroup_tiles = array<i64: 96, 64, 0>}
// FEW-LABEL: func.func @matmul(
// FEW-NOT: bertc.strategy
// FEW: linalg.matmul {bertc.workgroup_tiles = array<i64: 192, 256, 0>}
func.func @matmul(%a: memref<384x256xf32>, %b: memref<256x512xf32>, %out: memref<384x512xf32>, %x: index, %y: index, %z: index) {
  %ta = bufferization.to_tensor %a restrict : memref<384x256xf32>
  %tb = bufferization.to_tensor %b restrict : memref<256x512xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<384x512xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<384x512xf32>) -> tensor<384x512xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<384x256xf32>, tensor<256x512xf32>) outs(%f : tensor<384x512xf32>) -> tensor<384x512xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<384x512xf32>, memref<384x512xf32>) -> ()
  return
}

// A batched matmul is split over its batches first (128 / 32 = 4 each),
// each workgroup multiplying whole 128 x 64 products: every operand is read
// by one workgroup, not re-read by the ones holding other rows or columns
// of the same batches.
// CHECK-LABEL: func.func @batched(
// CHECK: linalg.batch_matmul {bertc.workgroup_tiles = array<i64: 4, 0, 0, 0>}
// FEW-LABEL: func.func @batched(
// FEW: linalg.batch_matmul {bertc.workgroup_tiles = array<i64: 32, 0, 0, 0>}
func.func @batched(%a: memref<128x128x128xf32>, %b: memref<128x128x64xf32>, %out: memref<128x128x64xf32>, %x: index, %y: index, %z: index) {
  %ta = bufferization.to_tensor %a restrict : memref<128x128x128xf32>
  %tb = bufferization.to_tensor %b restrict : memref<128x128x64xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x128x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<128x128x64xf32>) -> tensor<128x128x64xf32>
  %m = linalg.batch_matmul ins(%ta, %tb : tensor<128x128x128xf32>, tensor<128x128x64xf32>) outs(%f : tensor<128x128x64xf32>) -> tensor<128x128x64xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<128x128x64xf32>, memref<128x128x64xf32>) -> ()
  return
}

// Elementwise: the last loop in multiples of 16.
// CHECK-LABEL: func.func @elementwise(
// CHECK: linalg.negf {bertc.workgroup_tiles = array<i64: 64, 128>}
// FEW-LABEL: func.func @elementwise(
// FEW: linalg.negf {bertc.workgroup_tiles = array<i64: 0, 256>}
func.func @elementwise(%a: memref<256x1000xf32>, %out: memref<256x1000xf32>, %x: index, %y: index, %z: index) {
  %ta = bufferization.to_tensor %a restrict : memref<256x1000xf32>
  %e = tensor.empty() : tensor<256x1000xf32>
  %n = linalg.negf ins(%ta : tensor<256x1000xf32>) outs(%e : tensor<256x1000xf32>) -> tensor<256x1000xf32>
  bufferization.materialize_in_destination %n in restrict writable %out : (tensor<256x1000xf32>, memref<256x1000xf32>) -> ()
  return
}

// Under 4096 iterations: one workgroup, no tiles.
// CHECK-LABEL: func.func @small(
// CHECK-NOT: bertc.workgroup_tiles
func.func @small(%a: memref<32x32xf32>, %out: memref<32x32xf32>, %x: index, %y: index, %z: index) {
  %ta = bufferization.to_tensor %a restrict : memref<32x32xf32>
  %e = tensor.empty() : tensor<32x32xf32>
  %n = linalg.negf ins(%ta : tensor<32x32xf32>) outs(%e : tensor<32x32xf32>) -> tensor<32x32xf32>
  bufferization.materialize_in_destination %n in restrict writable %out : (tensor<32x32xf32>, memref<32x32xf32>) -> ()
  return
}

// A kernel of an attention: its blocks join the strategy (at most 128 query
// rows per workgroup, 64 keys per step).
// CHECK-LABEL: func.func @attention(
// CHECK-SAME: bertc.strategy = {amx = 0 : i64, attention_keys = 64 : i64, attention_rows = 128 : i64, bf16_dot = 0 : i64, k_chunk = 256
// FEW-LABEL: func.func @attention(
// FEW-SAME: bertc.strategy = {attention_keys = 64 : i64, attention_rows = 128 : i64}}
func.func @attention(%q: memref<2x64x8xf32>, %b: memref<2x1x64xf32>, %out: memref<2x64x8xf32>, %x: index, %y: index, %z: index) {
  %tq = bufferization.to_tensor %q restrict : memref<2x64x8xf32>
  %tb = bufferization.to_tensor %b restrict : memref<2x1x64xf32>
  %o = graph.attention %tq, %tq, %tq, %tb scale 2.500000e-01 rate 0.0 : tensor<2x64x8xf32>, tensor<2x64x8xf32>, tensor<2x64x8xf32>, tensor<2x1x64xf32> -> tensor<2x64x8xf32>
  bufferization.materialize_in_destination %o in restrict writable %out : (tensor<2x64x8xf32>, memref<2x64x8xf32>) -> ()
  return
}

// A kernel of a cross-entropy's rows: blocks of at most 4 rows.
// CHECK-LABEL: func.func @cross_entropy_rows(
// CHECK-SAME: bertc.strategy = {amx = 0 : i64, bf16_dot = 0 : i64, k_chunk = 256 : i64, loss_rows = 4 : i64,
// FEW-LABEL: func.func @cross_entropy_rows(
// FEW-SAME: bertc.strategy = {loss_rows = 4 : i64}}
func.func @cross_entropy_rows(%x: memref<12x7xf32>, %l: memref<12xi32>, %c: memref<f32>, %losses: memref<12xf32>, %d: memref<12x7xf32>, %wx: index, %wy: index, %wz: index) {
  %tx = bufferization.to_tensor %x restrict : memref<12x7xf32>
  %tl = bufferization.to_tensor %l restrict : memref<12xi32>
  %tc = bufferization.to_tensor %c restrict : memref<f32>
  %r:2 = graph.cross_entropy_rows %tx, %tl, %tc, %tc : tensor<12x7xf32>, tensor<12xi32>, tensor<f32>, tensor<f32>
  bufferization.materialize_in_destination %r#0 in restrict writable %losses : (tensor<12xf32>, memref<12xf32>) -> ()
  bufferization.materialize_in_destination %r#1 in restrict writable %d : (tensor<12x7xf32>, memref<12x7xf32>) -> ()
  return
}

// A kernel of an embedding gradient: 8 blocks of the table's columns.
// CHECK-LABEL: func.func @embedding_grad(
// CHECK-SAME: bertc.strategy = {amx = 0 : i64, bf16_dot = 0 : i64, k_chunk = 256 : i64, max_piece_elements = 1024 : i64, pack_b = 1 : i64, register_block_cols = 16 : i64, register_block_rows = 6 : i64, scatter_column_blocks = 8 : i64,
// FEW-LABEL: func.func @embedding_grad(
// FEW-SAME: bertc.strategy = {scatter_column_blocks = 8 : i64}}
func.func @embedding_grad(%i: memref<4xi32>, %g: memref<4x16xf32>, %out: memref<10x16xf32>, %x: index, %y: index, %z: index) {
  %ti = bufferization.to_tensor %i restrict : memref<4xi32>
  %tg = bufferization.to_tensor %g restrict : memref<4x16xf32>
  %t = graph.embedding_grad %ti, %tg rows 10 : tensor<4xi32>, tensor<4x16xf32> -> tensor<10x16xf32>
  bufferization.materialize_in_destination %t in restrict writable %out : (tensor<10x16xf32>, memref<10x16xf32>) -> ()
  return
}

// 200 rows of a bf16 product: tiles of 8 rows (one register block) to make
// about 32 workgroups, but of 32 (one AMX block) with AMX.
// BF16-LABEL: func.func @bf16_rows(
// BF16: linalg.matmul {bertc.workgroup_tiles = array<i64: 8, 32, 0>}
// AMX-LABEL: func.func @bf16_rows(
// AMX: linalg.matmul {bertc.workgroup_tiles = array<i64: 32, 32, 0>}
func.func @bf16_rows(%a: memref<200x64xbf16>, %b: memref<64x64xbf16>, %out: memref<200x64xf32>, %x: index, %y: index, %z: index) {
  %ta = bufferization.to_tensor %a restrict : memref<200x64xbf16>
  %tb = bufferization.to_tensor %b restrict : memref<64x64xbf16>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<200x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<200x64xf32>) -> tensor<200x64xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<200x64xbf16>, tensor<64x64xbf16>) outs(%f : tensor<200x64xf32>) -> tensor<200x64xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<200x64xf32>, memref<200x64xf32>) -> ()
  return
}
