//===- GpuKernels.cpp - Workgroup kernels as gpu.modules ------------------===//
#include "backends/common/Strategy.h"
#include "backends/vulkan/Internal.h"
#include "backends/vulkan/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVAttributes.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;

namespace bertc::vulkan {

#define GEN_PASS_DEF_VULKANOUTLINEGPUKERNELS
#define GEN_PASS_DEF_VULKANSUBGROUPVARIANTS
#include "backends/vulkan/Passes.h.inc"

/// SPIR-V 1.3 with 64-bit integers: the dropout's Philox generator
/// multiplies 32-bit words into 64 bits. The shuffles' width must be the
/// target's subgroup size.
spirv::TargetEnvAttr targetEnv(MLIRContext *ctx, int64_t cluster) {
  SmallVector<spirv::Capability> capabilities = {spirv::Capability::Shader,
                                                 spirv::Capability::Int64};
  spirv::ResourceLimitsAttr limits = spirv::getDefaultResourceLimits(ctx);
  if (cluster > 1) {
    capabilities.push_back(spirv::Capability::GroupNonUniform);
    capabilities.push_back(spirv::Capability::GroupNonUniformShuffle);
    limits = spirv::ResourceLimitsAttr::get(
        ctx, limits.getMaxComputeSharedMemorySize(), limits.getMaxComputeWorkgroupInvocations(),
        limits.getMaxComputeWorkgroupSize(), static_cast<int>(cluster), limits.getMinSubgroupSize(),
        limits.getMaxSubgroupSize(), limits.getCooperativeMatrixPropertiesKhr(),
        limits.getCooperativeMatrixPropertiesNv());
  }
  auto triple =
      spirv::VerCapExtAttr::get(spirv::Version::V_1_3, capabilities,
                                {spirv::Extension::SPV_KHR_storage_buffer_storage_class}, ctx);
  return spirv::TargetEnvAttr::get(triple, limits, spirv::ClientAPI::Vulkan);
}

Value invocationId(gpu::GPUFuncOp kernel) {
  Block &entry = kernel.getBody().front();
  for (auto id : entry.getOps<gpu::ThreadIdOp>())
    if (id.getDimension() == gpu::Dimension::x)
      return id;
  return OpBuilder::atBlockBegin(&entry).create<gpu::ThreadIdOp>(kernel.getLoc(),
                                                                 gpu::Dimension::x);
}

SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value linear, ArrayRef<Value> sizes) {
  SmallVector<Value> out(sizes.size());
  for (size_t d = sizes.size(); d-- > 0;) {
    out[d] = d == 0 ? linear : b.create<arith::RemUIOp>(loc, linear, sizes[d]).getResult();
    if (d > 0)
      linear = b.create<arith::DivUIOp>(loc, linear, sizes[d]);
  }
  return out;
}

SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value linear, ArrayRef<int64_t> sizes) {
  SmallVector<Value> values;
  for (int64_t size : sizes)
    values.push_back(b.create<arith::ConstantIndexOp>(loc, size));
  return delinearize(b, loc, linear, values);
}

namespace {

/// Moves the workgroup kernel `fn(memrefs..., x, y, z)` into its own
/// gpu.module as a kernel gpu.func over the memrefs, the workgroup ids
/// read from gpu.block_id and every memref a storage buffer binding.
void toGpuKernel(func::FuncOp fn, int64_t invocations) {
  MLIRContext *ctx = fn.getContext();
  OpBuilder b(fn);
  Location loc = fn.getLoc();
  auto gpuModule = b.create<gpu::GPUModuleOp>(loc, fn.getSymName());
  unsigned numBuffers = fn.getNumArguments() - 3;
  SmallVector<Type> buffers(fn.getArgumentTypes().take_front(numBuffers));
  b.setInsertionPointToStart(gpuModule.getBody());
  auto kernel = b.create<gpu::GPUFuncOp>(loc, fn.getSymName(), b.getFunctionType(buffers, {}));
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  kernel->setAttr(spirv::getEntryPointABIAttrName(),
                  spirv::getEntryPointABIAttr(ctx, {static_cast<int32_t>(invocations), 1, 1}));
  for (unsigned i = 0; i < numBuffers; ++i)
    kernel.setArgAttr(i, spirv::getInterfaceVarABIAttrName(),
                      spirv::getInterfaceVarABIAttr(0, i, std::nullopt, ctx));
  Block &entry = kernel.getBody().front();
  b.setInsertionPointToStart(&entry);
  IRMapping map;
  for (unsigned i = 0; i < numBuffers; ++i)
    map.map(fn.getArgument(i), entry.getArgument(i));
  const gpu::Dimension dims[] = {gpu::Dimension::x, gpu::Dimension::y, gpu::Dimension::z};
  for (unsigned i = 0; i < 3; ++i)
    map.map(fn.getArgument(numBuffers + i), b.create<gpu::BlockIdOp>(loc, dims[i]));
  for (NamedAttribute a : fn->getDiscardableAttrs())
    kernel->setAttr(a.getName(), a.getValue());
  for (Operation &op : fn.getBody().front()) {
    if (isa<func::ReturnOp>(op))
      b.create<gpu::ReturnOp>(op.getLoc());
    else
      b.clone(op, map);
  }
  fn.erase();
  // The scratch buffers (in the Workgroup storage class) become workgroup
  // variables: SPIR-V lowers such a memref.alloc, not an alloca.
  SmallVector<memref::AllocaOp> scratch;
  kernel.walk([&](memref::AllocaOp a) { scratch.push_back(a); });
  for (memref::AllocaOp a : scratch) {
    OpBuilder at(a);
    a.replaceAllUsesWith(at.create<memref::AllocOp>(a.getLoc(), a.getType()).getResult());
    a.erase();
  }
}

struct VulkanOutlineGpuKernels : impl::VulkanOutlineGpuKernelsBase<VulkanOutlineGpuKernels> {
  void runOnOperation() override {
    ModuleOp kernels = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<func::FuncOp> fns(kernels.getOps<func::FuncOp>());
    for (func::FuncOp fn : fns)
      toGpuKernel(fn, VulkanStrategy::of(fn).invocations);
    kernels->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), UnitAttr::get(ctx));
    kernels->setAttr(spirv::getTargetEnvAttrName(), targetEnv(ctx, /*cluster=*/1));
  }
};

struct VulkanSubgroupVariants : impl::VulkanSubgroupVariantsBase<VulkanSubgroupVariants> {
  void runOnOperation() override {
    ModuleOp kernels = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<gpu::GPUModuleOp> firsts(kernels.getOps<gpu::GPUModuleOp>());
    OpBuilder atEnd = OpBuilder::atBlockEnd(kernels.getBody());
    for (auto [k, m] : llvm::enumerate(firsts)) {
      auto fns = m.getOps<gpu::GPUFuncOp>();
      if (fns.empty())
        continue;
      int64_t cluster = VulkanStrategy::of(*fns.begin()).subgroupCluster;
      if (cluster <= 1)
        continue;
      auto second = cast<gpu::GPUModuleOp>(atEnd.clone(*m));
      second.setName((m.getName() + "_subgroups").str());
      second->setAttr(spirv::getTargetEnvAttrName(), targetEnv(ctx, cluster));
      second->setAttr(kSubgroupsOfAttr, atEnd.getI64IntegerAttr(static_cast<int64_t>(k)));
    }
  }
};

} // namespace

} // namespace bertc::vulkan
