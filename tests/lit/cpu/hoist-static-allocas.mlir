// A fixed-size stack buffer allocated in a loop moves to the kernel's
// entry; one of dynamic size stays.
// RUN: bertc-opt --bertc-cpu-hoist-static-allocas %s | FileCheck %s

// CHECK-LABEL: func.func @allocas(
// CHECK-NEXT: memref.alloca() : memref<16xf32>
// CHECK: scf.for
// CHECK-NOT: memref.alloca() : memref<16xf32>
// CHECK: memref.alloca(%{{.*}}) : memref<?xf32>
func.func @allocas(%n: index, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %tmp = memref.alloca() : memref<16xf32>
    %dyn = memref.alloca(%n) : memref<?xf32>
    memref.copy %tmp, %out : memref<16xf32> to memref<16xf32>
  }
  return
}
