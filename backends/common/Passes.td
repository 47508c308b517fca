//===- Passes.td - Back-end steps both targets share -------*- tablegen -*-===//
//
// The kernel module that bertc-build-program's outlining gives
// (`func.func @kernel_N(tensors) -> tensors`) becomes workgroup kernels over
// memref bindings in four steps, the strategy step of the target running
// between the first and the second (backends/common/Strategy.h).
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_BACKENDS_COMMON_PASSES
#define BERTC_BACKENDS_COMMON_PASSES

include "mlir/Pass/PassBase.td"

def ToDestinationPassing : Pass<"bertc-to-destination-passing", "mlir::ModuleOp"> {
  let summary = "Rewrite each kernel over tensors as a kernel over its buffer bindings";
  let description = [{
    Every `func.func @k(tensors) -> tensors` of the module becomes
    `func.func @k(input memrefs, output memrefs, %x, %y, %z: index)`: the
    inputs are read through `bufferization.to_tensor`, each result is
    written to its output binding with
    `bufferization.materialize_in_destination`, and the last three
    arguments are the workgroup's position in the grid.

    ```mlir
    func.func @kernel_0(%a: tensor<4xf32>) -> tensor<4xf32>
    ```
    becomes
    ```mlir
    func.func @kernel_0(%a: memref<4xf32>, %out: memref<4xf32>, %x: index, %y: index, %z: index)
    ```
  }];
  let dependentDialects = ["mlir::bufferization::BufferizationDialect"];
}

def LowerKernelOps : Pass<"bertc-lower-kernel-ops", "mlir::func::FuncOp"> {
  let summary = "Lower the graph ops left in a kernel with its strategy's blocks";
  let description = [{
    The graph ops with `LoweredInKernel` reach the back end as kernels of
    their own; once the strategy has chosen their blocks (in the kernel's
    `bertc.strategy`) each becomes one `scf.forall` of workgroups:
    - `graph.attention`: blocks of `attention_rows` query rows (128 without
      a strategy), each walking the keys in blocks of `attention_keys` (64;
      online softmax);
    - `graph.embedding_grad`: `scatter_column_blocks` blocks of the table's
      columns (8), each zeroed and then given each position's gradient row
      in order (ids may repeat);
    - `graph.cross_entropy_rows`: blocks of `loss_rows` rows (4), each row's
      maximum, sum of exponentials, loss and gradient computed while the
      block is in cache.
    The result is canonicalized. Other kernels are left alone.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
                           "mlir::math::MathDialect", "mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect"];
}

def TileWorkgroups : Pass<"bertc-tile-workgroups", "mlir::func::FuncOp"> {
  let summary = "Tile each kernel's roots into workgroups, as their strategy says";
  let description = [{
    Tiles every root op of a kernel (an op whose result it writes) that
    carries `bertc.workgroup_tiles` into an `scf.forall` whose iterations
    are the workgroups, its producers fused into the tile, each producer's
    scratch one tile. A kernel of several roots (horizontal fusion) gives
    each root its own range of a one-dimensional grid, guarded by the
    workgroup id, and records that grid as `bertc.grid`. Roots without the
    attribute run whole in one workgroup.
  }];
  let dependentDialects = ["mlir::affine::AffineDialect", "mlir::arith::ArithDialect",
                           "mlir::scf::SCFDialect", "mlir::tensor::TensorDialect"];
}

def BufferizeKernels : Pass<"bertc-bufferize-kernels", "mlir::func::FuncOp"> {
  let summary = "Bufferize a workgroup kernel; its scratch space on the stack";
  let description = [{
    One-shot bufferization of a kernel in destination-passing form: tensors
    become views of its bindings, and what still needs storage (a fused
    producer's tile) becomes a stack buffer at the kernel's entry, in the
    memory space its `bertc.scratch_space` names (default: the default
    one). Kernels allocate nothing on the heap; copies stay `linalg.copy`.
  }];
  let dependentDialects = ["mlir::bufferization::BufferizationDialect",
                           "mlir::linalg::LinalgDialect", "mlir::memref::MemRefDialect"];
}

def DistributeWorkgroups : Pass<"bertc-distribute-workgroups", "mlir::func::FuncOp"> {
  let summary = "Replace a kernel's workgroup loop by the workgroup ids; record its grid";
  let description = [{
    The kernel's outermost `scf.forall` (its workgroups, on buffers now)
    is replaced by the one iteration of workgroup (%x, %y, %z), its last
    three arguments, and the loop's trip counts become the kernel's
    `bertc.grid`; a kernel without a loop has grid 1 x 1 x 1 (one that
    already has a grid, horizontally fused, keeps it).
  }];
  let dependentDialects = ["mlir::affine::AffineDialect"];
}

#endif // BERTC_BACKENDS_COMMON_PASSES
