//===- Passes.td - bertc's passes --------------------------*- tablegen -*-===//
#ifndef BERTC_PASSES
#define BERTC_PASSES

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Differentiation
//===----------------------------------------------------------------------===//

def Differentiate : Pass<"bertc-differentiate", "mlir::func::FuncOp"> {
  let summary = "Append the reverse-mode gradient of the objective";
  let description = [{
    For a function whose `bertc.loss` names one of its `graph.output`s, walks
    the graph backwards from that output, asking each op for its
    vector-Jacobian product through `DifferentiableOp`, accumulates the
    gradients of values used more than once (tied weights included), and
    names the gradient of each parameter with `graph.output "grad:NAME"`.
    Functions without `bertc.loss` are left alone; an op on the path to the
    loss that cannot be differentiated is an error at its location.

    ```mlir
    %w = graph.parameter "w" normal std = 1.0 : tensor<4xf32>
    %s = graph.sum %w axes [] : tensor<4xf32> -> tensor<f32>
    graph.output "loss" %s : tensor<f32>
    ```
    gains
    ```mlir
    %one = graph.constant 1.000000e+00 : tensor<f32>
    %g = graph.broadcast %one to [4] : tensor<1xf32> -> tensor<4xf32>   // after a reshape
    graph.output "grad:w" %g : tensor<4xf32>
    ```
  }];
  let dependentDialects = ["bertc::graph::GraphDialect"];
}

def TagKernelKinds : Pass<"bertc-tag-kernel-kinds", "mlir::func::FuncOp"> {
  let summary = "Record each op's kind of work (matmul, layernorm, ...) in its location";
  let description = [{
    Wraps the location of every op that implements `KernelKindOp` in a
    `NameLoc` "kind:<kind>". Ops later built from it (its gradient by
    `bertc-differentiate`, its linalg ops by the lowering) reuse its
    location, so each kernel's kind of work can be told at the end
    (`kernelKindOf` in `passes/KernelKinds.h`) for `bertc bench`'s
    time-per-kind table. Runs first, before differentiation.
  }];
  let dependentDialects = ["bertc::graph::GraphDialect"];
}

def StepLossCounts : Pass<"bertc-step-loss-counts", "mlir::func::FuncOp"> {
  let summary = "Divide each cross-entropy by the labelled rows of the whole step";
  let description = [{
    In a function with `bertc.loss`, every `graph.cross_entropy` over labels
    that are a `graph.input` L gets the rank-0 input `labelled_rows:L` as
    its `count`, so that a step whose batch is split into micro-batches or
    over ranks, each part divided by the rows of all of them, sums to the
    losses and gradients of the whole batch. The input carries
    `bertc.labelled_rows = {labels, ignore_index, classes}`, which the
    program records: the runtime counts the rows of L whose label is not
    `ignore_index` and lies in [0, classes) (this part's, or all parts'
    when told them). A cross-entropy over computed labels keeps counting its
    own. Run before differentiation, so that the gradients use the count.

    ```mlir
    %labels = graph.input "label" : tensor<8xi32>
    %loss = graph.cross_entropy %logits, %labels : tensor<8x2xf32>, tensor<8xi32> -> tensor<f32>
    ```
    becomes
    ```mlir
    %rows = graph.input "labelled_rows:label" {bertc.labelled_rows = {classes = 2 : i64, ignore_index = -100 : i64, labels = "label"}} : tensor<f32>
    %loss = graph.cross_entropy %logits, %labels count %rows : tensor<8x2xf32>, tensor<8xi32>, tensor<f32> -> tensor<f32>
    ```
  }];
  let dependentDialects = ["bertc::graph::GraphDialect"];
}

def AccumulateGradients : Pass<"bertc-accumulate-gradients", "mlir::func::FuncOp"> {
  let summary = "Sum each parameter's gradient over a step's micro-batches in a buffer";
  let description = [{
    In a function with `bertc.loss`, after differentiation and before the
    optimizer: each output `grad:P` with value `g` becomes `g + acc *
    accumulate`, where `acc` is the persistent `graph.state
    "gradient.P"` (marked `bertc.gradient_buffer`: kept between runs, never
    saved) into which the sum is assigned, and `accumulate` the rank-0
    input that the runtime sets to 0 for a step's first micro-batch and 1
    for the others. The optimizer then reads the sums; the program records
    where its dispatches begin, so that the runtime can run the gradients K
    times and the update once.

    ```mlir
    graph.output "grad:w" %g : tensor<4x8xf32>
    ```
    becomes
    ```mlir
    %keep = graph.input "accumulate" : tensor<f32>
    %acc = graph.state "gradient.w" {bertc.gradient_buffer} : tensor<4x8xf32>
    %kept = graph.mul %acc, %keep : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
    %sum = graph.add %g, %kept : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
    graph.assign %acc, %sum : tensor<4x8xf32>
    graph.output "grad:w" %sum : tensor<4x8xf32>
    ```
  }];
  let dependentDialects = ["bertc::graph::GraphDialect"];
}

def KeyDropout : Pass<"bertc-key-dropout", "mlir::func::FuncOp"> {
  let summary = "Give every dropout of a training graph its random key";
  let description = [{
    In a function with `bertc.loss`, adds the runtime inputs `seed`, `step`
    (`tensor<i32>`) and `dropout` (a rank-0 float: the factor the model's
    rates are multiplied by, 0 to turn dropout off) and makes them the key of
    every `graph.dropout`, numbering the dropouts' sites 1, 2, ... in order.
    Run before differentiation, so that gradients reuse the forward's keys.

    ```mlir
    %y = graph.dropout %x rate 1.000000e-01 : tensor<4xf32>
    ```
    becomes
    ```mlir
    %seed = graph.input "seed" : tensor<i32>
    %step = graph.input "step" : tensor<i32>
    %scale = graph.input "dropout" : tensor<f32>
    %y = graph.dropout %x rate 1.000000e-01 site 1 key(%seed, %step, %scale) : tensor<4xf32>, tensor<i32>, tensor<i32>, tensor<f32>
    ```
  }];
  let dependentDialects = ["bertc::graph::GraphDialect"];
}

def FormAttention : Pass<"bertc-form-attention", "mlir::func::FuncOp"> {
  let summary = "Form graph.attention from the ops of scaled dot-product attention";
  let description = [{
    Replaces `matmul(dropout(softmax(scale(matmul(q, k, transpose_b), s) +
    bias, axis = -1)), v)` (dropout and scale optional; each intermediate
    used once) by one `graph.attention`, which is lowered to a single
    kernel that never materialises the score matrix. The attention takes
    the dropout's rate, site and key, so run after `bertc-key-dropout`; run
    before differentiation, so that its gradient recomputes the
    probabilities. Part of `--fusion=default` only.

    ```mlir
    %s = graph.matmul %q, %k {transpose_b = true} : ... -> tensor<2x4x16x16xf32>
    %t = graph.scale %s by 1.250000e-01 : tensor<2x4x16x16xf32>
    %u = graph.add %t, %bias : tensor<2x4x16x16xf32>, tensor<2x1x1x16xf32> -> tensor<2x4x16x16xf32>
    %p = graph.softmax %u axis 3 : tensor<2x4x16x16xf32>
    %o = graph.matmul %p, %v : tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32> -> tensor<2x4x16x8xf32>
    ```
    becomes
    ```mlir
    %o = graph.attention %q, %k, %v, %bias scale 1.250000e-01 rate 0.000000e+00 : ... -> tensor<2x4x16x8xf32>
    ```
  }];
  let dependentDialects = ["bertc::graph::GraphDialect"];
}

def FuseCrossEntropy : Pass<"bertc-fuse-cross-entropy", "mlir::func::FuncOp"> {
  let summary = "Compute a cross-entropy and its gradient in one op";
  let description = [{
    After differentiation, replaces a `graph.cross_entropy` and the
    `graph.cross_entropy_grad` of the same logits and labels by one
    `graph.cross_entropy_with_grad` at the forward op's place, when the
    loss's gradient is known there (computed before it, or a constant, as
    for a loss that is a sum of terms). Its lowering reads the logits once
    for both. Part of `--fusion=default` only.

    ```mlir
    %l = graph.cross_entropy %logits, %labels : tensor<8x30522xf32>, tensor<8xi32> -> tensor<f32>
    %g = graph.constant 1.000000e+00 : tensor<f32>
    %d = graph.cross_entropy_grad %logits, %labels, %g : tensor<8x30522xf32>, tensor<8xi32>, tensor<f32>
    ```
    becomes
    ```mlir
    %g = graph.constant 1.000000e+00 : tensor<f32>
    %l, %d = graph.cross_entropy_with_grad %logits, %labels, %g : tensor<8x30522xf32>, tensor<8xi32>, tensor<f32>
    ```
  }];
  let dependentDialects = ["bertc::graph::GraphDialect"];
}

def AppendOptimizer : Pass<"bertc-append-optimizer", "mlir::func::FuncOp"> {
  let summary = "Append global-norm clipping and AdamW to a differentiated graph";
  let description = [{
    For each parameter with a gradient output `grad:NAME`, adds its AdamW
    moments as `graph.state "optimizer.adam_m.NAME"` and
    `"optimizer.adam_v.NAME"`, one `graph.adamw` and `graph.assign`s of the
    new parameter and moments. The gradients are clipped by their global
    norm (the sum of their squares is computed once and given to every
    update). The learning rate and the step number are the runtime inputs
    `learning_rate` and `step`, so the schedule lives in the runtime. Weight
    decay is not applied to biases and LayerNorm weights (names ending in
    `.bias` or containing `LayerNorm`).

    ```mlir
    %p2, %m2, %v2 = graph.adamw %w, %gw, %m, %v norm %ss lr %lr step %t {...}
    graph.assign %w, %p2 : tensor<4xf32>
    graph.assign %m, %m2 : tensor<4xf32>
    graph.assign %v, %v2 : tensor<4xf32>
    ```
  }];
  let options = [
    Option<"biasCorrection", "bias-correction", "bool", "true",
           "Bias-corrected moments (PyTorch/HuggingFace AdamW); false: the original BERT optimizer">,
    Option<"beta1", "beta1", "double", "0.9", "First-moment decay">,
    Option<"beta2", "beta2", "double", "0.999", "Second-moment decay">,
    Option<"epsilon", "eps", "double", "1e-6", "Added to the root of the second moment">,
    Option<"weightDecay", "weight-decay", "double", "0.01", "Decoupled weight decay">,
    Option<"maxNorm", "max-norm", "double", "1.0", "Clip the gradients' global norm to this (0: off)">
  ];
  let dependentDialects = ["bertc::graph::GraphDialect"];
}

def MixedPrecision : Pass<"bertc-mixed-precision", "mlir::func::FuncOp"> {
  let summary = "Multiply in bf16: every f32 matmul reads bf16 operands, accumulates in f32";
  let description = [{
    Each `graph.matmul` of f32 operands (forward and gradients alike) reads
    both as bf16 and still gives f32. An operand that is a parameter is read
    as its `graph.parameter_copy` (one per parameter, kept by the runtime
    and, in a training step, re-assigned from the converted update right
    after the parameter's own `graph.assign`, in the optimizer's pass over
    the weights); any other operand is converted where it is computed
    (`graph.convert`), through reshapes and transposes, so that a producer
    whose value only matmuls read writes bf16 alone. Everything else
    (LayerNorm, softmax, attention, the losses, AdamW and its moments)
    stays f32.

    ```mlir
    %y = graph.matmul %x, %w {transpose_b = true} : tensor<8x4xf32>, tensor<6x4xf32> -> tensor<8x6xf32>
    // becomes
    %w16 = graph.parameter_copy %w : tensor<6x4xf32> -> tensor<6x4xbf16>
    %x16 = graph.convert %x : tensor<8x4xf32> -> tensor<8x4xbf16>
    %y = graph.matmul %x16, %w16 {transpose_b = true} : tensor<8x4xbf16>, tensor<6x4xbf16> -> tensor<8x6xf32>
    ```
  }];
  let dependentDialects = ["bertc::graph::GraphDialect"];
}

//===----------------------------------------------------------------------===//
// Graph to linalg
//===----------------------------------------------------------------------===//

def ConvertGraphToLinalg : Pass<"bertc-convert-graph-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Lower graph compute ops to linalg on tensors";
  let description = [{
    Each graph op becomes linalg ops on tensors (with tensor reshapes and
    slices where they are views). Parameters, inputs, outputs and constants
    stay graph ops: they are the graph's boundary. Dropout is the identity
    here (inference). Ops with `LoweredInKernel` (`graph.attention`,
    `graph.embedding_grad`, and the `graph.cross_entropy_rows` that a
    `graph.cross_entropy_with_grad` lowers to) stay too: each becomes a dispatch region of its own, which
    the back end lowers with the blocks its strategy chooses.

    ```mlir
    %y = graph.tanh %x : tensor<2x4xf32>
    ```
    becomes
    ```mlir
    %e = tensor.empty() : tensor<2x4xf32>
    %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%x : tensor<2x4xf32>) outs(%e : tensor<2x4xf32>) {
      ^bb0(%in: f32, %out: f32):
        %t = math.tanh %in : f32
        linalg.yield %t : f32
    } -> tensor<2x4xf32>
    ```
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::scf::SCFDialect", "mlir::tensor::TensorDialect"
  ];
}

//===----------------------------------------------------------------------===//
// Fusion
//===----------------------------------------------------------------------===//

def FuseElementwise : Pass<"bertc-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse elementwise producers into their consumers";
  let description = [{
    A `linalg.generic` whose loops are all parallel and whose result has a
    single use, by another `linalg.generic`, is folded into that consumer:
    the consumer computes the producer's body inline instead of reading its
    result from memory. Chains of elementwise ops (bias, GELU, residual add,
    dropout, the optimizer's arithmetic) and elementwise producers of
    reductions (squares before a sum) so become one kernel each. Then a
    chain that reads a matmul's product through a reshape (a dense layer's
    bias, dropout and residual add on `[batch, seq, hidden]` after the
    `[batch*seq, hidden]` product) is rewritten on the product's shape, so
    that `bertc-fuse-matmul-epilogues` can make it the product's epilogue.
    Last, a conversion (`graph.convert`: a generic whose body is one
    `arith.truncf` or `arith.extf`) of a value that others read too becomes
    one more result of that value's all-parallel producer, which then
    writes it in both types in one pass (linalg's fusion would compute the
    producer twice).

    ```mlir
    %a = linalg.generic {...parallel...} ins(%x) outs(%e) { math.tanh }
    %b = linalg.generic {...parallel...} ins(%a, %y) outs(%e2) { arith.addf }
    ```
    becomes one generic reading `%x` and `%y` whose body is tanh then add.
    With `max-bindings`, a fusion that would make the consumer read and
    write more than that many buffers is left out (Vulkan devices bind a
    bounded number of storage buffers per shader).
  }];
  let options = [
    Option<"maxBindings", "max-bindings", "unsigned", "0",
           "Most buffers a fused op binds (0: no bound)">,
  ];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

//===----------------------------------------------------------------------===//
// Dispatch regions
//===----------------------------------------------------------------------===//

def FuseReductions : Pass<"bertc-fuse-reductions", "mlir::func::FuncOp"> {
  let summary = "Merge row reductions into the dispatch that uses them";
  let description = [{
    After dispatch-region formation, merges a dispatch computed by one
    linalg.generic into the only dispatch that uses its results, when that
    one is computed by a linalg.generic too and every use reads, for a
    reduction, one value per row of the user's leading parallel loops (the
    mean, variance, max, sum of exponentials of a row), and for elementwise
    work the same elements. Repeated until nothing changes, so LayerNorm,
    softmax (with its scale and mask) and cross-entropy each become one
    kernel forward and one backward. The back end tiles such a kernel over
    its rows only, so each row is reduced and used in one workgroup.
  }];
  let options = [
    Option<"maxBindings", "max-bindings", "unsigned", "0",
           "Most buffers a merged dispatch binds (0: no bound)">,
  ];
  let dependentDialects = ["bertc::graph::GraphDialect"];
}

def FuseMatmulEpilogues : Pass<"bertc-fuse-matmul-epilogues", "mlir::func::FuncOp"> {
  let summary = "Merge a matmul into the elementwise dispatch that consumes it";
  let description = [{
    After dispatch-region formation, merges a dispatch computed by a matmul
    or batch matmul into the only dispatch that uses the product, when that
    one is a single all-parallel linalg.generic (bias, GELU, dropout,
    residual add, gradient accumulation) reading the product element for
    element and holds no other contraction. The back end tiles the merged
    kernel like a matmul and computes the epilogue on each tile.
  }];
  let options = [
    Option<"maxBindings", "max-bindings", "unsigned", "0",
           "Most buffers a merged dispatch binds (0: no bound)">,
  ];
  let dependentDialects = ["bertc::graph::GraphDialect"];
}

def FuseHorizontal : Pass<"bertc-fuse-horizontal", "mlir::func::FuncOp"> {
  let summary = "Run independent kernels side by side as one dispatch";
  let description = [{
    After dispatch-region formation and vertical fusion, merges runs of
    dispatches whose results all come from one linalg op and that hold no
    matmul (the optimizer's per-parameter sums of squares and AdamW
    updates; the backward pass's bias and LayerNorm parameter gradients;
    small elementwise kernels), when none uses another's results and every
    input is available at the run's first dispatch, into one dispatch there
    (horizontal fusion). Dispatches in between that are not candidates stay
    after it; a candidate that depends on the run starts a new one. The
    optimizer's state is moved to the function's start, so it is available.
    The back end gives each root of a merged dispatch its own range of
    workgroups. With `max-bindings`, a run closes before a dispatch whose
    buffers (inputs and results) would take the merged one past that many:
    Vulkan devices bind a bounded number of storage buffers per shader.
  }];
  let options = [
    Option<"maxBindings", "max-bindings", "unsigned", "0",
           "Most buffers a merged dispatch binds (0: no bound)">,
  ];
  let dependentDialects = ["bertc::graph::GraphDialect"];
}

def FormDispatchRegions : Pass<"bertc-form-dispatch-regions", "mlir::func::FuncOp"> {
  let summary = "Wrap each linalg op (and each op lowered in a kernel) in a graph.dispatch region";
  let description = [{
    Every linalg op that computes (not a `linalg.fill` that only initialises
    another op's output) becomes the root of a `graph.dispatch`; the
    `tensor.empty`, `linalg.fill`, constants and `tensor.extract_slice`
    that feed it are cloned into the region, so that the region reads only
    real tensors. A graph op with `LoweredInKernel` is the root of a
    region of its own in the same way. Reshapes between regions stay
    outside: they are views.

    ```mlir
    %e = tensor.empty() : tensor<4x8xf32>
    %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
    %m = linalg.matmul ins(%a, %b : ...) outs(%z : tensor<4x8xf32>) -> tensor<4x8xf32>
    ```
    becomes
    ```mlir
    %m = graph.dispatch(%a, %b) : (tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32> {
    ^bb0(%x: tensor<4x16xf32>, %y: tensor<16x8xf32>):
      %e = tensor.empty() : tensor<4x8xf32>
      %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
      %0 = linalg.matmul ins(%x, %y : ...) outs(%z : tensor<4x8xf32>) -> tensor<4x8xf32>
      graph.yield %0 : tensor<4x8xf32>
    }
    ```
  }];
  let dependentDialects = ["bertc::graph::GraphDialect"];
}

#endif // BERTC_PASSES
