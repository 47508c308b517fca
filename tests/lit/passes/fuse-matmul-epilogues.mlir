// RUN: bertc-opt %s --bertc-fuse-matmul-epilogues --split-input-file | FileCheck %s
// RUN: bertc-opt %s --pass-pipeline='builtin.module(func.func(bertc-fuse-matmul-epilogues{max-bindings=3}))' --split-input-file | FileCheck %s --check-prefix=BOUND

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>

// A dense layer: the product's bias add and GELU-like epilogue join the
// matmul's kernel, which yields the epilogue's result only.
// CHECK-LABEL: func.func @dense
// CHECK: %[[R:.*]] = graph.dispatch(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<8xf32>, tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK: math.tanh
// CHECK: graph.yield
// CHECK-NOT: graph.dispatch
// CHECK: return %[[R]]
// With at most 3 buffers per kernel (x, w, b and the result make 4), the
// epilogue stays in a kernel of its own.
// BOUND-LABEL: func.func @dense
// BOUND: graph.dispatch(%{{.*}}, %{{.*}}) : (tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
// BOUND: graph.dispatch(%{{.*}}, %{{.*}}) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
func.func @dense(%x: tensor<4x16xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %p = graph.dispatch(%x, %w) : (tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x16xf32>, %c: tensor<16x8xf32>):
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<4x8xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
    %m = linalg.matmul ins(%a, %c : tensor<4x16xf32>, tensor<16x8xf32>) outs(%z : tensor<4x8xf32>) -> tensor<4x8xf32>
    graph.yield %m : tensor<4x8xf32>
  }
  %y = graph.dispatch(%p, %b) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>, %c: tensor<8xf32>):
    %e = tensor.empty() : tensor<4x8xf32>
    %r = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
        ins(%a, %c : tensor<4x8xf32>, tensor<8xf32>) outs(%e : tensor<4x8xf32>) {
    ^bb0(%v: f32, %u: f32, %o: f32):
      %0 = arith.addf %v, %u : f32
      %1 = math.tanh %0 : f32
      linalg.yield %1 : f32
    } -> tensor<4x8xf32>
    graph.yield %r : tensor<4x8xf32>
  }
  return %y : tensor<4x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
#row = affine_map<(d0, d1) -> (d0)>

// Not merged: a product read transposed, a product also used elsewhere,
// and a consumer that reduces.
// CHECK-LABEL: func.func @refused
// CHECK-COUNT-5: graph.dispatch
// CHECK-NOT: graph.dispatch
func.func @refused(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) {
  %p = graph.dispatch(%x, %w) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%a: tensor<4x4xf32>, %c: tensor<4x4xf32>):
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<4x4xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
    %m = linalg.matmul ins(%a, %c : tensor<4x4xf32>, tensor<4x4xf32>) outs(%z : tensor<4x4xf32>) -> tensor<4x4xf32>
    graph.yield %m : tensor<4x4xf32>
  }
  %t = graph.dispatch(%p) : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%a: tensor<4x4xf32>):
    %e = tensor.empty() : tensor<4x4xf32>
    %r = linalg.generic {indexing_maps = [#t, #id], iterator_types = ["parallel", "parallel"]}
        ins(%a : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
    ^bb0(%v: f32, %o: f32):
      %0 = math.tanh %v : f32
      linalg.yield %0 : f32
    } -> tensor<4x4xf32>
    graph.yield %r : tensor<4x4xf32>
  }
  %q = graph.dispatch(%x, %w) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%a: tensor<4x4xf32>, %c: tensor<4x4xf32>):
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<4x4xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
    %m = linalg.matmul ins(%a, %c : tensor<4x4xf32>, tensor<4x4xf32>) outs(%z : tensor<4x4xf32>) -> tensor<4x4xf32>
    graph.yield %m : tensor<4x4xf32>
  }
  %s = graph.dispatch(%q) : (tensor<4x4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4x4xf32>):
    %e = tensor.empty() : tensor<4xf32>
    %r = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
        ins(%a : tensor<4x4xf32>) outs(%e : tensor<4xf32>) {
    ^bb0(%v: f32, %o: f32):
      %0 = arith.addf %v, %o : f32
      linalg.yield %0 : f32
    } -> tensor<4xf32>
    graph.yield %r : tensor<4xf32>
  }
  %u = graph.dispatch(%q) : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%a: tensor<4x4xf32>):
    %e = tensor.empty() : tensor<4x4xf32>
    %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%a : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
    ^bb0(%v: f32, %o: f32):
      %0 = math.tanh %v : f32
      linalg.yield %0 : f32
    } -> tensor<4x4xf32>
    graph.yield %r : tensor<4x4xf32>
  }
  return %t, %u, %s : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>
}
