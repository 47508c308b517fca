//===- SpirvCodegen.cpp - Workgroup kernels to SPIR-V modules -------------===//
#include "backends/vulkan/VulkanBackend.h"

#include "backends/cpu/CpuBackend.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/GPUToSPIRV/GPUToSPIRVPass.h"
#include "mlir/Conversion/MathToSPIRV/MathToSPIRVPass.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVAttributes.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVDialect.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"
#include "mlir/Dialect/SPIRV/Transforms/Passes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/SPIRV/Serialization.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace bertc::vulkan {

void registerVulkanBackend(DialectRegistry &registry) {
  cpu::registerCpuBackend(registry);
  registry.insert<gpu::GPUDialect, spirv::SPIRVDialect>();
}

namespace {

/// What the shaders may use: SPIR-V 1.3 with 64-bit integers (the dropout's
/// Philox generator multiplies 32-bit words into 64 bits).
spirv::TargetEnvAttr targetEnv(MLIRContext *ctx) {
  auto triple = spirv::VerCapExtAttr::get(
      spirv::Version::V_1_3, {spirv::Capability::Shader, spirv::Capability::Int64},
      {spirv::Extension::SPV_KHR_storage_buffer_storage_class}, ctx);
  return spirv::TargetEnvAttr::get(triple, spirv::getDefaultResourceLimits(ctx),
                                   spirv::ClientAPI::Vulkan);
}

/// Moves the workgroup kernel `fn(memrefs..., x, y, z)` into its own
/// gpu.module as a kernel gpu.func over the memrefs, the workgroup ids
/// read from gpu.block_id and every memref a storage buffer binding.
void toGpuKernel(func::FuncOp fn) {
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
                  spirv::getEntryPointABIAttr(ctx, /*workgroupSize=*/{1, 1, 1}));
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

} // namespace

LogicalResult buildSpirvKernels(ModuleOp kernels, rt::Program &program,
                                const VulkanOptions &options) {
  MLIRContext *ctx = kernels.getContext();
  cpu::CpuOptions workgroups;
  workgroups.targetWorkgroups = options.targetWorkgroups;
  workgroups.vectorize = false;
  workgroups.scratchMemorySpace = spirv::StorageClassAttr::get(ctx, spirv::StorageClass::Workgroup);
  workgroups.evenTiles = true;
  // Small tiles: each workgroup keeps its producers' tiles in workgroup
  // memory, tens of kilobytes.
  workgroups.tiles.minIterations = 64;
  workgroups.tiles.maxFusedTile = 512;
  workgroups.tiles.maxMatmulRows = 32;
  workgroups.tiles.maxMatmulCols = 32;
  workgroups.tiles.matmulRowGranule = 1;
  workgroups.tiles.colGranule = 1;
  if (failed(cpu::buildWorkgroupKernels(kernels, program, workgroups)))
    return failure();

  SmallVector<func::FuncOp> fns(kernels.getOps<func::FuncOp>());
  for (func::FuncOp fn : fns)
    toGpuKernel(fn);
  kernels->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), UnitAttr::get(ctx));
  kernels->setAttr(spirv::getTargetEnvAttrName(), targetEnv(ctx));

  // Scalar loops over buffers, views folded into their loads and stores,
  // erf (exact GELU) as a polynomial; then SPIR-V.
  PassManager pm(ctx);
  (void)applyPassManagerCLOptions(pm);
  OpPassManager &inGpu = pm.nest<gpu::GPUModuleOp>();
  // First the copies of a buffer onto itself go (a workgroup kernel's
  // result written to its destination): as loops, every workgroup would
  // copy the whole output over the others' tiles.
  inGpu.addPass(createCSEPass());
  inGpu.addPass(createCanonicalizerPass());
  inGpu.addNestedPass<gpu::GPUFuncOp>(createConvertLinalgToLoopsPass());
  inGpu.addPass(memref::createFoldMemRefAliasOpsPass());
  inGpu.addPass(createLowerAffinePass());
  inGpu.addPass(createCanonicalizerPass());
  if (failed(pm.run(kernels)))
    return failure();
  RewritePatternSet approximations(ctx);
  approximations.add<math::ErfPolynomialApproximation>(ctx);
  if (failed(applyPatternsAndFoldGreedily(kernels, std::move(approximations))))
    return failure();
  PassManager convert(ctx);
  (void)applyPassManagerCLOptions(convert);
  convert.addNestedPass<gpu::GPUModuleOp>(createConvertMathToSPIRVPass());
  convert.addPass(createConvertGPUToSPIRVPass(/*mapMemorySpace=*/true));
  OpPassManager &inSpirv = convert.nest<spirv::ModuleOp>();
  inSpirv.addPass(spirv::createSPIRVLowerABIAttributesPass());
  inSpirv.addPass(spirv::createSPIRVUpdateVCEPass());
  if (failed(convert.run(kernels)))
    return failure();
  // The gpu.modules stay beside their SPIR-V translations: drop them.
  SmallVector<gpu::GPUModuleOp> gpuModules(kernels.getOps<gpu::GPUModuleOp>());
  for (gpu::GPUModuleOp m : gpuModules)
    m.erase();
  return success();
}

LogicalResult serializeSpirvKernels(ModuleOp kernels,
                                    std::vector<std::vector<uint32_t>> &binaries) {
  for (spirv::ModuleOp m : kernels.getOps<spirv::ModuleOp>()) {
    SmallVector<uint32_t> words;
    if (failed(spirv::serialize(m, words)))
      return failure();
    binaries.emplace_back(words.begin(), words.end());
  }
  return success();
}

void addSpirvGlobals(ModuleOp object, const rt::Program &program,
                     const std::vector<std::vector<uint32_t>> &binaries) {
  MLIRContext *ctx = object.getContext();
  OpBuilder b = OpBuilder::atBlockEnd(object.getBody());
  Location loc = object.getLoc();
  auto constant = [&](Type type, StringRef name, Attribute value) {
    b.create<LLVM::GlobalOp>(loc, type, /*isConstant=*/true, LLVM::Linkage::External, name, value);
  };
  std::string json = program.toJson().dump();
  json.push_back('\0');
  constant(LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), json.size()), "bertc_vulkan_program",
           b.getStringAttr(json));
  SmallVector<int32_t> words;
  SmallVector<int64_t> offsets = {0};
  for (const std::vector<uint32_t> &binary : binaries) {
    for (uint32_t w : binary)
      words.push_back(static_cast<int32_t>(w));
    offsets.push_back(static_cast<int64_t>(words.size()));
  }
  auto i32 = IntegerType::get(ctx, 32);
  auto i64 = IntegerType::get(ctx, 64);
  auto array = [](Type element, size_t n) {
    return RankedTensorType::get({static_cast<int64_t>(n)}, element);
  };
  constant(LLVM::LLVMArrayType::get(i32, words.size()), "bertc_spirv",
           DenseIntElementsAttr::get(array(i32, words.size()), ArrayRef<int32_t>(words)));
  constant(LLVM::LLVMArrayType::get(i64, offsets.size()), "bertc_spirv_offsets",
           DenseIntElementsAttr::get(array(i64, offsets.size()), ArrayRef<int64_t>(offsets)));
}

} // namespace bertc::vulkan
