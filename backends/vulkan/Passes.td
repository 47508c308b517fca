//===- Passes.td - The Vulkan back end's steps -------------*- tablegen -*-===//
//
// bertc-vulkan-workgroup-kernels (backends/vulkan/Pipelines.cpp) runs
// bertc-to-destination-passing, bertc-vulkan-select-strategy,
// bertc-tile-workgroups, bertc-bufferize-kernels,
// bertc-distribute-workgroups, then the steps below up to
// bertc-vulkan-distribute-invocations; bertc-vulkan-to-spirv ends with
// bertc-vulkan-convert-to-spirv and MLIR's SPIR-V ABI and VCE passes.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_BACKENDS_VULKAN_PASSES
#define BERTC_BACKENDS_VULKAN_PASSES

include "mlir/Pass/PassBase.td"

def VulkanSelectStrategy : Pass<"bertc-vulkan-select-strategy", "mlir::ModuleOp"> {
  let summary = "Choose each Vulkan kernel's workgroup tiles, invocations and staging";
  let description = [{
    On kernels in destination-passing form, writes on every root op its
    `bertc.workgroup_tiles` (about `target-workgroups` workgroups, tiles that
    divide their loops so every scratch buffer is static, at least one
    iteration per invocation, matmul tiles of at most 32 x 32, fused tiles
    of at most 512 elements: each workgroup keeps its producers' tiles in
    workgroup memory), the kernel's `bertc.scratch_space` (SPIR-V's
    Workgroup storage class) and its `bertc.strategy`:

    ```mlir
    bertc.strategy = {invocations = 64 : i64, staged_elements_max = 1024 : i64,
                      staged_k_chunk = 32 : i64, staged_tile_min = 16 : i64,
                      subgroup_cluster = 8 : i64}
    ```
    - `invocations`: per workgroup (a power of two);
    - `subgroup_cluster`: lanes of a subgroup that combine a reduction's
      partial results by shuffles in the kernel's second module (0 or 1:
      no second module);
    - `staged_tile_min`, `staged_elements_max`, `staged_k_chunk`: a matmul
      tile with both sides at least the first stages operand pieces of at
      most the second many elements through workgroup memory, K in chunks
      of at most the third;
    - on kernels of a `graph.attention`, `attention_rows` and
      `attention_keys` (32 and 32: a block's scores, and the workgroup's
      other tiles, stay within workgroup memory).
    - on kernels of a `graph.embedding_grad`, `scatter_column_blocks`: its
      workgroups, each a block of the table's columns (8).
    - on kernels of a `graph.cross_entropy_rows`, `loss_rows`: the rows of
      logits of a workgroup (4).
  }];
  let options = [
    Option<"targetWorkgroups", "target-workgroups", "int64_t", "1024",
           "Workgroups to aim for per kernel">,
    Option<"invocations", "invocations", "int64_t", "64", "Invocations per workgroup">,
    Option<"subgroupCluster", "subgroup-cluster", "int64_t", "8",
           "Lanes that combine a reduction by subgroup shuffles (0: none)">,
    Option<"attentionRows", "attention-rows", "int64_t", "32",
           "Most query rows per attention workgroup">,
    Option<"attentionKeys", "attention-keys", "int64_t", "32",
           "Most keys per step of an attention workgroup">,
    Option<"scatterColumnBlocks", "scatter-column-blocks", "int64_t", "8",
           "Workgroups of an embedding gradient, each a block of the table's columns">,
    Option<"lossRows", "loss-rows", "int64_t", "4",
           "Most rows of logits per workgroup of a cross-entropy's rows">,
  ];
  let dependentDialects = ["mlir::spirv::SPIRVDialect"];
}

def VulkanOutlineGpuKernels : Pass<"bertc-vulkan-outline-gpu-kernels", "mlir::ModuleOp"> {
  let summary = "Move each workgroup kernel into a gpu.module of its own";
  let description = [{
    Each `func.func @kernel_N(memrefs..., %x, %y, %z)` becomes a kernel
    `gpu.func` in `gpu.module @kernel_N`: its memrefs storage buffers at
    descriptor set 0 (binding i for argument i), the workgroup ids read from
    `gpu.block_id`, its workgroup size its strategy's `invocations` (the
    entry point ABI), its scratch buffers workgroup variables
    (`memref.alloc`); its `bertc.grid` and `bertc.strategy` move with it.
    The module becomes a GPU container with the shaders' target (SPIR-V 1.3,
    Shader and Int64).
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::memref::MemRefDialect",
                           "mlir::spirv::SPIRVDialect"];
}

def VulkanSubgroupVariants : Pass<"bertc-vulkan-subgroup-variants", "mlir::ModuleOp"> {
  let summary = "Give each kernel a second module that may use subgroup shuffles";
  let description = [{
    After the kernels' gpu.modules, in order, appends a copy of each whose
    strategy's `subgroup_cluster` is above 1, named `<kernel>_subgroups`,
    with `bertc.subgroups_of` (its kernel's index) and a target that allows
    subgroup shuffles among that many lanes.
    bertc-vulkan-distribute-reductions combines its reductions through
    shuffles, or drops it if it has none to combine.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::spirv::SPIRVDialect"];
}

def VulkanDistributeReductions : Pass<"bertc-vulkan-distribute-reductions", "mlir::ModuleOp"> {
  let summary = "Stage matmuls through workgroup memory; spread small reductions";
  let description = [{
    In every kernel (linalg ops on buffers): a matmul tile large enough
    (strategy `staged_*`) runs its K loop in chunks, the pieces of A and B of
    each chunk copied into workgroup memory first. A reduction to fewer
    outputs than half the invocations is shared by several invocations per
    output, each folding a strided part into a partial result in workgroup
    memory, one then folding those; in a second module (bertc.subgroups_of)
    clusters of lanes combine partial results by xor shuffles. Second
    modules with no reduction combined that way are erased.
  }];
  let dependentDialects = ["mlir::affine::AffineDialect", "mlir::arith::ArithDialect",
                           "mlir::gpu::GPUDialect", "mlir::linalg::LinalgDialect",
                           "mlir::memref::MemRefDialect", "mlir::scf::SCFDialect",
                           "mlir::spirv::SPIRVDialect"];
}

def VulkanDistributeInvocations
    : Pass<"bertc-vulkan-distribute-invocations", "mlir::gpu::GPUFuncOp"> {
  let summary = "Spread each workgroup's parallel loops over its invocations";
  let description = [{
    On kernels whose linalg ops are parallel loop nests: each outermost nest
    runs cyclically over the strategy's invocations (iteration i on
    invocation i mod n, the nests inside serial), every other op that writes
    memory runs in invocation 0, and workgroup barriers separate the steps.
    Then a loop's single-element accumulator is carried in a register,
    innermost loops of static trip count are unrolled by 4, and the kernel's
    workgroup memory is recorded as `bertc.workgroup_memory` (bytes).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::gpu::GPUDialect",
                           "mlir::memref::MemRefDialect", "mlir::scf::SCFDialect"];
}

def VulkanApproximateErf : Pass<"bertc-vulkan-approximate-erf", "mlir::ModuleOp"> {
  let summary = "erf (the exact GELU's) as a polynomial";
  let description = [{
    SPIR-V's GLSL instructions have no erf: MLIR's polynomial approximation
    in float32 replaces it.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect"];
}

def VulkanConvertToSpirv : Pass<"bertc-vulkan-convert-to-spirv", "mlir::ModuleOp"> {
  let summary = "Each gpu.module to a spirv.module in its place";
  let description = [{
    As MLIR's `convert-gpu-to-spirv` for Vulkan (memory spaces to storage
    classes, then the gpu, scf, arith, memref, func and math ops), each
    module with its own target, but without keeping the gpu.module, and with
    `gpu.lane_id` as the SubgroupLocalInvocationId built-in, which MLIR 19
    does not lower. Every barrier also orders storage-buffer accesses
    (`UniformMemory`): a kernel writes its outputs and reads them back.
  }];
  let dependentDialects = ["mlir::spirv::SPIRVDialect"];
}

#endif // BERTC_BACKENDS_VULKAN_PASSES
