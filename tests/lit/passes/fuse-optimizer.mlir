// RUN: bertc-opt %s --bertc-fuse-optimizer | FileCheck %s

#map = affine_map<(d0) -> (d0)>
#opt = loc("kind:optimizer"("m.bertc":1:1))

// Two independent per-parameter updates become one dispatch with both
// results, where the first was; the state moves to the top; the dependent
// dispatch after them and the matmul-kind dispatch stay as they are.
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
// CHECK: graph.dispatch(%[[U]]#1)
// CHECK: graph.dispatch(%[[U]]#1)
// CHECK-NOT: graph.dispatch
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
  // Reads an update: it ends the run.
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
  // Not optimizer work.
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
