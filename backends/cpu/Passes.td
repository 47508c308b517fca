//===- Passes.td - The CPU back end's steps ----------------*- tablegen -*-===//
//
// bertc-cpu-workgroup-kernels (backends/cpu/Pipelines.cpp) runs
// bertc-to-destination-passing, bertc-cpu-select-strategy,
// bertc-tile-workgroups, bertc-cpu-vectorize, bertc-bufferize-kernels and
// bertc-distribute-workgroups; bertc-cpu-lower-to-llvm the passes below
// marked "lowering" among MLIR's conversions to the LLVM dialect, ending
// with bertc-cpu-add-entry-points.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_BACKENDS_CPU_PASSES
#define BERTC_BACKENDS_CPU_PASSES

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Strategy and vector code
//===----------------------------------------------------------------------===//

def CpuSelectStrategy : Pass<"bertc-cpu-select-strategy", "mlir::ModuleOp"> {
  let summary = "Choose each CPU kernel's workgroup tiles and vector blocks";
  let description = [{
    On kernels in destination-passing form, writes on every root op its
    `bertc.workgroup_tiles` (about `target-workgroups` workgroups of at
    least 4096 iterations; matmul tiles of at most 192 x 256, multiples of
    the register block, a batched matmul split over its batches before its
    rows and columns; fused tiles of at most 8192 elements) and, with
    `vectorize`, the kernel's `bertc.strategy`:

    ```mlir
    func.func @kernel_0(...) attributes {bertc.strategy = {k_chunk = 256 : i64,
        max_piece_elements = 1024 : i64, register_block_cols = 16 : i64,
        register_block_rows = 6 : i64, transpose = 8 : i64, vector = 16 : i64}}
    ```
    - `register_block_rows` x `register_block_cols`: a matmul's accumulators
      (`vector-bits=256`: 6 x 16, 12 ymm registers fed by 6 broadcasts and
      two loads per step of K; 512: 8 x 32, 16 zmm registers fed by 8
      broadcasts and two loads);
    - `pack_b`: each full panel of B is packed (1) or read in place (0);
      a B read transposed (`*_transpose_b`) is transposed into the packed
      panel;
    - `k_chunk`: K is consumed in chunks this long, so a chunk of B stays in
      L2 while every register block of the workgroup's rows uses it;
    - `vector`: elements per vector piece of other ops along their last
      loop, and the partial results of each row of a row reduction;
    - `transpose`: side of the blocks a transpose moves;
    - `max_piece_elements`: larger static pieces are not unrolled into
      vector code;
    - `bf16_dot`: bf16 matmuls consume K in pairs with vdpbf16ps (1) or
      with two FMAs on each pair widened to f32 (0);
    - `amx`: a bf16 panel whose A is read in place computes its blocks of
      32 rows over the chunk's multiple of 32 of K on AMX tiles (1: a
      `linalg.generic` marked `bertc.amx_tiles`, which bertc-cpu-lower-amx
      lowers), or the same blocks as loops (2: bertc-cpu-lower-amx leaves
      them to linalg's loops; the blocks' layouts checked on CPUs without
      AMX), or not at all (0);
    - on kernels of a `graph.attention`, `attention_rows` and
      `attention_keys`: the query rows of a workgroup and the keys of one
      step (the largest divisors up to these), which keep a block's scores
      in L1.
    - on kernels of a `graph.embedding_grad`, `scatter_column_blocks`: its
      workgroups, each a block of the table's columns (8).
    - on kernels of a `graph.cross_entropy_rows`, `loss_rows`: the rows of
      logits of a workgroup (4: a second read of each row hits the cache).
  }];
  let options = [
    Option<"targetWorkgroups", "target-workgroups", "int64_t", "32",
           "Workgroups to aim for per kernel: enough to keep every thread busy">,
    Option<"vectorize", "vectorize", "bool", "true",
           "Vector code (off: scalar loops, the reference code path)">,
    Option<"vectorBits", "vector-bits", "int64_t", "256",
           "Width of the CPU's vector registers: 256 (AVX2) or 512 (AVX-512)">,
    Option<"bf16Dot", "bf16-dot", "bool", "false",
           "The CPU has AVX512-BF16's vdpbf16ps at that width">,
    Option<"amx", "amx", "int64_t", "0",
           "bf16 blocks on AMX tiles (1), as loops of the same layouts (2), or not (0)">,
    Option<"attentionRows", "attention-rows", "int64_t", "128",
           "Most query rows per attention workgroup">,
    Option<"attentionKeys", "attention-keys", "int64_t", "64",
           "Most keys per step of an attention workgroup">,
    Option<"scatterColumnBlocks", "scatter-column-blocks", "int64_t", "8",
           "Workgroups of an embedding gradient, each a block of the table's columns">,
    Option<"lossRows", "loss-rows", "int64_t", "4",
           "Most rows of logits per workgroup of a cross-entropy's rows">,
  ];
}

def CpuVectorize : Pass<"bertc-cpu-vectorize", "mlir::func::FuncOp"> {
  let summary = "Vector code for each workgroup's tile, as the kernel's strategy says";
  let description = [{
    Inside a workgroup, each linalg op is tiled with scf.for into pieces of
    the shapes the kernel's `bertc.strategy` gives, each loop peeled so that
    its full pieces have static shapes, and those pieces become vector ops:
    matmuls register blocks updated by one rank-1 product per step of K
    (the K loop innermost and split into chunks, N split into panels a
    register block wide whose chunk of B, with `pack_b`, is first copied
    (transposed, for a B read transposed) into a contiguous stack buffer,
    the accumulators hoisted into registers), transposes square blocks,
    row reductions (a reduction along the last loop only, with one
    combiner) row by row into a vector of partial results carried in
    registers and combined across its lanes once per row, other ops rows
    along their last loop. A full panel of a bf16 matmul instead consumes
    K in pairs (backends/cpu/PairedMatmul.cpp): its chunk of B packed into
    pairs of K, each register block's accumulators updated per pair by
    vdpbf16ps or, without `bf16_dot`, two FMAs. The partial pieces at the ends stay scalar loops. A kernel
    without a strategy is left scalar. Runs on tensors, before
    bertc-bufferize-kernels.
  }];
  let dependentDialects = ["mlir::affine::AffineDialect", "mlir::arith::ArithDialect",
                           "mlir::LLVM::LLVMDialect", "mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect", "mlir::vector::VectorDialect"];
}

//===----------------------------------------------------------------------===//
// Lowering to the LLVM dialect
//===----------------------------------------------------------------------===//

def CpuLowerAmx : Pass<"bertc-cpu-lower-amx", "mlir::func::FuncOp"> {
  let summary = "bf16 block products marked bertc.amx_tiles to AMX tile operations";
  let description = [{
    Lowering, on buffers. Each `linalg.generic` bertc-cpu-vectorize marked
    `bertc.amx_tiles` (C[m][n] += A3[m][p][h] B3[p][n][h]: A's block of
    rows x pairs x 2 bf16, B's packed pairs x cols x 2 bf16 bits, C rows x
    cols f32; rows and cols multiples of 16, pairs of 16) becomes AMX
    operations: C's (rows / 16) x (cols / 16) tiles of 16 x 16 f32 loaded
    once, then for every 32 of K one tile of A (16 rows x 32 bf16) per 16
    rows and one of B (16 pairs x 16 columns) per 16 columns, and a
    `amx.tile_mulf` (tdpbf16ps) per accumulator tile, unrolled, and the
    accumulators stored back. Each operand is first viewed as a 2-D buffer
    whose last size is its row stride (MLIR 19's AMX lowering takes a
    tile's row stride from that size). LLVM configures the tiles in each
    kernel's prologue (ldtilecfg) and releases them at its end; a marked op
    of another shape is an error. In a kernel whose strategy has `amx` 2
    the marks are dropped and the blocks become loops.
  }];
  let dependentDialects = ["mlir::amx::AMXDialect", "mlir::memref::MemRefDialect",
                           "mlir::vector::VectorDialect"];
}

def CpuHoistAccumulators : Pass<"bertc-cpu-hoist-accumulators", "mlir::func::FuncOp"> {
  let summary = "Keep matmul accumulators in registers across the K loop";
  let description = [{
    Lowering. The vector transfers that read and write a register block in
    every step of K move out of the loop (MLIR's
    `hoistRedundantVectorTransfers`), on buffers.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::vector::VectorDialect"];
}

def CpuLowerVectors : Pass<"bertc-cpu-lower-vectors", "mlir::ModuleOp"> {
  let summary = "Vector contractions to outer products, transfers to loads and stores";
  let description = [{
    Lowering. Contractions become outer products (FMAs on registers),
    transposes shuffles, multi-reductions inner-parallel, transfers of rank
    above one unrolled to rank one, masks, broadcasts and shape casts their
    plain forms, ready for the vector dialect's conversion to LLVM.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect", "mlir::vector::VectorDialect"];
}

def CpuExpandBf16 : Pass<"bertc-cpu-expand-bf16", "mlir::ModuleOp"> {
  let summary = "f32-bf16 conversions as integer shifts, rounding to nearest even";
  let description = [{
    After the linalg ops left became loops: `arith.truncf` to bf16 and
    `arith.extf` from it, scalar or vector, become bitcasts, shifts and the
    rounding to nearest even in integer ops, on every CPU (LLVM would call
    a runtime library's `__truncsfbf2` where the CPU has no conversion
    instruction).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

def CpuHoistStaticAllocas : Pass<"bertc-cpu-hoist-static-allocas", "mlir::func::FuncOp"> {
  let summary = "Move fixed-size stack buffers from loops to the kernel's entry";
  let description = [{
    Lowering. A `memref.alloca` of static shape inside a loop (the scratch
    of a vector transfer) would grow the stack at every iteration; it moves
    to the start of the kernel.
  }];
}

def CpuApproximateMath : Pass<"bertc-cpu-approximate-math", "mlir::ModuleOp"> {
  let summary = "f32 transcendental functions as polynomials";
  let description = [{
    Lowering. MLIR's polynomial approximations of tanh, erf, exp, log, ...
    in float32 (vectorisable, accurate to a few ulp); the rest become libm
    calls later.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

def CpuAddEntryPoints : Pass<"bertc-cpu-add-entry-points", "mlir::ModuleOp"> {
  let summary = "Add the kernel ABI's entry points and the kernel table";
  let description = [{
    Lowering, last. For each kernel defined in the module (an `llvm.func`
    with a body, in kernel order), adds
    `void kernel_N_entry(ptr bindings, i64 x, i64 y, i64 z)`, which loads
    each binding's pointer and calls the kernel, and the globals
    `bertc_kernels` (the entries, in order) and `bertc_kernel_count`, as
    backends/cpu/CpuBackend.h documents.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // BERTC_BACKENDS_CPU_PASSES
