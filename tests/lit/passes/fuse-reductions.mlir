// RUN: bertc-opt %s --bertc-fuse-reductions --split-input-file | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// A softmax: max, exponentials, sum, division, four dispatches, become the
// last one's kernel.
// CHECK-LABEL: func.func @softmax
// CHECK: %[[R:.*]] = graph.dispatch(%{{.*}}) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-COUNT-4: linalg.generic
// CHECK: graph.yield
// CHECK-NOT: graph.dispatch
// CHECK: return %[[R]]
func.func @softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %max = graph.dispatch(%x) : (tensor<4x8xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %e = tensor.empty() : tensor<4xf32>
    %r = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
        ins(%a : tensor<4x8xf32>) outs(%e : tensor<4xf32>) {
    ^bb0(%v: f32, %m: f32):
      %0 = arith.maximumf %v, %m : f32
      linalg.yield %0 : f32
    } -> tensor<4xf32>
    graph.yield %r : tensor<4xf32>
  }
  %exp = graph.dispatch(%x, %max) : (tensor<4x8xf32>, tensor<4xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>, %m: tensor<4xf32>):
    %e = tensor.empty() : tensor<4x8xf32>
    %r = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
        ins(%a, %m : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
    ^bb0(%v: f32, %w: f32, %o: f32):
      %0 = arith.subf %v, %w : f32
      %1 = math.exp %0 : f32
      linalg.yield %1 : f32
    } -> tensor<4x8xf32>
    graph.yield %r : tensor<4x8xf32>
  }
  %sum = graph.dispatch(%exp) : (tensor<4x8xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %e = tensor.empty() : tensor<4xf32>
    %r = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
        ins(%a : tensor<4x8xf32>) outs(%e : tensor<4xf32>) {
    ^bb0(%v: f32, %s: f32):
      %0 = arith.addf %v, %s : f32
      linalg.yield %0 : f32
    } -> tensor<4xf32>
    graph.yield %r : tensor<4xf32>
  }
  %y = graph.dispatch(%exp, %sum) : (tensor<4x8xf32>, tensor<4xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>, %s: tensor<4xf32>):
    %e = tensor.empty() : tensor<4x8xf32>
    %r = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
        ins(%a, %s : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
    ^bb0(%v: f32, %w: f32, %o: f32):
      %0 = arith.divf %v, %w : f32
      linalg.yield %0 : f32
    } -> tensor<4x8xf32>
    graph.yield %r : tensor<4x8xf32>
  }
  return %y : tensor<4x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#col = affine_map<(d0, d1) -> (d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
#all = affine_map<(d0, d1) -> ()>

// A row reduction used by two kernels is recomputed in each; a reduction
// to one value stays a kernel of its own.
// CHECK-LABEL: func.func @shared
// CHECK: %[[TOTAL:.*]] = graph.dispatch(%[[X:.*]]) : (tensor<4x8xf32>) -> tensor<f32>
// CHECK: graph.dispatch(%[[X]]) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-COUNT-2: linalg.generic
// CHECK: graph.yield
// CHECK: graph.dispatch(%[[X]]) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-COUNT-2: linalg.generic
// CHECK: graph.yield
// CHECK: graph.dispatch(%[[X]], %[[TOTAL]]) : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
func.func @shared(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %rows = graph.dispatch(%x) : (tensor<4x8xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %e = tensor.empty() : tensor<4xf32>
    %r = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
        ins(%a : tensor<4x8xf32>) outs(%e : tensor<4xf32>) {
    ^bb0(%v: f32, %s: f32):
      %0 = arith.addf %v, %s : f32
      linalg.yield %0 : f32
    } -> tensor<4xf32>
    graph.yield %r : tensor<4xf32>
  }
  %total = graph.dispatch(%x) : (tensor<4x8xf32>) -> tensor<f32> {
  ^bb0(%a: tensor<4x8xf32>):
    %e = tensor.empty() : tensor<f32>
    %r = linalg.generic {indexing_maps = [#id, #all], iterator_types = ["reduction", "reduction"]}
        ins(%a : tensor<4x8xf32>) outs(%e : tensor<f32>) {
    ^bb0(%v: f32, %s: f32):
      %0 = arith.addf %v, %s : f32
      linalg.yield %0 : f32
    } -> tensor<f32>
    graph.yield %r : tensor<f32>
  }
  %p1 = graph.dispatch(%x, %rows) : (tensor<4x8xf32>, tensor<4xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>, %s: tensor<4xf32>):
    %e = tensor.empty() : tensor<4x8xf32>
    %r = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
        ins(%a, %s : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
    ^bb0(%v: f32, %w: f32, %o: f32):
      %0 = arith.subf %v, %w : f32
      linalg.yield %0 : f32
    } -> tensor<4x8xf32>
    graph.yield %r : tensor<4x8xf32>
  }
  %p2 = graph.dispatch(%x, %rows) : (tensor<4x8xf32>, tensor<4xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>, %s: tensor<4xf32>):
    %e = tensor.empty() : tensor<4x8xf32>
    %r = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
        ins(%a, %s : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
    ^bb0(%v: f32, %w: f32, %o: f32):
      %0 = arith.mulf %v, %w : f32
      linalg.yield %0 : f32
    } -> tensor<4x8xf32>
    graph.yield %r : tensor<4x8xf32>
  }
  %d = graph.dispatch(%x, %total) : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>, %s: tensor<f32>):
    %e = tensor.empty() : tensor<4x8xf32>
    %r = linalg.generic {indexing_maps = [#id, #all, #id], iterator_types = ["parallel", "parallel"]}
        ins(%a, %s : tensor<4x8xf32>, tensor<f32>) outs(%e : tensor<4x8xf32>) {
    ^bb0(%v: f32, %w: f32, %o: f32):
      %0 = arith.divf %v, %w : f32
      linalg.yield %0 : f32
    } -> tensor<4x8xf32>
    graph.yield %r : tensor<4x8xf32>
  }
  return %p1, %p2, %d : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#col = affine_map<(d0, d1) -> (d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>

// A kernel that reads the row values along a reduced loop (a column sum)
// would have to see every row: the reduction stays apart.
// CHECK-LABEL: func.func @refused
// CHECK: %[[ROWS:.*]] = graph.dispatch(%[[X:.*]]) : (tensor<4x8xf32>) -> tensor<4xf32>
// CHECK: graph.dispatch(%[[X]], %[[ROWS]]) : (tensor<4x8xf32>, tensor<4xf32>) -> tensor<8xf32>
func.func @refused(%x: tensor<4x8xf32>) -> tensor<8xf32> {
  %rows = graph.dispatch(%x) : (tensor<4x8xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %e = tensor.empty() : tensor<4xf32>
    %r = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
        ins(%a : tensor<4x8xf32>) outs(%e : tensor<4xf32>) {
    ^bb0(%v: f32, %s: f32):
      %0 = arith.addf %v, %s : f32
      linalg.yield %0 : f32
    } -> tensor<4xf32>
    graph.yield %r : tensor<4xf32>
  }
  // Sums over rows, reading the row values along its reduced loop.
  %c = graph.dispatch(%x, %rows) : (tensor<4x8xf32>, tensor<4xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<4x8xf32>, %s: tensor<4xf32>):
    %e = tensor.empty() : tensor<8xf32>
    %r = linalg.generic {indexing_maps = [#t, #col, #row], iterator_types = ["parallel", "reduction"]}
        ins(%a, %s : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<8xf32>) {
    ^bb0(%v: f32, %w: f32, %o: f32):
      %0 = arith.mulf %v, %w : f32
      %1 = arith.addf %0, %o : f32
      linalg.yield %1 : f32
    } -> tensor<8xf32>
    graph.yield %r : tensor<8xf32>
  }
  return %c : tensor<8xf32>
}
