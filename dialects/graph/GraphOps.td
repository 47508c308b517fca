//===- GraphOps.td - Ops of the graph dialect --------------*- tablegen -*-===//
#ifndef BERTC_GRAPH_OPS
#define BERTC_GRAPH_OPS

include "dialects/graph/GraphBase.td"
include "dialects/graph/GraphInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/IR/RegionKindInterface.td"

//===----------------------------------------------------------------------===//
// Graph boundary: parameters, inputs, outputs, constants
//===----------------------------------------------------------------------===//

def Graph_ParameterOp : Graph_Op<"parameter", [Pure]> {
  let summary = "a trainable parameter, named as in the checkpoint";
  let description = [{
    Reads the parameter `name` (a HuggingFace checkpoint name). `init` says
    how a fresh model initialises it: `normal` with standard deviation `std`,
    `zeros` or `ones`. A name appears at most once per function; a value used
    twice (tied weights) is one parameter used twice.

    ```mlir
    %w = graph.parameter "bert.pooler.dense.weight" normal std = 2.000000e-02 : tensor<128x128xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Graph_InitKind:$init,
                       DefaultValuedAttr<F64Attr, "0.0">:$std);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = "$name $init (`std` `=` $std^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Graph_InputOp : Graph_Op<"input", [Pure]> {
  let summary = "a graph input fed by the runtime each step";
  let description = [{
    ```mlir
    %ids = graph.input "input_ids" : tensor<8x128xi32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Graph_AnyTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

def Graph_OutputOp : Graph_Op<"output", [MemoryEffects<[MemWrite]>]> {
  let summary = "names a result of the graph";
  let description = [{
    ```mlir
    graph.output "loss" %loss : tensor<f32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Graph_AnyTensor:$value);
  let assemblyFormat = "$name $value attr-dict `:` type($value)";
}

def Graph_ConstantOp : Graph_Op<"constant", [Pure]> {
  let summary = "a scalar constant as a rank-0 tensor";
  let description = [{
    Scalars in the model language become rank-0 tensors that broadcast.

    ```mlir
    %c = graph.constant -1.000000e+04 : tensor<f32>
    ```
  }];
  let arguments = (ins F64Attr:$value);
  let results = (outs 0DTensorOf<[F32, F64]>:$result);
  let assemblyFormat = "$value attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def Graph_MatmulOp : Graph_Op<"matmul", [
    DeclareOpInterfaceMethods<Graph_KernelKindOpInterface>, Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "matrix product, batched over leading axes";
  let description = [{
    `a[..., M, K] x b[..., K, N] -> [..., M, N]` after the optional
    transposes of the last two axes of each side. Either `b` has rank 2 (a
    weight shared by every batch: `a` may then have any rank >= 2) or both
    have the same rank and equal leading (batch) axes.

    Both operands have the same element type; bf16 operands give an f32
    result (their products are accumulated in f32), others their own type.

    ```mlir
    %y = graph.matmul %x, %w {transpose_b = true}
        : tensor<8x128x256xf32>, tensor<1024x256xf32> -> tensor<8x128x1024xf32>
    ```
  }];
  let arguments = (ins Graph_FloatOrBF16Tensor:$a, Graph_FloatOrBF16Tensor:$b,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_a,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_b);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = "$a `,` $b attr-dict `:` type($a) `,` type($b) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Graph_BinaryOp<string mnemonic, string formula>
    : Graph_Op<mnemonic, [Pure, InferTypeOpAdaptor,
                          DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "elementwise " # formula # " with numpy broadcasting";
  let description = [{
    Shapes broadcast as in numpy: aligned from the last axis, each pair of
    sizes equal or one of them 1; a rank-0 operand broadcasts everywhere.
    Both operands have the same element type.
  }];
  let arguments = (ins Graph_FloatTensor:$lhs, Graph_FloatTensor:$rhs);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
}

def Graph_AddOp : Graph_BinaryOp<"add", "lhs + rhs">;
def Graph_SubOp : Graph_BinaryOp<"sub", "lhs - rhs">;
def Graph_MulOp : Graph_BinaryOp<"mul", "lhs * rhs">;
def Graph_DivOp : Graph_BinaryOp<"div", "lhs / rhs">;

def Graph_ConvertOp : Graph_Op<"convert", [Pure]> {
  let summary = "elementwise conversion to another float type";
  let description = [{
    Each element rounded to the nearest value of the result's element type
    (ties to even), or widened exactly. Same shape on both sides.

    ```mlir
    %h = graph.convert %x : tensor<4096x256xf32> -> tensor<4096x256xbf16>
    ```
  }];
  let arguments = (ins Graph_FloatOrBF16Tensor:$x);
  let results = (outs Graph_FloatOrBF16Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let hasVerifier = 1;
}

class Graph_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Graph_Op<mnemonic, !listconcat([Pure, InferTypeOpAdaptor], traits)> {
  let results = (outs Graph_FloatTensor:$result);
}

def Graph_ScaleOp : Graph_UnaryOp<"scale", [DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "multiplies by a compile-time constant";
  let description = [{
    ```mlir
    %s = graph.scale %x by 1.250000e-01 : tensor<8x2x128x128xf32>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$x, F64Attr:$factor);
  let assemblyFormat = "$x `by` $factor attr-dict `:` type($x)";
}

def Graph_GeluOp : Graph_UnaryOp<"gelu", [DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "Gaussian error linear unit";
  let description = [{
    `approximate = "none"` is the exact form `0.5 x (1 + erf(x / sqrt 2))`;
    `"tanh"` is `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
  }];
  let arguments = (ins Graph_FloatTensor:$x,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let assemblyFormat = "$x attr-dict `:` type($x)";
  let hasVerifier = 1;
}

def Graph_TanhOp : Graph_UnaryOp<"tanh", [DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "hyperbolic tangent";
  let arguments = (ins Graph_FloatTensor:$x);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def Graph_DropoutOp : Graph_UnaryOp<"dropout", [DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "inverted dropout, keyed by a counter-based generator";
  let description = [{
    Without `key` (inference) the identity. With `key = (seed, step, scale)`
    (rank-0 `i32`, `i32` and float tensors fed by the runtime) each element
    is zeroed with probability `p = rate * scale` and the others are scaled
    by `1 / (1 - p)`. Element `i` (row-major) keeps its value when
    `u >= p`, `u` being the top 24 bits of the first word of
    Philox4x32-10 with counter `(i mod 2^32, i div 2^32, step, 0)` and key
    `(seed, site)`, over 2^24. The mask therefore depends only on the seed,
    the step, the site and the element: not on threads, tiling or target.
    `site` tells the dropouts of one graph apart; a gradient uses its
    forward's site, so the same elements are dropped.

    ```mlir
    %y = graph.dropout %x rate 1.000000e-01 site 3 key(%seed, %step, %scale) : tensor<8x128x256xf32>, tensor<i32>, tensor<i32>, tensor<f32>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$x, F64Attr:$rate,
                       DefaultValuedAttr<I64Attr, "0">:$site,
                       Variadic<AnyRankedTensor>:$key);
  let assemblyFormat = [{
    $x `rate` $rate (`site` $site^)? (`key` `(` $key^ `)`)? attr-dict `:` type($x) (`,` type($key)^)?
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Normalisations
//===----------------------------------------------------------------------===//

def Graph_SoftmaxOp : Graph_UnaryOp<"softmax", [
    DeclareOpInterfaceMethods<Graph_KernelKindOpInterface>,
    DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "softmax over one axis";
  let arguments = (ins Graph_FloatTensor:$x, I64Attr:$axis);
  let assemblyFormat = "$x `axis` $axis attr-dict `:` type($x)";
}

def Graph_AttentionOp : Graph_Op<"attention", [
    DeclareOpInterfaceMethods<Graph_KernelKindOpInterface>, Pure, InferTypeOpAdaptor,
    Graph_LoweredInKernel,
    DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "scaled dot-product attention with an additive bias";
  let description = [{
    `dropout(softmax(scale * q k^T + bias, axis = -1)) v` with `q` of shape
    `[..., M, D]`, `k` `[..., N, D]`, `v` `[..., N, E]` (the same leading
    axes) and `bias` broadcasting (numpy rules) to the scores `[..., M, N]`;
    the result is `[..., M, E]`. Dropout is graph.dropout's, on the
    probabilities `[..., M, N]`: with `key` it drops the same elements as
    `graph.dropout` at `site` would; without, none.

    `bertc-form-attention` forms it from those ops; it is lowered to one
    kernel that never holds the whole score matrix: each workgroup takes a
    block of query rows and walks the keys in blocks, keeping the running
    row maximum, the running sum of exponentials and the rescaled output
    (online softmax). Its gradient recomputes the probabilities from `q`
    and `k` instead of keeping them from the forward pass.

    ```mlir
    %o = graph.attention %q, %k, %v, %bias scale 1.250000e-01 rate 1.000000e-01 site 2
        key(%seed, %step, %scale)
        : tensor<8x4x128x64xf32>, tensor<8x4x128x64xf32>, tensor<8x4x128x64xf32>,
          tensor<8x1x1x128xf32>, tensor<i32>, tensor<i32>, tensor<f32> -> tensor<8x4x128x64xf32>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$q, Graph_FloatTensor:$k, Graph_FloatTensor:$v,
                       Graph_FloatTensor:$bias, F64Attr:$scale, F64Attr:$rate,
                       DefaultValuedAttr<I64Attr, "0">:$site, Variadic<AnyRankedTensor>:$key);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    $q `,` $k `,` $v `,` $bias `scale` $scale `rate` $rate (`site` $site^)?
    (`key` `(` $key^ `)`)? attr-dict `:` type($q) `,` type($k) `,` type($v) `,` type($bias)
    (`,` type($key)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Graph_LayerNormOp : Graph_Op<"layer_norm", [
    DeclareOpInterfaceMethods<Graph_KernelKindOpInterface>, Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "layer normalisation over the last axis";
  let description = [{
    `(x - mean) / sqrt(var + eps) * weight + bias` over the last axis of `x`;
    `weight` and `bias` have the size of that axis.
  }];
  let arguments = (ins Graph_FloatTensor:$x, Graph_FloatTensor:$weight,
                       Graph_FloatTensor:$bias, F64Attr:$eps);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    $x `,` $weight `,` $bias `eps` $eps attr-dict `:` type($x) `,` type($weight) `,` type($bias)
  }];
}

//===----------------------------------------------------------------------===//
// Indexing and layout
//===----------------------------------------------------------------------===//

def Graph_EmbeddingOp : Graph_Op<"embedding", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "rows of a table picked by ids";
  let description = [{
    `table[V, H]`, `ids[...]` -> `[..., H]`.
  }];
  let arguments = (ins Graph_FloatTensor:$table, Graph_IndexTensor:$ids);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = "$table `[` $ids `]` attr-dict `:` type($table) `,` type($ids) `->` type($result)";
}

def Graph_ReshapeOp : Graph_UnaryOp<"reshape", [DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "same elements in a new shape";
  let description = [{
    One entry of `shape` may be -1: it takes the size that keeps the element
    count. bf16 tensors (matmul operands) reshape too.
  }];
  let arguments = (ins Graph_FloatOrBF16Tensor:$x, DenseI64ArrayAttr:$shape);
  let results = (outs Graph_FloatOrBF16Tensor:$result);
  let assemblyFormat = "$x `to` $shape attr-dict `:` type($x) `->` type($result)";
}

def Graph_TransposeOp : Graph_UnaryOp<"transpose", [DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "permutes the axes";
  let description = [{
    Result axis `i` is input axis `perm[i]`. bf16 tensors (matmul operands)
    transpose too.
  }];
  let arguments = (ins Graph_FloatOrBF16Tensor:$x, DenseI64ArrayAttr:$perm);
  let results = (outs Graph_FloatOrBF16Tensor:$result);
  let assemblyFormat = "$x `perm` $perm attr-dict `:` type($x) `->` type($result)";
}

def Graph_SliceOp : Graph_UnaryOp<"slice", [DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "a contiguous range of one axis";
  let arguments = (ins Graph_FloatTensor:$x, I64Attr:$axis, I64Attr:$start, I64Attr:$end);
  let assemblyFormat = "$x `axis` $axis `[` $start `:` $end `]` attr-dict `:` type($x) `->` type($result)";
}

def Graph_SelectOp : Graph_UnaryOp<"select", [DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "one index of an axis, dropping the axis";
  let description = [{
    The [CLS] row of a sequence: `select %h axis 1 [0]` on `[B, S, H]` gives `[B, H]`.
  }];
  let arguments = (ins Graph_FloatTensor:$x, I64Attr:$axis, I64Attr:$index);
  let assemblyFormat = "$x `axis` $axis `[` $index `]` attr-dict `:` type($x) `->` type($result)";
}

def Graph_GatherOp : Graph_Op<"gather", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "rows along an axis, picked per batch";
  let description = [{
    `x[b_0..b_{axis-1}, S, r...]` and `indices[b_0..b_{axis-1}, P]` give
    `[b..., P, r...]` with `result[b, p, r] = x[b, indices[b, p], r]`: the
    hidden states at the masked positions of each sequence.
  }];
  let arguments = (ins Graph_FloatTensor:$x, Graph_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = "$x `[` $indices `]` `axis` $axis attr-dict `:` type($x) `,` type($indices) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Reductions and losses
//===----------------------------------------------------------------------===//

class Graph_ReduceOp<string mnemonic, string what>
    : Graph_UnaryOp<mnemonic, [DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = what # " over axes, which are dropped";
  let description = [{
    An empty `axes` reduces every axis to a rank-0 result.
  }];
  let arguments = (ins Graph_FloatTensor:$x, DenseI64ArrayAttr:$axes);
  let assemblyFormat = "$x `axes` $axes attr-dict `:` type($x) `->` type($result)";
}

def Graph_SumOp : Graph_ReduceOp<"sum", "sum">;
def Graph_MeanOp : Graph_ReduceOp<"mean", "mean">;

def Graph_ArgmaxOp : Graph_Op<"argmax", [Pure, InferTypeOpAdaptor]> {
  let summary = "index of the largest element along one axis, which is dropped";
  let description = [{
    The first index of the maximum, as `i32` (predicted classes for
    accuracy); NaN elements are not compared, and a row of NaN gives 0. Not
    differentiable; it may be an output of a training graph.

    ```mlir
    %p = graph.argmax %logits axis 2 : tensor<8x20x30522xf32> -> tensor<8x20xi32>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$x, I64Attr:$axis);
  let results = (outs Graph_IndexTensor:$result);
  let assemblyFormat = "$x `axis` $axis attr-dict `:` type($x) `->` type($result)";
}

def Graph_CrossEntropyOp : Graph_Op<"cross_entropy", [
    DeclareOpInterfaceMethods<Graph_KernelKindOpInterface>, Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<Graph_DifferentiableOpInterface>]> {
  let summary = "mean softmax cross-entropy over labelled rows";
  let description = [{
    `logits[..., C]` and `labels[...]` (class ids) give the rank-0 mean of
    `-log softmax(logits)[label]` over the rows whose label is not
    `ignore_index` (and is a class); 0 when every row is ignored. This is
    HuggingFace's MLM loss with labels -100 on unmasked tokens. With
    `count` (a rank-0 tensor), the sum of the row losses is divided by it
    instead of by the number of labelled rows here: the labelled rows of a
    whole step whose batch is split (micro-batches, ranks), so that the
    parts' losses and gradients add up to the whole batch's.

    ```mlir
    %l = graph.cross_entropy %logits, %labels count %rows : tensor<8x20x30522xf32>, tensor<8x20xi32>, tensor<f32> -> tensor<f32>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$logits, Graph_IndexTensor:$labels,
                       Optional<Graph_FloatTensor>:$count,
                       DefaultValuedAttr<I64Attr, "-100">:$ignore_index);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    $logits `,` $labels (`count` $count^)? attr-dict `:` type($logits) `,` type($labels)
    (`,` type($count)^)? `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// Gradient ops (built by differentiation)
//===----------------------------------------------------------------------===//

def Graph_BroadcastOp : Graph_UnaryOp<"broadcast"> {
  let summary = "broadcasts to a shape (numpy rules)";
  let description = [{
    The gradient of a reduction: `x` repeated along the axes where `shape`
    is larger, after aligning from the last axis.

    ```mlir
    %b = graph.broadcast %g to [8, 128, 256] : tensor<8x128x1xf32> -> tensor<8x128x256xf32>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$x, DenseI64ArrayAttr:$shape);
  let assemblyFormat = "$x `to` $shape attr-dict `:` type($x) `->` type($result)";
}

def Graph_GeluGradOp : Graph_Op<"gelu_grad", [Pure, InferTypeOpAdaptor,
    AllTypesMatch<["x", "grad"]>]> {
  let summary = "gradient of gelu: grad * gelu'(x)";
  let description = [{
    With `approximate` as for `graph.gelu`: for "none",
    `gelu'(x) = Phi(x) + x phi(x)` with the normal CDF and density.
  }];
  let arguments = (ins Graph_FloatTensor:$x, Graph_FloatTensor:$grad,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = "$x `,` $grad attr-dict `:` type($x)";
}

def Graph_SliceGradOp : Graph_UnaryOp<"slice_grad"> {
  let summary = "gradient of slice: the slice placed into zeros";
  let description = [{
    The result has size `size` on `axis`; positions `start` to
    `start + x.shape[axis]` hold `x`, the rest are 0.
  }];
  let arguments = (ins Graph_FloatTensor:$x, I64Attr:$axis, I64Attr:$start, I64Attr:$size);
  let assemblyFormat = "$x `axis` $axis `at` $start `of` $size attr-dict `:` type($x) `->` type($result)";
}

def Graph_GatherGradOp : Graph_Op<"gather_grad", [Pure, InferTypeOpAdaptor]> {
  let summary = "gradient of gather: rows added back at their indices";
  let description = [{
    For `gather(x, indices, axis)` with `x` of size `size` on `axis`: the
    result has `x`'s shape and adds `grad[b, p, r]` at `[b, indices[b, p], r]`
    (repeated indices add up).
  }];
  let arguments = (ins Graph_IndexTensor:$indices, Graph_FloatTensor:$grad, I64Attr:$axis,
                       I64Attr:$size);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    $indices `,` $grad `axis` $axis `of` $size attr-dict `:` type($indices) `,` type($grad) `->` type($result)
  }];
}

def Graph_EmbeddingGradOp : Graph_Op<"embedding_grad", [Pure, InferTypeOpAdaptor,
    Graph_LoweredInKernel]> {
  let summary = "gradient of embedding: rows added into a zero table";
  let description = [{
    `ids[...]` and `grad[..., H]` give `[rows, H]` where row `v` is the sum
    of the gradient rows whose id is `v`. Ids may repeat, so the rows are
    added one position after another; the columns are independent, and each
    back end's strategy says in how many blocks of columns its workgroups
    take them (`scatter_column_blocks`).
  }];
  let arguments = (ins Graph_IndexTensor:$ids, Graph_FloatTensor:$grad, I64Attr:$rows);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    $ids `,` $grad `rows` $rows attr-dict `:` type($ids) `,` type($grad) `->` type($result)
  }];
}

def Graph_LayerNormGradOp : Graph_Op<"layer_norm_grad", [
    DeclareOpInterfaceMethods<Graph_KernelKindOpInterface>, Pure, InferTypeOpAdaptor]> {
  let summary = "gradient of layer_norm with respect to its input";
  let description = [{
    With `x_hat = (x - mean) / sqrt(var + eps)` over the last axis of `x`
    (size H) and `gw = grad * weight`:
    `dx = (gw - mean(gw) - x_hat * mean(gw * x_hat)) / sqrt(var + eps)`.
  }];
  let arguments = (ins Graph_FloatTensor:$x, Graph_FloatTensor:$weight,
                       Graph_FloatTensor:$grad, F64Attr:$eps);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    $x `,` $weight `,` $grad `eps` $eps attr-dict `:` type($x) `,` type($weight) `,` type($grad)
  }];
}

def Graph_CrossEntropyGradOp : Graph_Op<"cross_entropy_grad", [
    DeclareOpInterfaceMethods<Graph_KernelKindOpInterface>, Pure, InferTypeOpAdaptor]> {
  let summary = "gradient of cross_entropy with respect to the logits";
  let description = [{
    `grad / count * (softmax(logits) - onehot(label))` on labelled rows and 0
    on ignored ones, where `count` is the operand `count` if given (as in
    `graph.cross_entropy`), else the number of labelled rows, and `grad`
    the (rank-0) gradient of the loss.
  }];
  let arguments = (ins Graph_FloatTensor:$logits, Graph_IndexTensor:$labels,
                       Graph_FloatTensor:$grad, Optional<Graph_FloatTensor>:$count,
                       DefaultValuedAttr<I64Attr, "-100">:$ignore_index);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = [{
    $logits `,` $labels `,` $grad (`count` $count^)? attr-dict `:` type($logits) `,`
    type($labels) `,` type($grad) (`,` type($count)^)?
  }];
}

def Graph_CrossEntropyWithGradOp : Graph_Op<"cross_entropy_with_grad", [
    DeclareOpInterfaceMethods<Graph_KernelKindOpInterface>, Pure, InferTypeOpAdaptor]> {
  let summary = "cross_entropy and its gradient in one pass over the logits";
  let description = [{
    The results of `graph.cross_entropy` and `graph.cross_entropy_grad` on
    the same operands: the mean loss over labelled rows and
    `grad / count * (softmax(logits) - onehot(label))`. `bertc-fuse-cross-entropy`
    forms it after differentiation when `grad` does not depend on the loss;
    it is lowered to one kernel that reads each block of rows once, writing
    each row's loss and its gradient, and a small one that averages the
    losses. `count`, when given, is the divisor of both (as in
    `graph.cross_entropy`).

    ```mlir
    %loss, %dlogits = graph.cross_entropy_with_grad %logits, %labels, %g
        : tensor<8x20x30522xf32>, tensor<8x20xi32>, tensor<f32>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$logits, Graph_IndexTensor:$labels,
                       Graph_FloatTensor:$grad, Optional<Graph_FloatTensor>:$count,
                       DefaultValuedAttr<I64Attr, "-100">:$ignore_index);
  let results = (outs Graph_FloatTensor:$loss, Graph_FloatTensor:$dlogits);
  let assemblyFormat = [{
    $logits `,` $labels `,` $grad (`count` $count^)? attr-dict `:` type($logits) `,`
    type($labels) `,` type($grad) (`,` type($count)^)?
  }];
}

def Graph_CrossEntropyRowsOp : Graph_Op<"cross_entropy_rows", [
    DeclareOpInterfaceMethods<Graph_KernelKindOpInterface>, Pure, InferTypeOpAdaptor,
    Graph_LoweredInKernel]> {
  let summary = "each row's loss and gradient of a cross_entropy_with_grad";
  let description = [{
    The kernel of `graph.cross_entropy_with_grad` that reads the logits, as
    the lowering to linalg leaves it: for logits `[R, C]` and labels `[R]`,
    each row's loss `log(sum(exp(x))) - x[label]` (0 on an ignored row),
    `[R]`, and the gradient `grad / count * (softmax(x) - onehot(label))`
    (0 on an ignored row), `[R, C]`, where `count` is the number of labelled
    rows. Each back end lowers it to workgroups of a few rows whose second
    read of each row hits the cache; its strategy picks how many
    (`loss_rows`).

    ```mlir
    %losses, %dlogits = graph.cross_entropy_rows %logits, %labels, %count, %g
        : tensor<160x30522xf32>, tensor<160xi32>, tensor<f32>, tensor<f32>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$logits, Graph_IndexTensor:$labels,
                       Graph_FloatTensor:$count, Graph_FloatTensor:$grad,
                       DefaultValuedAttr<I64Attr, "-100">:$ignore_index);
  let results = (outs Graph_FloatTensor:$losses, Graph_FloatTensor:$dlogits);
  let assemblyFormat = [{
    $logits `,` $labels `,` $count `,` $grad attr-dict `:` type($logits) `,` type($labels) `,`
    type($count) `,` type($grad)
  }];
}

//===----------------------------------------------------------------------===//
// Training state and the optimizer (built by bertc-append-optimizer)
//===----------------------------------------------------------------------===//

def Graph_StateOp : Graph_Op<"state", [Pure]> {
  let summary = "persistent training state, zero at the start";
  let description = [{
    A tensor kept from one step to the next that is not trained (AdamW's
    moments). It lives beside the parameters and is saved with them.

    ```mlir
    %m = graph.state "optimizer.exp_avg.bert.pooler.dense.weight" : tensor<128x128xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Graph_FloatTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

def Graph_ParameterCopyOp : Graph_Op<"parameter_copy", [Pure]> {
  let summary = "a parameter kept in a narrower element type beside it";
  let description = [{
    The parameter `param` (a `graph.parameter`) converted to the result's
    element type (`graph.convert`), without computing it at each step: the
    copy has storage of its own beside the parameters, which the runtime
    fills from the parameter whenever the parameter is set from outside
    (initialised, loaded), and which the training step keeps equal to the
    converted parameter by assigning it with the parameter's update. It is
    not saved: checkpoints hold the parameter.

    ```mlir
    %w16 = graph.parameter_copy %w : tensor<256x256xf32> -> tensor<256x256xbf16>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$param);
  let results = (outs TensorOf<[BF16]>:$result);
  let assemblyFormat = "$param attr-dict `:` type($param) `->` type($result)";
  let hasVerifier = 1;
}

def Graph_AssignOp : Graph_Op<"assign", [MemoryEffects<[MemWrite]>,
    AllTypesMatch<["target", "value"]>]> {
  let summary = "the value a parameter or state holds after the step";
  let description = [{
    `target` is a `graph.parameter`, `graph.state` or
    `graph.parameter_copy`. The buffer plan writes
    `value` in place into the target's storage, so nothing is copied; no op
    may read the target after `value` is computed.

    ```mlir
    graph.assign %w, %w_next : tensor<128x128xf32>
    ```
  }];
  let arguments = (ins Graph_FloatOrBF16Tensor:$target, Graph_FloatOrBF16Tensor:$value);
  let assemblyFormat = "$target `,` $value attr-dict `:` type($target)";
  let hasVerifier = 1;
}

def Graph_AdamWOp : Graph_Op<"adamw", [
    DeclareOpInterfaceMethods<Graph_KernelKindOpInterface>, Pure,
    AllTypesMatch<["param", "grad", "m", "v", "new_param", "new_m", "new_v"]>,
    AllTypesMatch<["sumsq", "lr"]>]> {
  let summary = "one AdamW update of a parameter, after global-norm clipping";
  let description = [{
    With `g = grad * min(1, max_norm / (sqrt(sumsq) + 1e-6))` (`sumsq`: the
    sum of the squares of every gradient of the step; `max_norm` 0 turns
    clipping off) and `t = step` (1 at the first step):
    ```
    m' = beta1 m + (1 - beta1) g
    v' = beta2 v + (1 - beta2) g^2
    u  = (m' / c1) / (sqrt(v' / c2) + eps)
    p' = p - lr (u + weight_decay p)
    ```
    where `c1 = 1 - beta1^t`, `c2 = 1 - beta2^t` with `bias_correction`
    (PyTorch's and HuggingFace's AdamW) and `c1 = c2 = 1` without (the
    original BERT optimizer).

    ```mlir
    %p2, %m2, %v2 = graph.adamw %p, %g, %m, %v norm %ss lr %lr step %t
        {beta1 = 9.0e-01, beta2 = 9.99e-01, eps = 1.0e-06, weight_decay = 1.0e-02,
         max_norm = 1.0, bias_correction = true}
        : tensor<128xf32>, tensor<f32>, tensor<i32>
    ```
  }];
  let arguments = (ins Graph_FloatTensor:$param, Graph_FloatTensor:$grad, Graph_FloatTensor:$m,
                       Graph_FloatTensor:$v, 0DTensorOf<[F32, F64]>:$sumsq,
                       0DTensorOf<[F32, F64]>:$lr, 0DTensorOf<[I32]>:$step,
                       F64Attr:$beta1, F64Attr:$beta2, F64Attr:$eps, F64Attr:$weight_decay,
                       F64Attr:$max_norm, BoolAttr:$bias_correction);
  let results = (outs Graph_FloatTensor:$new_param, Graph_FloatTensor:$new_m,
                      Graph_FloatTensor:$new_v);
  let assemblyFormat = [{
    $param `,` $grad `,` $m `,` $v `norm` $sumsq `lr` $lr `step` $step attr-dict
    `:` type($param) `,` type($sumsq) `,` type($step)
  }];
}

//===----------------------------------------------------------------------===//
// Dispatch regions
//===----------------------------------------------------------------------===//

def Graph_DispatchOp : Graph_Op<"dispatch", [IsolatedFromAbove,
    SingleBlockImplicitTerminator<"YieldOp">]> {
  let summary = "a region of work run as one kernel";
  let description = [{
    The unit that becomes one kernel: a workgroup grid over buffer bindings
    on every target. Its body sees only its operands (as block arguments)
    and yields its results. Dispatch-region formation moves ops into
    dispatches; the back ends outline each body into a kernel.

    ```mlir
    %r = graph.dispatch(%a, %b) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32> {
    ^bb0(%x: tensor<4x8xf32>, %y: tensor<8xf32>):
      %0 = linalg.generic ... ins(%x, %y ...) ...
      graph.yield %0 : tensor<4x8xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::mlir::TypeRange":$resultTypes, "::mlir::ValueRange":$inputs)>
  ];
}

def Graph_YieldOp : Graph_Op<"yield", [Pure, Terminator, HasParent<"DispatchOp">,
                                       ReturnLike]> {
  let summary = "the results of a dispatch region";
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ /* no values */ }]>];
}

#endif // BERTC_GRAPH_OPS
