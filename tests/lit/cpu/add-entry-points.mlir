// The kernel ABI: kernel_N_entry(bindings, x, y, z) for each kernel defined
// in the module, in order, and the kernel table; declarations (libm) are
// not kernels.
// RUN: bertc-opt --bertc-cpu-add-entry-points %s | FileCheck %s

// CHECK-LABEL: llvm.func @kernel_0_entry(
// CHECK-SAME: %[[B:.*]]: !llvm.ptr, %[[X:.*]]: i64, %[[Y:.*]]: i64, %[[Z:.*]]: i64)
// CHECK: %[[S0:.*]] = llvm.getelementptr %[[B]][0]
// CHECK: %[[P0:.*]] = llvm.load %[[S0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[S1:.*]] = llvm.getelementptr %[[B]][1]
// CHECK: %[[P1:.*]] = llvm.load %[[S1]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call @kernel_0(%[[P0]], %[[P1]], %[[X]], %[[Y]], %[[Z]])
// CHECK-LABEL: llvm.func @kernel_1_entry(
// CHECK: llvm.call @kernel_1(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK-NOT: @erf_entry
// CHECK: llvm.mlir.global external constant @bertc_kernels() {{.*}} : !llvm.array<2 x ptr>
// CHECK-DAG: llvm.mlir.addressof @kernel_0_entry
// CHECK-DAG: llvm.mlir.addressof @kernel_1_entry
// CHECK: llvm.mlir.global external constant @bertc_kernel_count(2 : i64)
llvm.func @erf(f64) -> f64
llvm.func @kernel_0(%a: !llvm.ptr, %b: !llvm.ptr, %x: i64, %y: i64, %z: i64) {
  llvm.return
}
llvm.func @kernel_1(%a: !llvm.ptr, %x: i64, %y: i64, %z: i64) {
  llvm.return
}
