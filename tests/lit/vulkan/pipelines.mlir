// The Vulkan back end's two pipelines on a kernel over tensors (a row sum):
// gpu.modules whose 64 invocations share each workgroup's row, with the
// kernel's second module (subgroup shuffles); then SPIR-V modules.
// RUN: bertc-opt --bertc-vulkan-workgroup-kernels %s | FileCheck %s
// RUN: bertc-opt --bertc-vulkan-workgroup-kernels --bertc-vulkan-to-spirv %s | FileCheck %s --check-prefix=SPIRV
// RUN: bertc-opt '--bertc-vulkan-workgroup-kernels=invocations=128 subgroup-cluster=0' --bertc-vulkan-to-spirv %s | FileCheck %s --check-prefix=WIDE

// CHECK: gpu.module @kernel_0 {
// CHECK: gpu.func @kernel_0({{.*}}) kernel attributes {bertc.grid = array<i64: 64, 1, 1>
// CHECK-SAME: bertc.workgroup_memory = 256 : i64
// CHECK: gpu.thread_id x
// CHECK: gpu.barrier
// CHECK-NOT: linalg.
// CHECK: gpu.module @kernel_0_subgroups attributes {bertc.subgroups_of = 0 : i64
// CHECK: gpu.shuffle xor

// SPIRV: spirv.module @__spv__kernel_0 Logical GLSL450
// SPIRV: spirv.ExecutionMode @kernel_0 "LocalSize", 64, 1, 1
// SPIRV: spirv.module @__spv__kernel_0_subgroups Logical GLSL450 requires #spirv.vce<v1.3, [Shader, GroupNonUniformShuffle]
// SPIRV: spirv.GroupNonUniformShuffleXor <Subgroup>
// SPIRV-NOT: gpu.

// WIDE: spirv.ExecutionMode @kernel_0 "LocalSize", 128, 1, 1
// WIDE-NOT: _subgroups
func.func @kernel_0(%a: tensor<64x256xf32>) -> tensor<64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64xf32>) -> tensor<64xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%a : tensor<64x256xf32>) outs(%f : tensor<64xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %r = arith.addf %x, %acc : f32
    linalg.yield %r : f32
  } -> tensor<64xf32>
  return %s : tensor<64xf32>
}
