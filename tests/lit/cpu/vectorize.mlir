// Vector code as each kernel's bertc.strategy says.
// RUN: bertc-opt --bertc-cpu-vectorize %s | FileCheck %s

// The default strategy: the matmul in panels of B 16 wide (too few rows to
// pack them: 12 < 4 x 6), each in 6 x 16 register blocks carried through
// the K loop, one rank-1 update per step; the fill in rows of 16.
// CHECK-LABEL: func.func @matmul(
// CHECK: vector.transfer_write {{.*}} : vector<1x16xf32>, tensor<1x16xf32>
// CHECK: scf.for {{.*}} step %c16
// CHECK-NOT: tensor.empty
// CHECK: scf.for {{.*}} step %c6
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (tensor<12x16xf32>, tensor<6x16xf32>, vector<6x16xf32>)
// CHECK: arith.mulf {{.*}} : vector<6x16x1xf32>
// CHECK-NOT: linalg.matmul
func.func @matmul(%a: memref<12x16xf32>, %b: memref<16x32xf32>, %out: memref<12x32xf32>, %x: index, %y: index, %z: index) attributes {bertc.strategy = {k_chunk = 256 : i64, max_piece_elements = 1024 : i64, register_block_cols = 16 : i64, register_block_rows = 6 : i64, transpose = 8 : i64, vector = 16 : i64}} {
  %ta = bufferization.to_tensor %a restrict : memref<12x16xf32>
  %tb = bufferization.to_tensor %b restrict : memref<16x32xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<12x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<12x32xf32>) -> tensor<12x32xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<12x16xf32>, tensor<16x32xf32>) outs(%f : tensor<12x32xf32>) -> tensor<12x32xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<12x32xf32>, memref<12x32xf32>) -> ()
  return
}

// Another strategy, other code: 4 x 8 blocks, K in chunks of 8 (the chunk
// loop outermost), panels 8 wide, rows of 8.
// CHECK-LABEL: func.func @small_blocks(
// CHECK: vector.transfer_write {{.*}} : vector<1x8xf32>, tensor<1x8xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c8
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c8
// CHECK: scf.for {{.*}} step %c4
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (tensor<12x8xf32>, tensor<4x8xf32>, vector<4x8xf32>)
// CHECK: arith.mulf {{.*}} : vector<4x8x1xf32>
func.func @small_blocks(%a: memref<12x16xf32>, %b: memref<16x32xf32>, %out: memref<12x32xf32>, %x: index, %y: index, %z: index) attributes {bertc.strategy = {k_chunk = 8 : i64, max_piece_elements = 1024 : i64, register_block_cols = 8 : i64, register_block_rows = 4 : i64, transpose = 8 : i64, vector = 8 : i64}} {
  %ta = bufferization.to_tensor %a restrict : memref<12x16xf32>
  %tb = bufferization.to_tensor %b restrict : memref<16x32xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<12x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<12x32xf32>) -> tensor<12x32xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<12x16xf32>, tensor<16x32xf32>) outs(%f : tensor<12x32xf32>) -> tensor<12x32xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<12x32xf32>, memref<12x32xf32>) -> ()
  return
}

// Rows enough to pay for packing: in each chunk of K (32) every full panel
// of B (32 x 16) is copied row by row into a contiguous tensor, which the
// register blocks read; the last panel (8 wide) is read where it is, in
// 6 x 8 blocks. Without pack_b, no copy.
// CHECK-LABEL: func.func @packed(
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c32
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c16
// CHECK: %[[PANEL:.*]] = tensor.empty() : tensor<32x16xf32>
// CHECK: scf.for {{.*}} iter_args(%[[P:.*]] = %[[PANEL]]) -> (tensor<32x16xf32>)
// CHECK: vector.transfer_read {{.*}} : tensor<32x16xf32>, vector<16xf32>
// CHECK-NEXT: vector.transfer_write {{.*}}, %[[P]][{{.*}}] {{.*}} : vector<16xf32>, tensor<32x16xf32>
// CHECK: scf.for {{.*}} step %c6
// CHECK: arith.mulf {{.*}} : vector<6x16x1xf32>
// CHECK: arith.mulf {{.*}} : vector<6x8x1xf32>
// CHECK-LABEL: func.func @unpacked(
// CHECK-NOT: tensor.empty() : tensor<32x16xf32>
// CHECK: arith.mulf {{.*}} : vector<6x16x1xf32>
func.func @packed(%a: memref<48x64xf32>, %b: memref<64x40xf32>, %out: memref<48x40xf32>, %x: index, %y: index, %z: index) attributes {bertc.strategy = {k_chunk = 32 : i64, max_piece_elements = 1024 : i64, pack_b = 1 : i64, register_block_cols = 16 : i64, register_block_rows = 6 : i64, transpose = 8 : i64, vector = 16 : i64}} {
  %ta = bufferization.to_tensor %a restrict : memref<48x64xf32>
  %tb = bufferization.to_tensor %b restrict : memref<64x40xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<48x40xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<48x40xf32>) -> tensor<48x40xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<48x64xf32>, tensor<64x40xf32>) outs(%f : tensor<48x40xf32>) -> tensor<48x40xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<48x40xf32>, memref<48x40xf32>) -> ()
  return
}
func.func @unpacked(%a: memref<48x64xf32>, %b: memref<64x40xf32>, %out: memref<48x40xf32>, %x: index, %y: index, %z: index) attributes {bertc.strategy = {k_chunk = 32 : i64, max_piece_elements = 1024 : i64, pack_b = 0 : i64, register_block_cols = 16 : i64, register_block_rows = 6 : i64, transpose = 8 : i64, vector = 16 : i64}} {
  %ta = bufferization.to_tensor %a restrict : memref<48x64xf32>
  %tb = bufferization.to_tensor %b restrict : memref<64x40xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<48x40xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<48x40xf32>) -> tensor<48x40xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<48x64xf32>, tensor<64x40xf32>) outs(%f : tensor<48x40xf32>) -> tensor<48x40xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<48x40xf32>, memref<48x40xf32>) -> ()
  return
}

// B read transposed (matmul_transpose_b, B: N x K): every panel, full
// (16 wide) or not (8), is transposed into a K-chunk x cols copy in 8 x 8
// blocks (a transfer read through a transposing map), and the product on
// the copy is the plain one, in the same register blocks. Packed whatever
// the rows (12 < 4 x 6 here): reading B's columns in place strides by K.
// CHECK-LABEL: func.func @transposed_b(
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c32
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c16
// CHECK: %[[PANEL:.*]] = tensor.empty() : tensor<32x16xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[PANEL]]) -> (tensor<32x16xf32>)
// CHECK: vector.transfer_read {{.*}} permutation_map = {{.*}} : tensor<8x8xf32>, vector<8x8xf32>
// CHECK: arith.mulf {{.*}} : vector<6x16x1xf32>
// CHECK: tensor.empty() : tensor<32x8xf32>
// CHECK: vector.transfer_read {{.*}} permutation_map = {{.*}} : tensor<8x8xf32>, vector<8x8xf32>
// CHECK: arith.mulf {{.*}} : vector<6x8x1xf32>
// CHECK-NOT: linalg.matmul
func.func @transposed_b(%a: memref<12x64xf32>, %b: memref<40x64xf32>, %out: memref<12x40xf32>, %x: index, %y: index, %z: index) attributes {bertc.strategy = {k_chunk = 32 : i64, max_piece_elements = 1024 : i64, pack_b = 1 : i64, register_block_cols = 16 : i64, register_block_rows = 6 : i64, transpose = 8 : i64, vector = 16 : i64}} {
  %ta = bufferization.to_tensor %a restrict : memref<12x64xf32>
  %tb = bufferization.to_tensor %b restrict : memref<40x64xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<12x40xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<12x40xf32>) -> tensor<12x40xf32>
  %m = linalg.matmul_transpose_b ins(%ta, %tb : tensor<12x64xf32>, tensor<40x64xf32>) outs(%f : tensor<12x40xf32>) -> tensor<12x40xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<12x40xf32>, memref<12x40xf32>) -> ()
  return
}

// No strategy: scalar code, the linalg ops left for the loops.
// CHECK-LABEL: func.func @scalar(
// CHECK-NOT: vector.
// CHECK: linalg.matmul ins({{.*}} : tensor<12x16xf32>, tensor<16x32xf32>)
func.func @scalar(%a: memref<12x16xf32>, %b: memref<16x32xf32>, %out: memref<12x32xf32>, %x: index, %y: index, %z: index) {
  %ta = bufferization.to_tensor %a restrict : memref<12x16xf32>
  %tb = bufferization.to_tensor %b restrict : memref<16x32xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<12x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<12x32xf32>) -> tensor<12x32xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<12x16xf32>, tensor<16x32xf32>) outs(%f : tensor<12x32xf32>) -> tensor<12x32xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<12x32xf32>, memref<12x32xf32>) -> ()
  return
}

// A row reduction (a sum along the last loop): row by row, each row summed
// into a vector of 16 partial sums carried through its loop (40 = 2 x 16
// full chunks, then the remaining 8 into the first 8 partial sums), and
// those 16 combined across lanes once per row, not at every chunk.
// CHECK-LABEL: func.func @row_sum(
// CHECK: scf.for {{.*}} to %c4 step %c1
// CHECK: scf.for {{.*}} to %c32 step %c16 iter_args({{.*}}) -> (tensor<1x16xf32>, vector<1x16xf32>)
// CHECK: arith.addf {{.*}} : vector<1x16xf32>
// CHECK: arith.addf {{.*}} : vector<1x8xf32>
// CHECK: vector.multi_reduction <add>, {{.*}} [1] : vector<1x16xf32> to vector<1xf32>
// CHECK-NOT: vector.multi_reduction
// CHECK: return
func.func @row_sum(%a: memref<4x40xf32>, %out: memref<4xf32>, %x: index, %y: index, %z: index) attributes {bertc.strategy = {k_chunk = 256 : i64, max_piece_elements = 1024 : i64, pack_b = 1 : i64, register_block_cols = 16 : i64, register_block_rows = 6 : i64, transpose = 8 : i64, vector = 16 : i64}} {
  %ta = bufferization.to_tensor %a restrict : memref<4x40xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%ta : tensor<4x40xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %sum = arith.addf %in, %acc : f32
    linalg.yield %sum : f32
  } -> tensor<4xf32>
  bufferization.materialize_in_destination %s in restrict writable %out : (tensor<4xf32>, memref<4xf32>) -> ()
  return
}

// An input read through constant zeros on unit dimensions (a mask of one
// batch, [1, 1, 40], read as (d0, d1) -> (0, 0, d1)) is read as a
// rank-reduced slice [40] instead, so that the op vectorises like any
// other: no scalar linalg.generic is left.
// CHECK-LABEL: func.func @unit_dims(
// CHECK: tensor.extract_slice {{.*}} : tensor<1x1x40xf32> to tensor<40xf32>
// CHECK: arith.addf {{.*}} : vector<1x16xf32>
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @unit_dims(%a: memref<4x40xf32>, %m: memref<1x1x40xf32>, %out: memref<4x40xf32>, %x: index, %y: index, %z: index) attributes {bertc.strategy = {k_chunk = 256 : i64, max_piece_elements = 1024 : i64, pack_b = 1 : i64, register_block_cols = 16 : i64, register_block_rows = 6 : i64, transpose = 8 : i64, vector = 16 : i64}} {
  %ta = bufferization.to_tensor %a restrict : memref<4x40xf32>
  %tm = bufferization.to_tensor %m restrict : memref<1x1x40xf32>
  %e = tensor.empty() : tensor<4x40xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (0, 0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%ta, %tm : tensor<4x40xf32>, tensor<1x1x40xf32>) outs(%e : tensor<4x40xf32>) {
  ^bb0(%in: f32, %mask: f32, %o: f32):
    %sum = arith.addf %in, %mask : f32
    linalg.yield %sum : f32
  } -> tensor<4x40xf32>
  bufferization.materialize_in_destination %s in restrict writable %out : (tensor<4x40xf32>, memref<4x40xf32>) -> ()
  return
}

// A row reduction that reads its position (the first index of a row's
// maximum): the index in each chunk of partial results is offset by the
// chunk's start.
// CHECK-LABEL: func.func @row_index(
// CHECK: scf.for %[[C:.*]] = %c0 to %c32 step %c16 iter_args({{.*}}) -> (tensor<1x16xi32>, vector<1x16xi32>)
// CHECK: %[[AT:.*]] = vector.broadcast %[[C]] : index to vector<16xindex>
// CHECK: arith.addi %[[AT]], {{.*}} : vector<16xindex>
// CHECK: arith.minsi {{.*}} : vector<1x16xi32>
// CHECK: vector.multi_reduction <minsi>, {{.*}} [1] : vector<1x16xi32> to vector<1xi32>
func.func @row_index(%a: memref<4x40xf32>, %out: memref<4xi32>, %x: index, %y: index, %z: index) attributes {bertc.strategy = {k_chunk = 256 : i64, max_piece_elements = 1024 : i64, pack_b = 1 : i64, register_block_cols = 16 : i64, register_block_rows = 6 : i64, transpose = 8 : i64, vector = 16 : i64}} {
  %ta = bufferization.to_tensor %a restrict : memref<4x40xf32>
  %past = arith.constant 40 : i32
  %e = tensor.empty() : tensor<4xi32>
  %f = linalg.fill ins(%past : i32) outs(%e : tensor<4xi32>) -> tensor<4xi32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%ta : tensor<4x40xf32>) outs(%f : tensor<4xi32>) {
  ^bb0(%in: f32, %acc: i32):
    %zero = arith.constant 0.0 : f32
    %i = linalg.index 1 : index
    %at = arith.index_cast %i : index to i32
    %big = arith.cmpf uge, %in, %zero : f32
    %cand = arith.select %big, %at, %past : i32
    %m = arith.minsi %cand, %acc : i32
    linalg.yield %m : i32
  } -> tensor<4xi32>
  bufferization.materialize_in_destination %s in restrict writable %out : (tensor<4xi32>, memref<4xi32>) -> ()
  return
}

// A bf16 matmul with vdpbf16ps (bf16_dot): B's chunk packed into pairs of K
// (rows 2p and 2p + 1 interleaved, as i16 bits; the row past the odd
// K = 7 paired with zeros), then each 8-row block's 16 accumulators carried
// through the 3 full pairs, each updated by one vdpbf16ps per pair with A's
// pair broadcast, then once more for the odd row; the 4 rows past the last
// block one by one.
// CHECK-LABEL: func.func @bf16_pairs(
// CHECK: scf.for {{.*}} -> (tensor<4x64xi16>)
// CHECK: vector.transfer_read {{.*}} {in_bounds = [true, true]} : tensor<7x32xbf16>, vector<2x32xbf16>
// CHECK: vector.interleave {{.*}} : vector<32xi16> -> vector<64xi16>
// CHECK: vector.transfer_read %{{.*}}[%c6, %c0]{{.*}} : tensor<7x32xbf16>, vector<32xbf16>
// CHECK: vector.interleave %{{.*}}, %{{.*}} : vector<32xi16> -> vector<64xi16>
// CHECK: scf.for {{.*}} step %c8
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1 {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>,
// CHECK: vector.bitcast {{.*}} : vector<2xbf16> to vector<1xi32>
// CHECK-COUNT-16: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
// CHECK: arith.extui {{.*}} : i16 to i32
// CHECK-COUNT-16: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
// CHECK: scf.for {{.*}} step %c1
// CHECK-COUNT-4: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
// CHECK-NOT: linalg.matmul
func.func @bf16_pairs(%a: memref<20x7xbf16>, %b: memref<7x32xbf16>, %out: memref<20x32xf32>, %x: index, %y: index, %z: index) attributes {bertc.strategy = {bf16_dot = 1 : i64, k_chunk = 256 : i64, max_piece_elements = 1024 : i64, pack_b = 1 : i64, register_block_cols = 32 : i64, register_block_rows = 8 : i64, transpose = 8 : i64, vector = 16 : i64}} {
  %ta = bufferization.to_tensor %a restrict : memref<20x7xbf16>
  %tb = bufferization.to_tensor %b restrict : memref<7x32xbf16>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<20x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<20x32xf32>) -> tensor<20x32xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<20x7xbf16>, tensor<7x32xbf16>) outs(%f : tensor<20x32xf32>) -> tensor<20x32xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<20x32xf32>, memref<20x32xf32>) -> ()
  return
}

// Without vdpbf16ps, B read transposed: pairs of B[n] adjacent (a 32 x 2
// read per pair), A's pair split into its even and odd halves as f32, two
// FMAs per accumulator and pair.
// CHECK-LABEL: func.func @bf16_pairs_emulated(
// CHECK: vector.transfer_read {{.*}} : tensor<32x8xbf16>, vector<32x2xbf16>
// CHECK: vector.shape_cast {{.*}} : vector<32x2xi16> to vector<64xi16>
// CHECK: arith.shli {{.*}} : vector<16xi32>
// CHECK: arith.andi {{.*}} : vector<16xi32>
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK-NOT: llvm.call_intrinsic
func.func @bf16_pairs_emulated(%a: memref<16x8xbf16>, %b: memref<32x8xbf16>, %out: memref<16x32xf32>, %x: index, %y: index, %z: index) attributes {bertc.strategy = {bf16_dot = 0 : i64, k_chunk = 256 : i64, max_piece_elements = 1024 : i64, pack_b = 1 : i64, register_block_cols = 32 : i64, register_block_rows = 8 : i64, transpose = 8 : i64, vector = 16 : i64}} {
  %ta = bufferization.to_tensor %a restrict : memref<16x8xbf16>
  %tb = bufferization.to_tensor %b restrict : memref<32x8xbf16>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<16x32xf32>) -> tensor<16x32xf32>
  %m = linalg.matmul_transpose_b ins(%ta, %tb : tensor<16x8xbf16>, tensor<32x8xbf16>) outs(%f : tensor<16x32xf32>) -> tensor<16x32xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<16x32xf32>, memref<16x32xf32>) -> ()
  return
}

// A read transposed (a weight gradient): its pairs packed once, before the
// loop over the two panels of B (rows 2p and 2p + 1 of A interleaved, 8
// rows per step, as i32), each register block then broadcasting a row's
// pair from the packed copy.
// CHECK-LABEL: func.func @bf16_pairs_transposed_a(
// CHECK: %[[A:.*]] = scf.for {{.*}} -> (tensor<4x16xi32>)
// CHECK: vector.interleave {{.*}} : vector<8xi16> -> vector<16xi16>
// CHECK: vector.bitcast {{.*}} : vector<16xi16> to vector<8xi32>
// CHECK: scf.for {{.*}} step %c32
// CHECK: vector.transfer_read %[[A]]{{.*}} : tensor<4x16xi32>, vector<1xi32>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
func.func @bf16_pairs_transposed_a(%a: memref<8x16xbf16>, %b: memref<8x64xbf16>, %out: memref<16x64xf32>, %x: index, %y: index, %z: index) attributes {bertc.strategy = {bf16_dot = 1 : i64, k_chunk = 256 : i64, max_piece_elements = 1024 : i64, pack_b = 1 : i64, register_block_cols = 32 : i64, register_block_rows = 8 : i64, transpose = 8 : i64, vector = 16 : i64}} {
  %ta = bufferization.to_tensor %a restrict : memref<8x16xbf16>
  %tb = bufferization.to_tensor %b restrict : memref<8x64xbf16>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %m = linalg.matmul_transpose_a ins(%ta, %tb : tensor<8x16xbf16>, tensor<8x64xbf16>) outs(%f : tensor<16x64xf32>) -> tensor<16x64xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<16x64xf32>, memref<16x64xf32>) -> ()
  return
}

// With `amx`: the 40 rows' first block of 32 (the loop over blocks folded
// away: one block) takes K's first 64 of 70 as one marked block product of
// A's block (32 x 32 pairs x 2) with B's packed pairs (32 pairs x 32
// columns x 2), then its last 3 pairs through the 8-row register blocks;
// the 8 rows past it go through a register block over all 35 pairs.
// CHECK-LABEL: func.func @bf16_amx_blocks(
// CHECK: scf.for {{.*}} -> (tensor<35x64xi16>)
// CHECK: tensor.extract_slice {{.*}} : tensor<40x70xbf16> to tensor<32x64xbf16>
// CHECK: tensor.extract_slice {{.*}} : tensor<35x64xi16> to tensor<32x64xi16>
// CHECK: tensor.expand_shape {{.*}} : tensor<32x64xbf16> into tensor<32x32x2xbf16>
// CHECK: tensor.expand_shape {{.*}} : tensor<32x64xi16> into tensor<32x32x2xi16>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]
// CHECK-SAME: ins({{.*}} : tensor<32x32x2xbf16>, tensor<32x32x2xi16>) outs({{.*}} : tensor<32x32xf32>) attrs = {bertc.amx_tiles}
// CHECK: arith.bitcast {{.*}} : i16 to bf16
// CHECK: } -> tensor<32x32xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c8
// CHECK: scf.for %{{.*}} = %c32 to %c35 step %c1
// CHECK-COUNT-16: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
// CHECK: scf.for %{{.*}} = %c0 to %c35 step %c1
// CHECK-COUNT-16: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
// CHECK-NOT: linalg.matmul
func.func @bf16_amx_blocks(%a: memref<40x70xbf16>, %b: memref<70x32xbf16>, %out: memref<40x32xf32>, %x: index, %y: index, %z: index) attributes {bertc.strategy = {amx = 1 : i64, bf16_dot = 1 : i64, k_chunk = 256 : i64, max_piece_elements = 1024 : i64, pack_b = 1 : i64, register_block_cols = 32 : i64, register_block_rows = 8 : i64, transpose = 8 : i64, vector = 16 : i64}} {
  %ta = bufferization.to_tensor %a restrict : memref<40x70xbf16>
  %tb = bufferization.to_tensor %b restrict : memref<70x32xbf16>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<40x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<40x32xf32>) -> tensor<40x32xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<40x70xbf16>, tensor<70x32xbf16>) outs(%f : tensor<40x32xf32>) -> tensor<40x32xf32>
  bufferization.materialize_in_destination %m in restrict writable %out : (tensor<40x32xf32>, memref<40x32xf32>) -> ()
  return
}
