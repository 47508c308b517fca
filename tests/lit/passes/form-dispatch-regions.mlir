// RUN: bertc-opt %s --bertc-form-dispatch-regions --split-input-file | FileCheck %s

// Each computing linalg op becomes a region; its fill and empty tensor are
// cloned in, reshapes stay outside as views.
// CHECK-LABEL: func.func @matmul_then_tanh
func.func @matmul_then_tanh(%a: tensor<4x8xf32>, %b: tensor<8x2xf32>) -> tensor<8xf32> {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  // CHECK: %[[M:.*]] = graph.dispatch(%{{.*}}, %{{.*}}) : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32> {
  // CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<4x8xf32>, %[[Y:.*]]: tensor<8x2xf32>):
  // CHECK: tensor.empty() : tensor<4x2xf32>
  // CHECK: linalg.fill
  // CHECK: linalg.matmul ins(%[[X]], %[[Y]]
  // CHECK: graph.yield %{{.*}} : tensor<4x2xf32>
  %m = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x2xf32>) outs(%z : tensor<4x2xf32>) -> tensor<4x2xf32>
  // CHECK: %[[V:.*]] = tensor.collapse_shape %[[M]]
  %v = tensor.collapse_shape %m [[0, 1]] : tensor<4x2xf32> into tensor<8xf32>
  %e2 = tensor.empty() : tensor<8xf32>
  // CHECK: graph.dispatch(%[[V]]) : (tensor<8xf32>) -> tensor<8xf32>
  // CHECK: math.tanh
  %t = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%v : tensor<8xf32>) outs(%e2 : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.tanh %in : f32
    linalg.yield %0 : f32
  } -> tensor<8xf32>
  // CHECK-NOT: linalg.fill
  // CHECK-NOT: tensor.empty
  return %t : tensor<8xf32>
}

// -----

// A fill shared (after CSE) by two reductions is cloned into both regions,
// so neither kernel reads its initial value from a buffer.
// CHECK-LABEL: func.func @shared_fill
func.func @shared_fill(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  // CHECK: graph.dispatch(%{{.*}}) : (tensor<4x8xf32>) -> tensor<4xf32>
  // CHECK: linalg.fill
  // CHECK: graph.dispatch(%{{.*}}) : (tensor<4x8xf32>) -> tensor<4xf32>
  // CHECK: linalg.fill
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<4x8xf32>) outs(%z : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%b : tensor<4x8xf32>) outs(%z : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Values a body captures (a table read by tensor.extract) become inputs.
// CHECK-LABEL: func.func @captured_table
func.func @captured_table(%t: tensor<10x4xf32>, %ids: tensor<3xi32>) -> tensor<3x4xf32> {
  %e = tensor.empty() : tensor<3x4xf32>
  // CHECK: graph.dispatch(%{{.*}}, %{{.*}}) : (tensor<3xi32>, tensor<10x4xf32>) -> tensor<3x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%ids : tensor<3xi32>) outs(%e : tensor<3x4xf32>) {
  ^bb0(%in: i32, %out: f32):
    %i = arith.index_cast %in : i32 to index
    %j = linalg.index 1 : index
    %v = tensor.extract %t[%i, %j] : tensor<10x4xf32>
    linalg.yield %v : f32
  } -> tensor<3x4xf32>
  return %r : tensor<3x4xf32>
}

// -----

// An embedding gradient is a dispatch of its own, as an attention is.
// CHECK-LABEL: func.func @embedding_grad
// CHECK: %[[R:.*]] = graph.dispatch(%{{.*}}, %{{.*}}) : (tensor<4xi32>, tensor<4x8xf32>) -> tensor<10x8xf32> {
// CHECK-NEXT: ^bb0(%[[I:.*]]: tensor<4xi32>, %[[G:.*]]: tensor<4x8xf32>):
// CHECK-NEXT: %[[T:.*]] = graph.embedding_grad %[[I]], %[[G]] rows 10
// CHECK-NEXT: graph.yield %[[T]]
func.func @embedding_grad(%ids: tensor<4xi32>, %g: tensor<4x8xf32>) -> tensor<10x8xf32> {
  %t = graph.embedding_grad %ids, %g rows 10 : tensor<4xi32>, tensor<4x8xf32> -> tensor<10x8xf32>
  return %t : tensor<10x8xf32>
}

// -----

// Two outputs initialised by one (CSE-merged) fill get a fill and an empty
// tensor each, so that bufferization never gives the two accumulators one
// buffer.
// CHECK-LABEL: func.func @two_outputs_one_fill
func.func @two_outputs_one_fill(%a: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  // CHECK: graph.dispatch
  // CHECK: %[[E1:.*]] = tensor.empty
  // CHECK: %[[F1:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E1]] : tensor<4xf32>)
  // CHECK: %[[E2:.*]] = tensor.empty
  // CHECK: %[[F2:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E2]] : tensor<4xf32>)
  // CHECK: linalg.generic {{.*}} outs(%[[F1]], %[[F2]] : tensor<4xf32>, tensor<4xf32>)
  %r:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<4x8xf32>) outs(%z, %z : tensor<4xf32>, tensor<4xf32>) {
  ^bb0(%in: f32, %o1: f32, %o2: f32):
    %s = arith.addf %in, %o1 : f32
    %m = arith.maximumf %in, %o2 : f32
    linalg.yield %s, %m : f32, f32
  } -> (tensor<4xf32>, tensor<4xf32>)
  return %r#0, %r#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// The same for outputs that share one (CSE-merged) empty tensor.
// CHECK-LABEL: func.func @two_outputs_one_empty
func.func @two_outputs_one_empty(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  // CHECK: graph.dispatch
  // CHECK: %[[E1:.*]] = tensor.empty
  // CHECK: %[[E2:.*]] = tensor.empty
  // CHECK: linalg.generic {{.*}} outs(%[[E1]], %[[E2]] : tensor<4xf32>, tensor<4xf32>)
  %r:2 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%a : tensor<4xf32>) outs(%e, %e : tensor<4xf32>, tensor<4xf32>) {
  ^bb0(%in: f32, %o1: f32, %o2: f32):
    %n = arith.negf %in : f32
    linalg.yield %in, %n : f32, f32
  } -> (tensor<4xf32>, tensor<4xf32>)
  return %r#0, %r#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// An attention is a dispatch of its own: the back end lowers it there.
// CHECK-LABEL: func.func @attention
// CHECK: %[[A:.*]] = graph.dispatch(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x1x4xf32>) -> tensor<2x4x8xf32> {
// CHECK-NEXT: ^bb0(%[[Q:.*]]: tensor<2x4x8xf32>, %[[V:.*]]: tensor<2x4x8xf32>, %[[B:.*]]: tensor<2x1x4xf32>):
// CHECK-NEXT: %[[O:.*]] = graph.attention %[[Q]], %[[Q]], %[[V]], %[[B]]
// CHECK-NEXT: graph.yield %[[O]]
func.func @attention(%q: tensor<2x4x8xf32>, %v: tensor<2x4x8xf32>, %bias: tensor<2x1x4xf32>) -> tensor<2x4x8xf32> {
  %o = graph.attention %q, %q, %v, %bias scale 2.500000e-01 rate 0.0 : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x1x4xf32> -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}
