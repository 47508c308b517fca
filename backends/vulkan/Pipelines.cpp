//===- Pipelines.cpp - The Vulkan back end's pipelines and binaries -------===//
#include "backends/vulkan/VulkanBackend.h"

#include "backends/common/Passes.h"
#include "backends/common/Strategy.h"
#include "backends/vulkan/Internal.h"
#include "backends/vulkan/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/SPIRV/Serialization.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace bertc::vulkan {

void registerVulkanBackend(DialectRegistry &registry) {
  registerCommonBackend(registry);
  registry.insert<gpu::GPUDialect, LLVM::LLVMDialect, math::MathDialect, spirv::SPIRVDialect>();
}

void buildVulkanWorkgroupKernelsPipeline(OpPassManager &pm, const VulkanPipelineOptions &options) {
  pm.addPass(createToDestinationPassing());
  VulkanSelectStrategyOptions strategy;
  strategy.targetWorkgroups = options.targetWorkgroups;
  strategy.invocations = options.invocations;
  strategy.subgroupCluster = options.subgroupCluster;
  pm.addPass(createVulkanSelectStrategy(strategy));
  pm.addNestedPass<func::FuncOp>(createLowerKernelOps());
  pm.addNestedPass<func::FuncOp>(createTileWorkgroups());
  pm.addNestedPass<func::FuncOp>(createBufferizeKernels());
  pm.addNestedPass<func::FuncOp>(createDistributeWorkgroups());
  pm.addPass(createVulkanOutlineGpuKernels());
  // First the copies of a buffer onto itself go (a workgroup kernel's
  // result written to its destination): as loops, every workgroup would
  // copy the whole output over the others' tiles.
  OpPassManager &inGpu = pm.nest<gpu::GPUModuleOp>();
  inGpu.addPass(createCSEPass());
  inGpu.addPass(createCanonicalizerPass());
  pm.addPass(createVulkanSubgroupVariants());
  pm.addPass(createVulkanDistributeReductions());
  // Scalar loops over buffers spread over the invocations, views folded
  // into their loads and stores.
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addNestedPass<gpu::GPUFuncOp>(createConvertLinalgToParallelLoopsPass());
  kernels.addNestedPass<gpu::GPUFuncOp>(createVulkanDistributeInvocations());
  kernels.addPass(memref::createFoldMemRefAliasOpsPass());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createCanonicalizerPass());
  pm.addPass(createVulkanApproximateErf());
}

void buildVulkanToSpirvPipeline(OpPassManager &pm) {
  pm.addPass(createVulkanConvertToSpirv());
  OpPassManager &inSpirv = pm.nest<spirv::ModuleOp>();
  inSpirv.addPass(spirv::createSPIRVLowerABIAttributesPass());
  inSpirv.addPass(spirv::createSPIRVUpdateVCEPass());
}

namespace {

struct WorkgroupKernelsOptions : PassPipelineOptions<WorkgroupKernelsOptions> {
  Option<int64_t> targetWorkgroups{*this, "target-workgroups",
                                   llvm::cl::desc("Workgroups to aim for per kernel"),
                                   llvm::cl::init(1024)};
  Option<int64_t> invocations{*this, "invocations", llvm::cl::desc("Invocations per workgroup"),
                              llvm::cl::init(64)};
  Option<int64_t> subgroupCluster{*this, "subgroup-cluster",
                                  llvm::cl::desc("Lanes combining a reduction by shuffles"),
                                  llvm::cl::init(8)};
};

/// The program's Vulkan facts from what bertc-vulkan-workgroup-kernels
/// recorded on the kernels.
LogicalResult readVulkanProgram(ModuleOp kernels, rt::Program &program) {
  if (failed(readWorkgroupGrids(kernels, program)))
    return failure();
  program.workgroupMemory.assign(program.kernels.size(), 0);
  program.subgroupKernels.clear();
  program.subgroupCluster = 0;
  for (auto m : kernels.getOps<gpu::GPUModuleOp>())
    for (auto kernel : m.getOps<gpu::GPUFuncOp>()) {
      VulkanStrategy strategy = VulkanStrategy::of(kernel);
      if (auto of = m->getAttrOfType<IntegerAttr>(kSubgroupsOfAttr)) {
        program.subgroupKernels.push_back(of.getInt());
        program.subgroupCluster = strategy.subgroupCluster;
        continue;
      }
      auto at = llvm::find(program.kernels, kernel.getName().str());
      auto bytes = kernel->getAttrOfType<IntegerAttr>(kWorkgroupMemoryAttr);
      if (at != program.kernels.end() && bytes)
        program.workgroupMemory[at - program.kernels.begin()] = bytes.getInt();
    }
  return success();
}

} // namespace

void registerVulkanPipelines() {
  registerBertcCommonPasses();
  registerBertcVulkanPasses();
  PassPipelineRegistration<WorkgroupKernelsOptions>(
      "bertc-vulkan-workgroup-kernels",
      "Kernels over tensors to gpu.modules whose invocations share each workgroup's tile",
      [](OpPassManager &pm, const WorkgroupKernelsOptions &o) {
        buildVulkanWorkgroupKernelsPipeline(pm,
                                            {o.targetWorkgroups, o.invocations, o.subgroupCluster});
      });
  PassPipelineRegistration<>("bertc-vulkan-to-spirv",
                             "Vulkan workgroup kernels' gpu.modules to spirv.modules",
                             buildVulkanToSpirvPipeline);
}

LogicalResult buildSpirvKernels(ModuleOp kernels, rt::Program &program,
                                const VulkanPipelineOptions &options) {
  PassManager kernelsPm(kernels.getContext());
  (void)applyPassManagerCLOptions(kernelsPm);
  buildVulkanWorkgroupKernelsPipeline(kernelsPm, options);
  if (failed(kernelsPm.run(kernels)) || failed(readVulkanProgram(kernels, program)))
    return failure();
  // Also when there is no kernel to carry it.
  program.invocations = options.invocations;
  PassManager spirvPm(kernels.getContext());
  (void)applyPassManagerCLOptions(spirvPm);
  buildVulkanToSpirvPipeline(spirvPm);
  return spirvPm.run(kernels);
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

void addSpirvGlobals(ModuleOp object, const std::vector<rt::VulkanKernels> &variants) {
  MLIRContext *ctx = object.getContext();
  OpBuilder b = OpBuilder::atBlockEnd(object.getBody());
  Location loc = object.getLoc();
  auto constant = [&](Type type, StringRef name, Attribute value) {
    b.create<LLVM::GlobalOp>(loc, type, /*isConstant=*/true, LLVM::Linkage::External, name, value);
  };
  rt::Json programs = rt::Json::array();
  for (const rt::VulkanKernels &v : variants)
    programs.push(v.program.toJson());
  std::string json = programs.dump();
  json.push_back('\0');
  constant(LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), json.size()), "bertc_vulkan_program",
           b.getStringAttr(json));
  SmallVector<int32_t> words;
  SmallVector<int64_t> offsets = {0};
  for (const rt::VulkanKernels &v : variants)
    for (const std::vector<uint32_t> &binary : v.spirv) {
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
