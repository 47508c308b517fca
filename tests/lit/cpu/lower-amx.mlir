// bf16 block products marked bertc.amx_tiles to AMX tile operations.
// RUN: bertc-opt --bertc-cpu-lower-amx --split-input-file --verify-diagnostics %s | FileCheck %s

#a = affine_map<(m, n, p, h) -> (m, p, h)>
#b = affine_map<(m, n, p, h) -> (p, n, h)>
#c = affine_map<(m, n, p, h) -> (m, n)>

// 32 rows x 32 columns over K = 96: each operand viewed as rows by its row
// stride (A's 128, B's 64, C's 48), C's 2 x 2 accumulator tiles loaded
// once, then per 32 of K two tiles of A, two of B and four tdpbf16ps,
// unrolled; the accumulators stored back.
// CHECK-LABEL: func.func @block(
// CHECK: %[[A:.*]] = memref.collapse_shape {{.*}} into memref<32x96xbf16, strided<[128, 1], offset: ?>>
// CHECK: %[[ABASE:.*]], %[[AOFF:.*]], %{{.*}}:2, %[[ASTRIDE:.*]]:2 = memref.extract_strided_metadata %[[A]]
// CHECK: %[[AV:.*]] = memref.reinterpret_cast %[[ABASE]] to offset: [%[[AOFF]]], sizes: [32, %[[ASTRIDE]]#0], strides: [%[[ASTRIDE]]#0, 1]
// CHECK: %[[BV:.*]] = memref.reinterpret_cast {{.*}} : memref<i16> to memref<48x?xi16, strided<[?, 1], offset: ?>>
// CHECK: %[[CV:.*]] = memref.reinterpret_cast {{.*}} : memref<f32> to memref<32x?xf32, strided<[?, 1], offset: ?>>
// CHECK-COUNT-4: amx.tile_load %[[CV]]{{.*}} into vector<16x16xf32>
// CHECK: amx.tile_load %[[AV]][%c0, %c0] {{.*}} into vector<16x32xbf16>
// CHECK: amx.tile_load %[[AV]][%c16, %c0] {{.*}} into vector<16x32xbf16>
// CHECK: amx.tile_load %[[BV]][%c0, %c0] {{.*}} into vector<16x32xbf16>
// CHECK: amx.tile_load %[[BV]][%c0, %c32] {{.*}} into vector<16x32xbf16>
// CHECK-COUNT-4: amx.tile_mulf
// CHECK: amx.tile_load %[[AV]][%c0, %c32]
// CHECK: amx.tile_load %[[AV]][%c16, %c32]
// CHECK: amx.tile_load %[[BV]][%c16, %c0]
// CHECK: amx.tile_load %[[BV]][%c16, %c32]
// CHECK-COUNT-4: amx.tile_mulf
// CHECK: amx.tile_load %[[AV]][%c0, %c64]
// CHECK-COUNT-4: amx.tile_mulf
// CHECK-COUNT-4: amx.tile_store %[[CV]]
// CHECK-NOT: linalg.generic
func.func @block(%a: memref<32x96xbf16, strided<[128, 1], offset: ?>>, %b: memref<48x64xi16>, %c: memref<32x32xf32, strided<[48, 1], offset: ?>>) attributes {bertc.strategy = {amx = 1 : i64, bf16_dot = 1 : i64, vector = 16 : i64}} {
  %a3 = memref.expand_shape %a [[0], [1, 2]] output_shape [32, 48, 2] : memref<32x96xbf16, strided<[128, 1], offset: ?>> into memref<32x48x2xbf16, strided<[128, 2, 1], offset: ?>>
  %b3 = memref.expand_shape %b [[0], [1, 2]] output_shape [48, 32, 2] : memref<48x64xi16> into memref<48x32x2xi16>
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%a3, %b3 : memref<32x48x2xbf16, strided<[128, 2, 1], offset: ?>>, memref<48x32x2xi16>) outs(%c : memref<32x32xf32, strided<[48, 1], offset: ?>>) attrs = {bertc.amx_tiles} {
  ^bb0(%x: bf16, %y: i16, %acc: f32):
    %fx = arith.extf %x : bf16 to f32
    %by = arith.bitcast %y : i16 to bf16
    %fy = arith.extf %by : bf16 to f32
    %p = arith.mulf %fx, %fy : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#a = affine_map<(m, n, p, h) -> (m, p, h)>
#b = affine_map<(m, n, p, h) -> (p, n, h)>
#c = affine_map<(m, n, p, h) -> (m, n)>

// The strategy's `amx` 2: the mark is dropped, the block stays a loop nest
// to be.
// CHECK-LABEL: func.func @as_loops(
// CHECK: linalg.generic
// CHECK-NOT: bertc.amx_tiles
// CHECK-NOT: amx.
func.func @as_loops(%a3: memref<32x16x2xbf16>, %b3: memref<16x16x2xi16>, %c: memref<32x16xf32>) attributes {bertc.strategy = {amx = 2 : i64, vector = 16 : i64}} {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%a3, %b3 : memref<32x16x2xbf16>, memref<16x16x2xi16>) outs(%c : memref<32x16xf32>) attrs = {bertc.amx_tiles} {
  ^bb0(%x: bf16, %y: i16, %acc: f32):
    %fx = arith.extf %x : bf16 to f32
    %by = arith.bitcast %y : i16 to bf16
    %fy = arith.extf %by : bf16 to f32
    %p = arith.mulf %fx, %fy : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#a = affine_map<(m, n, p, h) -> (m, p, h)>
#b = affine_map<(m, n, p, h) -> (p, n, h)>
#c = affine_map<(m, n, p, h) -> (m, n)>

// A marked block of 24 rows (not whole tiles) is an error.
func.func @not_tiles(%a3: memref<24x16x2xbf16>, %b3: memref<16x16x2xi16>, %c: memref<24x16xf32>) attributes {bertc.strategy = {amx = 1 : i64, vector = 16 : i64}} {
  // expected-error @+1 {{an AMX block needs rows, cols and pairs in multiples of 16}}
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%a3, %b3 : memref<24x16x2xbf16>, memref<16x16x2xi16>) outs(%c : memref<24x16xf32>) attrs = {bertc.amx_tiles} {
  ^bb0(%x: bf16, %y: i16, %acc: f32):
    %fx = arith.extf %x : bf16 to f32
    %by = arith.bitcast %y : i16 to bf16
    %fy = arith.extf %by : bf16 to f32
    %p = arith.mulf %fx, %fy : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
