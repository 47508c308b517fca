// Each parallel loop nest of a workgroup runs cyclically over its 64
// invocations (iteration i on invocation i mod 64), barriers between the
// steps; the kernel's workgroup memory is recorded (16 x 32 floats).
// RUN: bertc-opt --pass-pipeline='builtin.module(gpu.module(gpu.func(bertc-vulkan-distribute-invocations)))' %s | FileCheck %s

// CHECK-LABEL: gpu.func @kernel_0(
// CHECK-SAME: bertc.workgroup_memory = 2048 : i64
// CHECK: %[[T:.*]] = gpu.thread_id x
// CHECK-NOT: scf.parallel
// CHECK: scf.for %[[I:.*]] = %[[T]] to %{{.*}} step %c64
// CHECK: arith.negf
// CHECK: }
// CHECK-NEXT: gpu.barrier
// CHECK: scf.for %{{.*}} = %[[T]] to %{{.*}} step %c64
// CHECK: memref.store
// CHECK: }
// CHECK-NEXT: gpu.return
module attributes {gpu.container_module} {
  gpu.module @kernel_0 {
    gpu.func @kernel_0(%a: memref<16x32xf32>, %out: memref<16x32xf32>) kernel attributes {bertc.strategy = {invocations = 64 : i64}} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c16 = arith.constant 16 : index
      %c32 = arith.constant 32 : index
      %tmp = memref.alloc() : memref<16x32xf32, 3>
      scf.parallel (%i, %j) = (%c0, %c0) to (%c16, %c32) step (%c1, %c1) {
        %v = memref.load %a[%i, %j] : memref<16x32xf32>
        %n = arith.negf %v : f32
        memref.store %n, %tmp[%i, %j] : memref<16x32xf32, 3>
        scf.reduce
      }
      scf.parallel (%i, %j) = (%c0, %c0) to (%c16, %c32) step (%c1, %c1) {
        %v = memref.load %tmp[%j, %i] : memref<16x32xf32, 3>
        memref.store %v, %out[%i, %j] : memref<16x32xf32>
        scf.reduce
      }
      gpu.return
    }
  }
}
