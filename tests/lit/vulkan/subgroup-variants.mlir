// A second module for each kernel whose strategy allows subgroup shuffles,
// after all the first ones, with its kernel's index and a target that has
// the shuffles.
// RUN: bertc-opt --bertc-vulkan-subgroup-variants %s | FileCheck %s

// CHECK: gpu.module @kernel_0 {
// CHECK: gpu.module @kernel_1 {
// CHECK: gpu.module @kernel_2 {
// CHECK: gpu.module @kernel_0_subgroups attributes {bertc.subgroups_of = 0 : i64, spirv.target_env = #spirv.target_env<#spirv.vce<v1.3, [Shader, Int64, GroupNonUniform, GroupNonUniformShuffle], {{.*}}subgroup_size = 8
// CHECK-NEXT: gpu.func @kernel_0(
// CHECK: gpu.module @kernel_2_subgroups attributes {bertc.subgroups_of = 2 : i64, {{.*}}subgroup_size = 4
// CHECK-NOT: kernel_1_subgroups
module attributes {gpu.container_module} {
  gpu.module @kernel_0 {
    gpu.func @kernel_0(%a: memref<64xf32>) kernel attributes {bertc.strategy = {invocations = 64 : i64, subgroup_cluster = 8 : i64}} {
      gpu.return
    }
  }
  gpu.module @kernel_1 {
    gpu.func @kernel_1(%a: memref<64xf32>) kernel attributes {bertc.strategy = {invocations = 64 : i64, subgroup_cluster = 0 : i64}} {
      gpu.return
    }
  }
  gpu.module @kernel_2 {
    gpu.func @kernel_2(%a: memref<64xf32>) kernel attributes {bertc.strategy = {invocations = 64 : i64, subgroup_cluster = 4 : i64}} {
      gpu.return
    }
  }
}
