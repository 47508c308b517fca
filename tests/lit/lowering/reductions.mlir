// Normalisation and reductions (passes/lowering/Reductions.cpp) to linalg on tensors.
// RUN: bertc-opt %s --bertc-convert-graph-to-linalg --split-input-file | FileCheck %s

// Softmax: max, exp(x - max), sum, divide.
// CHECK-LABEL: func.func @softmax
func.func @softmax(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // CHECK: arith.constant 0xFF800000 : f32
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
  // CHECK: arith.maximumf
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
  // CHECK: arith.subf
  // CHECK: math.exp
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
  // CHECK: arith.addf
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
  // CHECK: arith.divf
  %0 = graph.softmax %x axis 1 : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @layer_norm
func.func @layer_norm(%x: tensor<2x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  // CHECK-COUNT-2: iterator_types = ["parallel", "reduction"]
  // CHECK: math.sqrt
  // CHECK: arith.divf
  %0 = graph.layer_norm %x, %g, %b eps 1.0e-12 : tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Argmax: two reductions of one combiner each, both vectorisable: the
// maximum (maxnumf from -inf), then the smallest index whose element is not
// below it (unordered-or-greater-equal), from the axis length 7.
// CHECK-LABEL: func.func @argmax
func.func @argmax(%x: tensor<4x7xf32>) -> tensor<4xi32> {
  // CHECK: %[[MAX0:.*]] = linalg.fill ins(%cst{{.*}} : f32) outs(%{{.*}} : tensor<4xf32>)
  // CHECK: %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.*}} : tensor<4x7xf32>) outs(%[[MAX0]] : tensor<4xf32>)
  // CHECK: arith.maxnumf
  // CHECK: %[[IDX:.*]] = linalg.fill ins(%c7_i32 : i32) outs(%{{.*}} : tensor<4xi32>)
  // CHECK: %[[R:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.*}}, %[[MAX]] : tensor<4x7xf32>, tensor<4xf32>) outs(%[[IDX]] : tensor<4xi32>)
  // CHECK: linalg.index 1
  // CHECK: arith.cmpf uge
  // CHECK: arith.select
  // CHECK: arith.minsi
  // CHECK: return %[[R]]
  %0 = graph.argmax %x axis 1 : tensor<4x7xf32> -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// sum over an axis; mean over all of them is a sum divided by the count.
// CHECK-LABEL: func.func @sum_mean
// CHECK: linalg.fill
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]{{.*}} outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: arith.addf
// CHECK: iterator_types = ["reduction", "reduction", "reduction"]{{.*}} outs(%{{.*}} : tensor<f32>)
// CHECK: arith.constant 2.400000e+01 : f32
// CHECK: arith.divf
func.func @sum_mean(%x: tensor<2x3x4xf32>) -> (tensor<2x4xf32>, tensor<f32>) {
  %s = graph.sum %x axes [1] : tensor<2x3x4xf32> -> tensor<2x4xf32>
  %m = graph.mean %x axes [] : tensor<2x3x4xf32> -> tensor<f32>
  return %s, %m : tensor<2x4xf32>, tensor<f32>
}

// -----

// layer_norm_grad: the row mean and variance again, the row sums of g*w
// and of g*w*xhat, then dx in one elementwise op.
// CHECK-LABEL: func.func @layer_norm_grad
// CHECK-COUNT-4: iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]{{.*}} outs(%{{.*}} : tensor<2x8xf32>)
// CHECK: math.sqrt
func.func @layer_norm_grad(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %g: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %d = graph.layer_norm_grad %x, %w, %g eps 1.0e-12 : tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>
  return %d : tensor<2x8xf32>
}
