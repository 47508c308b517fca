// RUN: bertc-opt %s --bertc-mixed-precision | FileCheck %s

// Both operands of each f32 matmul become bf16: a parameter through its
// copy (one per parameter, however often it is read), an activation
// converted where it is computed, through a reshape; the product stays f32.
// The copy is assigned right after its parameter, from the converted
// update. f64 products are left alone.
// CHECK-LABEL: func.func @step
func.func @step() {
  // CHECK: %[[W:.*]] = graph.parameter "w"
  // CHECK-NEXT: %[[W16:.*]] = graph.parameter_copy %[[W]] : tensor<6x4xf32> -> tensor<6x4xbf16>
  %w = graph.parameter "w" normal std = 2.000000e-02 : tensor<6x4xf32>
  // CHECK: %[[X:.*]] = graph.input "x" : tensor<2x4x4xf32>
  // CHECK-NEXT: %[[X16:.*]] = graph.convert %[[X]] : tensor<2x4x4xf32> -> tensor<2x4x4xbf16>
  %x = graph.input "x" : tensor<2x4x4xf32>
  // CHECK: %[[T:.*]] = graph.tanh %[[X]]
  %t = graph.tanh %x : tensor<2x4x4xf32>
  // CHECK: %[[R16:.*]] = graph.reshape %[[X16]] to [8, 4] : tensor<2x4x4xbf16> -> tensor<8x4xbf16>
  %r = graph.reshape %x to [8, 4] : tensor<2x4x4xf32> -> tensor<8x4xf32>
  // CHECK: graph.matmul %[[R16]], %[[W16]] {transpose_b = true} : tensor<8x4xbf16>, tensor<6x4xbf16> -> tensor<8x6xf32>
  %y = graph.matmul %r, %w {transpose_b = true} : tensor<8x4xf32>, tensor<6x4xf32> -> tensor<8x6xf32>
  // CHECK: %[[G:.*]] = graph.input "g"
  // CHECK-NEXT: %[[G16:.*]] = graph.convert %[[G]] : tensor<8x6xf32> -> tensor<8x6xbf16>
  %g = graph.input "g" : tensor<8x6xf32>
  // CHECK: graph.matmul %[[G16]], %[[R16]] {transpose_a = true} : tensor<8x6xbf16>, tensor<8x4xbf16> -> tensor<6x4xf32>
  %gw = graph.matmul %g, %r {transpose_a = true} : tensor<8x6xf32>, tensor<8x4xf32> -> tensor<6x4xf32>
  // CHECK: graph.matmul %[[G16]], %[[W16]] : tensor<8x6xbf16>, tensor<6x4xbf16> -> tensor<8x4xf32>
  %gx = graph.matmul %g, %w : tensor<8x6xf32>, tensor<6x4xf32> -> tensor<8x4xf32>
  // CHECK: graph.assign %[[W]], %[[NEW:.*]] : tensor<6x4xf32>
  // CHECK-NEXT: %[[NEW16:.*]] = graph.convert %[[NEW]] : tensor<6x4xf32> -> tensor<6x4xbf16>
  // CHECK-NEXT: graph.assign %[[W16]], %[[NEW16]] : tensor<6x4xbf16>
  %new = graph.sub %w, %gw : tensor<6x4xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
  graph.assign %w, %new : tensor<6x4xf32>
  // CHECK: graph.matmul %{{.*}}, %{{.*}} : tensor<2x3xf64>, tensor<3x2xf64> -> tensor<2x2xf64>
  %a = graph.input "a" : tensor<2x3xf64>
  %b = graph.input "b" : tensor<3x2xf64>
  %c = graph.matmul %a, %b : tensor<2x3xf64>, tensor<3x2xf64> -> tensor<2x2xf64>
  graph.output "y" %y : tensor<8x6xf32>
  graph.output "t" %t : tensor<2x4x4xf32>
  graph.output "gx" %gx : tensor<8x4xf32>
  graph.output "c" %c : tensor<2x2xf64>
  return
}
