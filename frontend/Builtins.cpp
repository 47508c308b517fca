//===- Builtins.cpp - Signatures of the language's built-in ops -----------===//
#include "frontend/Builtins.h"

namespace bertc::frontend {

const std::vector<BuiltinSignature> &builtinSignatures() {
  static const std::vector<BuiltinSignature> table = {
      {"matmul",
       {{"a", true}, {"b", true}, {"transpose_a", false}, {"transpose_b", false}},
       "a[..., M, K] x b[..., K, N] (or b[K, N] shared by every batch)"},
      {"scale", {{"x", true}, {"factor", true}}, "x * factor, factor a number"},
      {"gelu",
       {{"x", true}, {"approximate", false}},
       "GELU, approximate = \"none\" (erf, default) or \"tanh\""},
      {"tanh", {{"x", true}}, "hyperbolic tangent"},
      {"softmax", {{"x", true}, {"axis", false}}, "softmax over one axis (default -1)"},
      {"argmax",
       {{"x", true}, {"axis", false}},
       "index (i32) of the largest element along one axis (default -1), dropping it"},
      {"layer_norm",
       {{"x", true}, {"weight", true}, {"bias", true}, {"eps", false}},
       "layer normalisation over the last axis"},
      {"embedding", {{"table", true}, {"ids", true}}, "rows of table[V, H] picked by ids"},
      {"reshape", {{"x", true}, {"shape", true}}, "same elements, new shape (one -1 allowed)"},
      {"transpose", {{"x", true}, {"perm", true}}, "permute axes"},
      {"slice",
       {{"x", true}, {"axis", true}, {"start", true}, {"end", true}},
       "elements start..end (exclusive) of one axis"},
      {"select",
       {{"x", true}, {"axis", true}, {"index", true}},
       "one index of an axis, dropping that axis"},
      {"gather",
       {{"x", true}, {"indices", true}, {"axis", true}},
       "x[b.., S, r..] at indices[b.., P] along axis -> [b.., P, r..]"},
      {"dropout", {{"x", true}, {"rate", true}}, "dropout at training time"},
      {"cross_entropy",
       {{"logits", true}, {"labels", true}, {"ignore_index", false}},
       "mean softmax cross-entropy over labels != ignore_index (default -100)"},
      {"mean", {{"x", true}, {"axes", false}}, "mean over axes (default: all)"},
      {"sum", {{"x", true}, {"axes", false}}, "sum over axes (default: all)"},
      {"size", {{"x", true}, {"axis", true}}, "the size of one axis, a number"},
      {"sqrt", {{"x", true}}, "square root of a number", /*scalar=*/true},
  };
  return table;
}

const BuiltinSignature *findBuiltin(const std::string &name) {
  for (const BuiltinSignature &b : builtinSignatures())
    if (name == b.name)
      return &b;
  return nullptr;
}

} // namespace bertc::frontend
