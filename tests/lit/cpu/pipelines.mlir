// The CPU back end's two pipelines on a kernel over tensors: workgroup
// kernels over memrefs (the strategy on the kernel, its grid recorded), then
// the LLVM dialect with the kernel ABI.
// RUN: bertc-opt --bertc-cpu-workgroup-kernels %s | FileCheck %s
// RUN: bertc-opt --bertc-cpu-workgroup-kernels --bertc-cpu-lower-to-llvm %s | FileCheck %s --check-prefix=LLVM
// RUN: bertc-opt '--bertc-cpu-workgroup-kernels=target-workgroups=4 vectorize=false' %s | FileCheck %s --check-prefix=SCALAR

// CHECK-LABEL: func.func @kernel_0(
// CHECK-SAME: %{{.*}}: memref<384x256xf32>, %{{.*}}: memref<256x512xf32>, %{{.*}}: memref<384x512xf32>, %[[X:.*]]: index, %[[Y:.*]]: index, %{{.*}}: index)
// CHECK-SAME: bertc.grid = array<i64: 4, 8, 1>
// CHECK-SAME: bertc.strategy = {amx = 0 : i64, bf16_dot = 0 : i64, k_chunk = 256
// CHECK-NOT: scf.forall
// CHECK-NOT: memref.alloc(
// CHECK: affine.apply #{{.*}}(%[[X]])
// CHECK: affine.apply #{{.*}}(%[[Y]])
// CHECK: scf.for {{.*}} -> ({{.*}}vector<6x16xf32>)
// CHECK: arith.mulf {{.*}} : vector<6x16x1xf32>

// LLVM: llvm.func @kernel_0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64)
// The register block's products and sums (LLVM fuses them into FMAs).
// LLVM: llvm.fmul
// LLVM: llvm.fadd
// LLVM: llvm.func @kernel_0_entry(
// LLVM: @bertc_kernels
// LLVM: @bertc_kernel_count(1 : i64)

// Four workgroups of 192 x 256; scalar loops.
// SCALAR-LABEL: func.func @kernel_0(
// SCALAR-SAME: bertc.grid = array<i64: 2, 2, 1>
// SCALAR-NOT: vector.
// SCALAR: linalg.matmul ins({{.*}} : memref<192x256xf32, {{.*}}>, memref<256x256xf32, {{.*}}>)
func.func @kernel_0(%a: tensor<384x256xf32>, %b: tensor<256x512xf32>) -> tensor<384x512xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<384x512xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<384x512xf32>) -> tensor<384x512xf32>
  %m = linalg.matmul ins(%a, %b : tensor<384x256xf32>, tensor<256x512xf32>) outs(%f : tensor<384x512xf32>) -> tensor<384x512xf32>
  return %m : tensor<384x512xf32>
}
