// RUN: bertc-opt %s --bertc-fuse-horizontal --split-input-file | FileCheck %s
// RUN: bertc-opt %s --pass-pipeline='builtin.module(func.func(bertc-fuse-horizontal{max-bindings=5}))' --split-input-file | FileCheck %s --check-prefix=BOUND

#map = affine_map<(d0) -> (d0)>
#opt = loc("kind:optimizer"("m.bertc":1:1))

// Two independent per-parameter updates become one dispatch with both
// results, where the first was; the state moves to the top. The two
// dispatches that read an update form a second run.
// CHECK-LABEL: func.func @updates
// CHECK-NEXT: %[[M1:.*]] = graph.state "m1"
// CHECK-NEXT: %[[M2:.*]] = graph.state "m2"
// CHECK: %[[U:.*]]:2 = graph.dispatch(%[[G1:.*]], %[[M1]], %[[G2:.*]], %[[M2]]) : (tensor<8xf32>, tensor<8xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<8xf32>, tensor<4xf32>) {
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>, %[[C:.*]]: tensor<4xf32>, %[[D:.*]]: tensor<4xf32>):
// CHECK: linalg.generic {{.*}} ins(%[[A]], %[[B]] : tensor<8xf32>, tensor<8xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[C]], %[[D]] : tensor<4xf32>, tensor<4xf32>)
// CHECK: graph.yield %{{.*}}, %{{.*}} : tensor<8xf32>, tensor<4xf32>
// CHECK: graph.assign %[[M1]], %[[U]]#0
// CHECK: graph.assign %[[M2]], %[[U]]#1
// CHECK: graph.dispatch(%[[U]]#1) : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
// CHECK-NOT: graph.dispatch
// With at most 5 buffers per kernel, the two updates (4 inputs, 2 results)
// stay apart.
// BOUND-LABEL: func.func @updates
// BOUND: graph.dispatch(%{{.*}}, %{{.*}}) : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
// BOUND: graph.dispatch(%{{.*}}, %{{.*}}) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
func.func @updates(%g1: tensor<8xf32>, %g2: tensor<4xf32>) {
  %m1 = graph.state "m1" : tensor<8xf32>
  %u1 = graph.dispatch(%g1, %m1) : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<8xf32>, %b: tensor<8xf32>):
    %e = tensor.empty() : tensor<8xf32>
    %r = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel"]}
        ins(%a, %b : tensor<8xf32>, tensor<8xf32>) outs(%e : tensor<8xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %s = arith.addf %x, %y : f32
      linalg.yield %s : f32
    } -> tensor<8xf32> loc(#opt)
    graph.yield %r : tensor<8xf32>
  }
  graph.assign %m1, %u1 : tensor<8xf32>
  %m2 = graph.state "m2" : tensor<4xf32>
  %u2 = graph.dispatch(%g2, %m2) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<4xf32>):
    %e = tensor.empty() : tensor<4xf32>
    %r = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel"]}
        ins(%a, %b : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %s = arith.addf %x, %y : f32
      linalg.yield %s : f32
    } -> tensor<4xf32> loc(#opt)
    graph.yield %r : tensor<4xf32>
  }
  graph.assign %m2, %u2 : tensor<4xf32>
  // Reads an update: it cannot join the first run, and starts another.
  %d = graph.dispatch(%u2) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = tensor.empty() : tensor<4xf32>
    %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
        ins(%a : tensor<4xf32>) outs(%e : tensor<4xf32>) {
    ^bb0(%x: f32, %o: f32):
      %s = arith.mulf %x, %x : f32
      linalg.yield %s : f32
    } -> tensor<4xf32> loc(#opt)
    graph.yield %r : tensor<4xf32>
  }
  // Another reader of the update (no kind of work needed): joins it.
  %n = graph.dispatch(%u2) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = tensor.empty() : tensor<4xf32>
    %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
        ins(%a : tensor<4xf32>) outs(%e : tensor<4xf32>) {
    ^bb0(%x: f32, %o: f32):
      %s = arith.mulf %x, %x : f32
      linalg.yield %s : f32
    } -> tensor<4xf32>
    graph.yield %r : tensor<4xf32>
  }
  return
}

// -----

#map = affine_map<(d0) -> (d0)>

// The second kernel's input is computed after the first kernel, whose
// result nobody reads before the second: the run moves to the second. The
// matmul in between is not a candidate and stays apart.
// CHECK-LABEL: func.func @anchor_moves
// CHECK: %[[M:.*]] = graph.dispatch(%{{.*}}, %{{.*}}) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
// CHECK: linalg.matmul
// CHECK: graph.dispatch(%{{.*}}, %[[M]]) : (tensor<4xf32>, tensor<4x4xf32>) -> (tensor<4xf32>, tensor<4x4xf32>)
// CHECK-NOT: graph.dispatch
func.func @anchor_moves(%x: tensor<4xf32>, %a: tensor<4x4xf32>) -> (tensor<4xf32>, tensor<4x4xf32>) {
  %t = graph.dispatch(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%v: tensor<4xf32>):
    %e = tensor.empty() : tensor<4xf32>
    %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
        ins(%v : tensor<4xf32>) outs(%e : tensor<4xf32>) {
    ^bb0(%i: f32, %o: f32):
      %0 = math.tanh %i : f32
      linalg.yield %0 : f32
    } -> tensor<4xf32>
    graph.yield %r : tensor<4xf32>
  }
  %m = graph.dispatch(%a, %a) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%p: tensor<4x4xf32>, %q: tensor<4x4xf32>):
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<4x4xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
    %r = linalg.matmul ins(%p, %q : tensor<4x4xf32>, tensor<4x4xf32>) outs(%z : tensor<4x4xf32>) -> tensor<4x4xf32>
    graph.yield %r : tensor<4x4xf32>
  }
  %n = graph.dispatch(%m) : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%p: tensor<4x4xf32>):
    %e = tensor.empty() : tensor<4x4xf32>
    %r = linalg.transpose ins(%p : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) permutation = [1, 0]
    graph.yield %r : tensor<4x4xf32>
  }
  return %t, %n : tensor<4xf32>, tensor<4x4xf32>
}

// -----

#map = affine_map<(d0) -> (d0)>

// With gradient buffers, a dispatch reading a buffer's new sum (here its
// sum of squares, for the global norm) belongs to the update, which runs
// once per step after all micro-batches and ranks: the next buffer's sum,
// computed by each micro-batch, does not join it.
// CHECK-LABEL: func.func @update_phase
// CHECK: %[[S1:.*]] = graph.dispatch(%{{.*}}, %{{.*}}) : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
// CHECK: graph.assign %{{.*}}, %[[S1]]
// CHECK: graph.dispatch(%[[S1]]) : (tensor<8xf32>) -> tensor<f32>
// CHECK: %[[S2:.*]] = graph.dispatch(%{{.*}}, %{{.*}}) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK: graph.assign %{{.*}}, %[[S2]]
// CHECK-NOT: graph.dispatch
func.func @update_phase(%g1: tensor<8xf32>, %g2: tensor<4xf32>) -> tensor<f32> {
  %a1 = graph.state "gradient.p1" {bertc.gradient_buffer} : tensor<8xf32>
  %s1 = graph.dispatch(%g1, %a1) : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<8xf32>, %b: tensor<8xf32>):
    %e = tensor.empty() : tensor<8xf32>
    %r = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel"]}
        ins(%a, %b : tensor<8xf32>, tensor<8xf32>) outs(%e : tensor<8xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %s = arith.addf %x, %y : f32
      linalg.yield %s : f32
    } -> tensor<8xf32>
    graph.yield %r : tensor<8xf32>
  }
  graph.assign %a1, %s1 : tensor<8xf32>
  %n1 = graph.dispatch(%s1) : (tensor<8xf32>) -> tensor<f32> {
  ^bb0(%a: tensor<8xf32>):
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<f32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
    %r = linalg.generic {indexing_maps = [#map, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
        ins(%a : tensor<8xf32>) outs(%z : tensor<f32>) {
    ^bb0(%x: f32, %o: f32):
      %q = arith.mulf %x, %x : f32
      %s = arith.addf %q, %o : f32
      linalg.yield %s : f32
    } -> tensor<f32>
    graph.yield %r : tensor<f32>
  }
  %a2 = graph.state "gradient.p2" {bertc.gradient_buffer} : tensor<4xf32>
  %s2 = graph.dispatch(%g2, %a2) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<4xf32>):
    %e = tensor.empty() : tensor<4xf32>
    %r = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel"]}
        ins(%a, %b : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %s = arith.addf %x, %y : f32
      linalg.yield %s : f32
    } -> tensor<4xf32>
    graph.yield %r : tensor<4xf32>
  }
  graph.assign %a2, %s2 : tensor<4xf32>
  return %n1 : tensor<f32>
}
