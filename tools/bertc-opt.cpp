//===- bertc-opt.cpp - bertc's passes and pipelines on IR, for lit tests --===//
#include "backends/cpu/CpuBackend.h"
#include "backends/vulkan/VulkanBackend.h"
#include "dialects/graph/GraphDialect.h"
#include "passes/Passes.h"
#include "passes/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<bertc::graph::GraphDialect>();
  bertc::cpu::registerCpuBackend(registry);
  bertc::vulkan::registerVulkanBackend(registry);
  mlir::registerTransformsPasses(); // canonicalize, cse, ... between ours in tests
  bertc::registerBertcPasses();
  bertc::registerGraphPipelines();
  bertc::cpu::registerCpuPipelines();
  bertc::vulkan::registerVulkanPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "bertc optimizer driver\n", registry));
}
