//===- ObjectEmitter.cpp - LLVM dialect to host object code ---------------===//
#include "backends/cpu/CpuBackend.h"

#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;

namespace bertc::cpu {

namespace {

/// The host's triple, CPU and features, position-independent code, fused
/// multiply-adds.
std::unique_ptr<llvm::TargetMachine> hostTargetMachine() {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    llvm::consumeError(builder.takeError());
    return nullptr;
  }
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  // a * b + c becomes one fused multiply-add (and rounds once).
  builder->getOptions().AllowFPOpFusion = llvm::FPOpFusion::Fast;
  builder->setRelocationModel(llvm::Reloc::PIC_);
  auto tm = builder->createTargetMachine();
  if (!tm) {
    llvm::consumeError(tm.takeError());
    return nullptr;
  }
  return std::move(*tm);
}

/// Translates and runs LLVM's O3 pipeline for `tm`.
std::unique_ptr<llvm::Module> translateAndOptimize(ModuleOp module, llvm::LLVMContext &ctx,
                                                   llvm::TargetMachine &tm) {
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, ctx, "bertc_kernels");
  if (!llvmModule)
    return nullptr;
  llvmModule->setTargetTriple(tm.getTargetTriple().str());
  llvmModule->setDataLayout(tm.createDataLayout());
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(*llvmModule, mam);
  return llvmModule;
}

} // namespace

/// Translated, optimised LLVM IR for the host, with the machine it is for.
namespace {
struct HostModule {
  std::unique_ptr<llvm::TargetMachine> tm;
  std::unique_ptr<llvm::Module> module;
};

FailureOr<HostModule> toHostModule(ModuleOp module, llvm::LLVMContext &ctx) {
  HostModule host;
  host.tm = hostTargetMachine();
  if (!host.tm)
    return module.emitError("cannot create a target machine for this host");
  host.module = translateAndOptimize(module, ctx, *host.tm);
  if (!host.module)
    return module.emitError("translation to LLVM IR failed");
  return host;
}
} // namespace

LogicalResult printLLVMIR(ModuleOp module, llvm::raw_ostream &os) {
  llvm::LLVMContext ctx;
  FailureOr<HostModule> host = toHostModule(module, ctx);
  if (failed(host))
    return failure();
  host->module->print(os, nullptr);
  return success();
}

LogicalResult emitObjectFile(ModuleOp module, const std::string &path) {
  llvm::LLVMContext ctx;
  FailureOr<HostModule> host = toHostModule(module, ctx);
  if (failed(host))
    return failure();
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return module.emitError("cannot write '") << path << "': " << ec.message();
  llvm::legacy::PassManager pm;
  if (host->tm->addPassesToEmitFile(pm, out.os(), nullptr, llvm::CodeGenFileType::ObjectFile))
    return module.emitError("this target cannot emit object files");
  pm.run(*host->module);
  out.keep();
  return success();
}

} // namespace bertc::cpu
