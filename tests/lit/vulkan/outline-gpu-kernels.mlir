// Each workgroup kernel in a gpu.module of its own: bindings as storage
// buffers of set 0, the workgroup ids from gpu.block_id, the strategy's
// invocations as the workgroup size, scratch as workgroup variables.
// RUN: bertc-opt --bertc-vulkan-outline-gpu-kernels %s | FileCheck %s

// CHECK: module attributes {gpu.container_module, spirv.target_env = #spirv.target_env<#spirv.vce<v1.3, [Shader, Int64], [SPV_KHR_storage_buffer_storage_class]>
// CHECK: gpu.module @kernel_0 {
// CHECK-NEXT: gpu.func @kernel_0(
// CHECK-SAME: %[[A:.*]]: memref<64xf32> {spirv.interface_var_abi = #spirv.interface_var_abi<(0, 0)>}
// CHECK-SAME: %[[OUT:.*]]: memref<64xf32> {spirv.interface_var_abi = #spirv.interface_var_abi<(0, 1)>}) kernel
// CHECK-SAME: bertc.grid = array<i64: 4, 1, 1>
// CHECK-SAME: bertc.strategy = {invocations = 32 : i64}
// CHECK-SAME: spirv.entry_point_abi = #spirv.entry_point_abi<workgroup_size = [32, 1, 1]>
// CHECK: %[[X:.*]] = gpu.block_id x
// CHECK: %[[TMP:.*]] = memref.alloc() : memref<16xf32, #spirv.storage_class<Workgroup>>
// CHECK: memref.subview %[[A]][%[[X]]]
// CHECK: gpu.return
// CHECK: gpu.module @kernel_1 {
// CHECK: spirv.entry_point_abi = #spirv.entry_point_abi<workgroup_size = [64, 1, 1]>
// CHECK-NOT: func.func
func.func @kernel_0(%a: memref<64xf32>, %out: memref<64xf32>, %x: index, %y: index, %z: index) attributes {bertc.grid = array<i64: 4, 1, 1>, bertc.strategy = {invocations = 32 : i64}} {
  %tmp = memref.alloca() : memref<16xf32, #spirv.storage_class<Workgroup>>
  %v = memref.subview %a[%x] [16] [1] : memref<64xf32> to memref<16xf32, strided<[1], offset: ?>>
  memref.copy %v, %tmp : memref<16xf32, strided<[1], offset: ?>> to memref<16xf32, #spirv.storage_class<Workgroup>>
  return
}
func.func @kernel_1(%a: memref<64xf32>, %x: index, %y: index, %z: index) attributes {bertc.grid = array<i64: 1, 1, 1>} {
  return
}
