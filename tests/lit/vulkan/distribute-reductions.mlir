// A sum of 256 elements to one output, over 64 invocations: each folds
// every 64th element into a partial result in workgroup memory, invocation
// 0 folds the partial results (both steps marked for the barriers of
// bertc-vulkan-distribute-invocations). In the second module clusters of 8
// lanes first combine theirs by xor shuffles (4, 2, 1), and invocation 0
// reads every 8th. A second module with no reduction to combine is erased.
// RUN: bertc-opt --split-input-file --bertc-vulkan-distribute-reductions %s | FileCheck %s

// CHECK-LABEL: gpu.module @kernel_0 {
// CHECK: %[[PARTIALS:.*]] = memref.alloc() : memref<64xf32, #spirv.storage_class<Workgroup>>
// CHECK: %[[T:.*]] = gpu.thread_id x
// CHECK: scf.if
// CHECK: scf.for {{.*}} to %c256 step %c64
// CHECK: memref.store %{{.*}}, %[[PARTIALS]][%[[T]]]
// CHECK: } {bertc.spread}
// CHECK: arith.cmpi ult, %[[T]], %c1
// CHECK: scf.for {{.*}} to %c64{{.*}} step %c1
// CHECK: memref.load %[[PARTIALS]]
// CHECK: } {bertc.spread}
// CHECK-NOT: gpu.shuffle
// CHECK-NOT: linalg.generic
// CHECK-LABEL: gpu.module @kernel_0_subgroups
// CHECK: gpu.subgroup_id
// CHECK: gpu.lane_id
// CHECK: gpu.shuffle xor %{{.*}}, %c4_i32, %c8_i32
// CHECK: gpu.shuffle xor %{{.*}}, %c2_i32, %c8_i32
// CHECK: gpu.shuffle xor %{{.*}}, %c1_i32, %c8_i32
// CHECK: scf.for {{.*}} step %c8
// CHECK-LABEL: gpu.module @kernel_1 {
// CHECK-NOT: kernel_1_subgroups
module attributes {gpu.container_module, spirv.target_env = #spirv.target_env<#spirv.vce<v1.3, [Shader, Int64], [SPV_KHR_storage_buffer_storage_class]>, api=Vulkan, #spirv.resource_limits<>>} {
  gpu.module @kernel_0 {
    gpu.func @kernel_0(%a: memref<64x256xf32>, %out: memref<64xf32>) kernel attributes {bertc.strategy = {invocations = 64 : i64, subgroup_cluster = 8 : i64}} {
      %x = gpu.block_id x
      %zero = arith.constant 0.000000e+00 : f32
      %row = memref.subview %a[%x, 0] [1, 256] [1, 1] : memref<64x256xf32> to memref<1x256xf32, strided<[256, 1], offset: ?>>
      %sum = memref.subview %out[%x] [1] [1] : memref<64xf32> to memref<1xf32, strided<[1], offset: ?>>
      linalg.fill ins(%zero : f32) outs(%sum : memref<1xf32, strided<[1], offset: ?>>)
      linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%row : memref<1x256xf32, strided<[256, 1], offset: ?>>) outs(%sum : memref<1xf32, strided<[1], offset: ?>>) {
      ^bb0(%in: f32, %acc: f32):
        %r = arith.addf %in, %acc : f32
        linalg.yield %r : f32
      }
      gpu.return
    }
  }
  gpu.module @kernel_0_subgroups attributes {bertc.subgroups_of = 0 : i64, spirv.target_env = #spirv.target_env<#spirv.vce<v1.3, [Shader, Int64, GroupNonUniform, GroupNonUniformShuffle], [SPV_KHR_storage_buffer_storage_class]>, api=Vulkan, #spirv.resource_limits<subgroup_size = 8>>} {
    gpu.func @kernel_0(%a: memref<64x256xf32>, %out: memref<64xf32>) kernel attributes {bertc.strategy = {invocations = 64 : i64, subgroup_cluster = 8 : i64}} {
      %x = gpu.block_id x
      %zero = arith.constant 0.000000e+00 : f32
      %row = memref.subview %a[%x, 0] [1, 256] [1, 1] : memref<64x256xf32> to memref<1x256xf32, strided<[256, 1], offset: ?>>
      %sum = memref.subview %out[%x] [1] [1] : memref<64xf32> to memref<1xf32, strided<[1], offset: ?>>
      linalg.fill ins(%zero : f32) outs(%sum : memref<1xf32, strided<[1], offset: ?>>)
      linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%row : memref<1x256xf32, strided<[256, 1], offset: ?>>) outs(%sum : memref<1xf32, strided<[1], offset: ?>>) {
      ^bb0(%in: f32, %acc: f32):
        %r = arith.addf %in, %acc : f32
        linalg.yield %r : f32
      }
      gpu.return
    }
  }
  gpu.module @kernel_1 {
    gpu.func @kernel_1(%a: memref<64xf32>) kernel attributes {bertc.strategy = {invocations = 64 : i64, subgroup_cluster = 8 : i64}} {
      gpu.return
    }
  }
  gpu.module @kernel_1_subgroups attributes {bertc.subgroups_of = 1 : i64} {
    gpu.func @kernel_1(%a: memref<64xf32>) kernel attributes {bertc.strategy = {invocations = 64 : i64, subgroup_cluster = 8 : i64}} {
      gpu.return
    }
  }
}

// -----

// A 32 x 32 matmul tile staged: K in chunks of 32, each chunk's pieces of A
// and B copied into workgroup memory, the product read from there.
// CHECK-LABEL: gpu.module @kernel_0 {
// CHECK-DAG: %[[SA:.*]] = memref.alloc() : memref<32x32xf32, #spirv.storage_class<Workgroup>>
// CHECK-DAG: %[[SB:.*]] = memref.alloc() : memref<32x32xf32, #spirv.storage_class<Workgroup>>
// CHECK: scf.for %[[K:.*]] = %c0 to %c64 step %c32
// CHECK: %[[A:.*]] = memref.subview %arg0[0, %[[K]]] [32, 32]
// CHECK: %[[B:.*]] = memref.subview %arg1[%[[K]], 0] [32, 32]
// CHECK: linalg.copy ins(%[[A]] :
// CHECK: linalg.copy ins(%[[B]] :
// CHECK: linalg.matmul ins({{.*}} : memref<?x?xf32, strided<[32, 1]>, #spirv.storage_class<Workgroup>>, memref<?x?xf32, strided<[32, 1]>, #spirv.storage_class<Workgroup>>)
module attributes {gpu.container_module} {
  gpu.module @kernel_0 {
    gpu.func @kernel_0(%a: memref<32x64xf32>, %b: memref<64x32xf32>, %c: memref<32x32xf32>) kernel attributes {bertc.strategy = {invocations = 64 : i64, staged_elements_max = 1024 : i64, staged_k_chunk = 32 : i64, staged_tile_min = 16 : i64, subgroup_cluster = 8 : i64}} {
      linalg.matmul ins(%a, %b : memref<32x64xf32>, memref<64x32xf32>) outs(%c : memref<32x32xf32>)
      gpu.return
    }
  }
}
