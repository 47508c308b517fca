//===- ObjectEmitter.cpp - LLVM dialect to object code for one CPU -------===//
#include "backends/cpu/CpuBackend.h"
#include "runtime/CpuFeatures.h"

#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>

using namespace mlir;

namespace bertc::cpu {

namespace {

/// A target machine for `cpu` (an LLVM x86 CPU name, or "native": this
/// machine's CPU and features) on this host's triple: position-independent
/// code, fused multiply-adds. Null, with `error` set, for an unknown CPU.
std::unique_ptr<llvm::TargetMachine> createTargetMachine(llvm::StringRef cpu, std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string lookupError;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple.str(), lookupError);
  if (!target) {
    error = "no LLVM target for " + triple.str() + ": " + lookupError;
    return nullptr;
  }
  llvm::orc::JITTargetMachineBuilder builder(triple);
  if (cpu == "native") {
    auto host = llvm::orc::JITTargetMachineBuilder::detectHost();
    if (!host) {
      error = llvm::toString(host.takeError());
      return nullptr;
    }
    builder = std::move(*host);
  } else {
    std::unique_ptr<llvm::MCSubtargetInfo> info(
        target->createMCSubtargetInfo(triple.str(), "", ""));
    if (!info || !info->isCPUStringValid(cpu)) {
      error = "unknown CPU '" + cpu.str() +
              "' (native, x86-64-v3 for AVX2, x86-64-v4 for AVX-512, or an LLVM CPU name such "
              "as znver4 or sapphirerapids)";
      return nullptr;
    }
    builder.setCPU(cpu.str());
  }
  builder.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  // a * b + c becomes one fused multiply-add (and rounds once).
  builder.getOptions().AllowFPOpFusion = llvm::FPOpFusion::Fast;
  builder.setRelocationModel(llvm::Reloc::PIC_);
  auto tm = builder.createTargetMachine();
  if (!tm) {
    error = llvm::toString(tm.takeError());
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

/// Translated, optimised LLVM IR for a CPU, with the machine it is for.
namespace {
struct HostModule {
  std::unique_ptr<llvm::TargetMachine> tm;
  std::unique_ptr<llvm::Module> module;
};

FailureOr<HostModule> toHostModule(ModuleOp module, llvm::LLVMContext &ctx, llvm::StringRef cpu) {
  HostModule host;
  std::string error;
  host.tm = createTargetMachine(cpu, error);
  if (!host.tm)
    return module.emitError(error);
  host.module = translateAndOptimize(module, ctx, *host.tm);
  if (!host.module)
    return module.emitError("translation to LLVM IR failed");
  return host;
}
} // namespace

bool describeCpu(llvm::StringRef cpu, rt::Program &program, std::string &error) {
  std::unique_ptr<llvm::TargetMachine> tm = createTargetMachine(cpu, error);
  if (!tm)
    return false;
  const llvm::MCSubtargetInfo *info = tm->getMCSubtargetInfo();
  program.cpu = cpu == "native" ? llvm::sys::getHostCPUName().str() : cpu.str();
  program.cpuFeatures.clear();
  for (const rt::CpuFeature &f : rt::knownCpuFeatures())
    if (info->checkFeatures(std::string("+") + f.llvmName))
      program.cpuFeatures.emplace_back(f.llvmName);
  return true;
}

LogicalResult printLLVMIR(ModuleOp module, llvm::StringRef cpu, llvm::raw_ostream &os) {
  llvm::LLVMContext ctx;
  FailureOr<HostModule> host = toHostModule(module, ctx, cpu);
  if (failed(host))
    return failure();
  host->module->print(os, nullptr);
  return success();
}

LogicalResult emitObjectFile(ModuleOp module, llvm::StringRef cpu, const std::string &path) {
  llvm::LLVMContext ctx;
  FailureOr<HostModule> host = toHostModule(module, ctx, cpu);
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

int64_t vectorBits(const rt::Program &program) {
  const std::vector<std::string> &f = program.cpuFeatures;
  return std::find(f.begin(), f.end(), "avx512f") != f.end() ? 512 : 256;
}

bool hasBf16Dot(const rt::Program &program) {
  const std::vector<std::string> &f = program.cpuFeatures;
  auto has = [&](const char *name) { return std::find(f.begin(), f.end(), name) != f.end(); };
  return has("avx512bf16") && (vectorBits(program) == 512 || has("avx512vl"));
}

bool hasAmx(const rt::Program &program) {
  const std::vector<std::string> &f = program.cpuFeatures;
  auto has = [&](const char *name) { return std::find(f.begin(), f.end(), name) != f.end(); };
  return has("amx-tile") && has("amx-bf16");
}

} // namespace bertc::cpu
