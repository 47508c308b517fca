// Each gpu.module becomes a spirv.module in its place, with its own target;
// gpu.lane_id reads SubgroupLocalInvocationId; barriers also order storage
// buffer accesses; bertc's attributes are gone.
// RUN: bertc-opt --bertc-vulkan-convert-to-spirv %s | FileCheck %s

// CHECK-NOT: gpu.module
// CHECK: spirv.module @{{.*}}kernel_0 Logical GLSL450
// CHECK: spirv.GlobalVariable @{{.*}} built_in("SubgroupLocalInvocationId")
// CHECK: spirv.func @kernel_0(
// CHECK-NOT: bertc.
// CHECK: spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|UniformMemory|WorkgroupMemory>
module attributes {gpu.container_module, spirv.target_env = #spirv.target_env<#spirv.vce<v1.3, [Shader, Int64, GroupNonUniform, GroupNonUniformShuffle], [SPV_KHR_storage_buffer_storage_class]>, api=Vulkan, #spirv.resource_limits<subgroup_size = 8>>} {
  gpu.module @kernel_0 {
    gpu.func @kernel_0(%out: memref<64xi32, #spirv.storage_class<StorageBuffer>> {spirv.interface_var_abi = #spirv.interface_var_abi<(0, 0)>}) kernel attributes {bertc.grid = array<i64: 1, 1, 1>, bertc.workgroup_memory = 0 : i64, spirv.entry_point_abi = #spirv.entry_point_abi<workgroup_size = [64, 1, 1]>} {
      %t = gpu.thread_id x
      %lane = gpu.lane_id
      %v = arith.index_cast %lane : index to i32
      gpu.barrier
      memref.store %v, %out[%t] : memref<64xi32, #spirv.storage_class<StorageBuffer>>
      gpu.return
    }
  }
}
