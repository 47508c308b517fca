//===- Driver.cpp - What `bertc compile` does -----------------------------===//
#include "tools/driver/Driver.h"

#include "backends/cpu/CpuBackend.h"
#include "backends/vulkan/VulkanBackend.h"
#include "dialects/graph/GraphDialect.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "passes/BuildProgram.h"
#include "passes/GraphSummary.h"
#include "passes/KernelKinds.h"
#include "passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <sstream>

namespace bertc {

namespace {

/// The file position of an MLIR location built by MLIRGen.
frontend::SourceLoc sourceLoc(mlir::Location loc) {
  if (auto fl = mlir::dyn_cast<mlir::FileLineColLoc>(loc))
    return {fl.getLine(), fl.getColumn()};
  if (auto name = mlir::dyn_cast<mlir::NameLoc>(loc))
    return sourceLoc(name.getChildLoc());
  if (auto fused = mlir::dyn_cast<mlir::FusedLoc>(loc))
    for (mlir::Location inner : fused.getLocations())
      if (frontend::SourceLoc l = sourceLoc(inner); l.line)
        return l;
  return {};
}

/// Routes MLIR diagnostics to the front end's file:line:col printer. Errors
/// inside inlined functions also name each call site, innermost first.
void report(frontend::Diagnostics &diags, mlir::Diagnostic &d) {
  mlir::Location loc = withoutKernelKind(d.getLocation());
  std::vector<mlir::Location> callers;
  while (auto cs = mlir::dyn_cast<mlir::CallSiteLoc>(loc)) {
    callers.push_back(cs.getCaller());
    loc = cs.getCallee();
  }
  std::string message = d.str();
  if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
    diags.error(sourceLoc(loc), message);
  else
    diags.note(sourceLoc(loc), message);
  for (mlir::Location caller : callers) {
    while (auto cs = mlir::dyn_cast<mlir::CallSiteLoc>(caller))
      caller = cs.getCallee();
    diags.note(sourceLoc(caller), "called from here");
  }
  for (mlir::Diagnostic &note : d.getNotes())
    report(diags, note);
}

/// Lowers the graph to dispatch regions; `stopAfter` prints an intermediate.
mlir::LogicalResult lowerToDispatches(mlir::ModuleOp module, Emit emit, bool fusion,
                                      unsigned maxBindings, bool vulkan, llvm::raw_ostream &os) {
  mlir::PassManager pm(module.getContext());
  (void)mlir::applyPassManagerCLOptions(pm);
  ConvertGraphToLinalgOptions lowering;
  // Vulkan workgroups keep attention's blocks in workgroup memory: smaller.
  if (vulkan)
    lowering.attentionRows = lowering.attentionKeys = 32;
  pm.addNestedPass<mlir::func::FuncOp>(createConvertGraphToLinalg(lowering));
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
  if (mlir::failed(pm.run(module)))
    return mlir::failure();
  if (emit == Emit::Linalg) {
    module.print(os);
    return mlir::success();
  }
  mlir::PassManager form(module.getContext());
  (void)mlir::applyPassManagerCLOptions(form);
  if (fusion) {
    FuseElementwiseOptions elementwise;
    elementwise.maxBindings = maxBindings;
    form.addNestedPass<mlir::func::FuncOp>(createFuseElementwise(elementwise));
    form.addPass(mlir::createCanonicalizerPass());
    form.addPass(mlir::createCSEPass());
  }
  form.addNestedPass<mlir::func::FuncOp>(createFormDispatchRegions());
  if (fusion) {
    FuseReductionsOptions reductions;
    reductions.maxBindings = maxBindings;
    form.addNestedPass<mlir::func::FuncOp>(createFuseReductions(reductions));
    FuseMatmulEpiloguesOptions epilogues;
    epilogues.maxBindings = maxBindings;
    form.addNestedPass<mlir::func::FuncOp>(createFuseMatmulEpilogues(epilogues));
    FuseHorizontalOptions horizontal;
    horizontal.maxBindings = maxBindings;
    form.addNestedPass<mlir::func::FuncOp>(createFuseHorizontal(horizontal));
  }
  return form.run(module);
}

/// Links the kernels' object file with the runtime into an executable, or
/// alone into a shared library.
bool link(const std::string &object, const std::string &output, bool shared, std::ostream &errs) {
  std::vector<std::string> args = {BERTC_CXX, object, "-o", output};
  if (shared) {
    args.push_back("-shared");
  } else {
    for (const char *lib : {BERTC_RUNTIME_MAIN_LIB, BERTC_RUNTIME_LIB, BERTC_RUNTIME_FORMAT_LIB})
      args.push_back(lib);
    args.push_back("-ltbb");
    args.push_back("-lpthread");
  }
  args.push_back("-lm");
  std::vector<llvm::StringRef> refs(args.begin(), args.end());
  std::string message;
  int status = llvm::sys::ExecuteAndWait(args[0], refs, std::nullopt, {}, 0, 0, &message);
  if (status != 0) {
    errs << "bertc: error: linking '" << output << "' failed"
         << (message.empty() ? "" : ": " + message) << "\n";
    return false;
  }
  return true;
}

/// Writes each kernel's SPIR-V binary to `dir`/kernel_N.spv (its second
/// module, with subgroup shuffles, to kernel_N_subgroups.spv), and the
/// program (tensors, buffer plan, dispatches with their kernels, bindings
/// and grids) to `dir`/program.json.
bool writeSpirvKernels(mlir::ModuleOp kernels, const rt::Program &program, const std::string &dir,
                       std::ostream &errs) {
  std::vector<std::vector<uint32_t>> binaries;
  if (mlir::failed(vulkan::serializeSpirvKernels(kernels, binaries)))
    return false;
  if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    errs << "bertc: error: cannot create '" << dir << "': " << ec.message() << "\n";
    return false;
  }
  for (size_t i = 0; i < binaries.size(); ++i) {
    llvm::SmallString<128> path(dir);
    size_t kernel =
        i < program.kernels.size()
            ? i
            : static_cast<size_t>(program.subgroupKernels.at(i - program.kernels.size()));
    llvm::sys::path::append(path, "kernel_" + std::to_string(kernel) +
                                      (i < program.kernels.size() ? "" : "_subgroups") + ".spv");
    std::error_code ec;
    llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
    if (ec) {
      errs << "bertc: error: cannot write '" << path.str().str() << "': " << ec.message() << "\n";
      return false;
    }
    out.os().write(reinterpret_cast<const char *>(binaries[i].data()),
                   binaries[i].size() * sizeof(uint32_t));
    out.keep();
  }
  llvm::SmallString<128> path(dir);
  llvm::sys::path::append(path, "program.json");
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    errs << "bertc: error: cannot write '" << path.str().str() << "': " << ec.message() << "\n";
    return false;
  }
  out.os() << program.toJson().dump() << "\n";
  out.keep();
  return true;
}

/// Writes `text` to -o's file, or to standard output.
int finish(const std::string &text, const CompileOptions &options, std::ostream &errs) {
  if (options.outputPath.empty() || options.outputPath == "-") {
    llvm::outs() << text;
    llvm::outs().flush();
    return 0;
  }
  std::error_code ec;
  llvm::ToolOutputFile out(options.outputPath, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    errs << "bertc: error: cannot write '" << options.outputPath << "': " << ec.message() << "\n";
    return 1;
  }
  out.os() << text;
  out.keep();
  return 0;
}

/// The Vulkan back end's options from the command line's, for each
/// workgroup size, smallest first.
std::vector<vulkan::VulkanOptions> vulkanOptionsFor(const CompileOptions &options) {
  std::vector<int64_t> sizes =
      options.workgroupSizes.empty() ? vulkan::defaultWorkgroupSizes() : options.workgroupSizes;
  llvm::sort(sizes);
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  std::vector<vulkan::VulkanOptions> all;
  for (int64_t size : sizes) {
    vulkan::VulkanOptions vulkanOptions;
    if (options.workgroups > 0)
      vulkanOptions.targetWorkgroups = options.workgroups;
    vulkanOptions.invocations = size;
    if (options.subgroupCluster >= 0)
      vulkanOptions.subgroupCluster = options.subgroupCluster;
    all.push_back(vulkanOptions);
  }
  return all;
}

} // namespace

int compile(const CompileOptions &options, std::ostream &errs) {
  frontend::SourceFile file;
  std::string ioError;
  if (!frontend::SourceFile::load(options.modelPath, file, ioError)) {
    errs << "bertc: error: " << ioError << "\n";
    return 1;
  }
  frontend::Diagnostics diags(file, errs);
  std::unique_ptr<frontend::Module> ast = frontend::parseModelFile(file, diags);
  if (!ast || !frontend::checkModule(*ast, diags))
    return 1;
  bool binary = options.emit == Emit::Object || options.emit == Emit::Executable ||
                options.emit == Emit::Shared;
  bool needsTarget = binary || options.emit == Emit::Kernels || options.emit == Emit::LLVM ||
                     options.emit == Emit::Spirv;
  // --target: cpu, vulkan, or both, comma-separated.
  bool cpuTarget = false, vulkanTarget = false;
  for (llvm::StringRef rest = options.target; !rest.empty();) {
    auto [name, tail] = rest.split(',');
    rest = tail;
    if (name == "cpu") {
      cpuTarget = true;
    } else if (name == "vulkan") {
      vulkanTarget = true;
    } else {
      errs << "bertc: error: unknown target '" << name.str() << "' (known: cpu, vulkan)\n";
      return 1;
    }
  }
  if (options.emit == Emit::Spirv && (!vulkanTarget || cpuTarget)) {
    errs << "bertc: error: --emit=spirv needs --target vulkan\n";
    return 1;
  }
  if (needsTarget && !cpuTarget && !vulkanTarget) {
    errs << "bertc: error: this output needs --target cpu, vulkan or cpu,vulkan\n";
    return 1;
  }
  if ((options.emit == Emit::Kernels || options.emit == Emit::LLVM) &&
      (!cpuTarget || vulkanTarget)) {
    errs << "bertc: error: --emit=kernels and --emit=llvm show CPU code: use --target cpu "
            "(--emit=spirv shows the Vulkan kernels)\n";
    return 1;
  }
  if (binary && (options.outputPath.empty() || options.outputPath == "-")) {
    errs << "bertc: error: writing a binary file needs -o FILE\n";
    return 1;
  }

  std::string text;
  llvm::raw_string_ostream os(text);
  if (options.emit == Emit::AST) {
    std::ostringstream ss;
    frontend::dumpAST(*ast, ss);
    os << ss.str();
  } else {
    if (options.graph.task.empty()) {
      std::string known;
      for (const frontend::TaskDecl &t : ast->tasks)
        known += (known.empty() ? "" : ", ") + t.name.name;
      diags.error({}, "--task is required" + (known.empty()
                                                  ? std::string(" (the model defines no tasks)")
                                                  : " (the model defines: " + known + ")"));
      return 1;
    }
    mlir::DialectRegistry registry;
    registry.insert<graph::GraphDialect>();
    vulkan::registerVulkanBackend(registry);
    mlir::MLIRContext context(registry);
    context.loadAllAvailableDialects();
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      report(diags, d);
      return mlir::success();
    });
    mlir::OwningOpRef<mlir::ModuleOp> module =
        frontend::buildGraph(context, file, *ast, options.graph);
    if (!module)
      return 1;
    StepKind step = options.step;
    bool minimizes = false;
    for (auto fn : module->getOps<mlir::func::FuncOp>())
      minimizes = minimizes || fn->hasAttr("bertc.loss");
    if (step == StepKind::Default)
      step = minimizes ? StepKind::Train : StepKind::Forward;
    if (step != StepKind::Forward && !minimizes) {
      diags.error({}, "task '" + options.graph.task +
                          "' has no objective (`minimize`) to differentiate");
      return 1;
    }
    if (options.emit == Emit::Train && step == StepKind::Forward)
      step = StepKind::Gradients;
    if (options.emit != Emit::Graph) {
      mlir::PassManager pm(&context);
      (void)mlir::applyPassManagerCLOptions(pm);
      pm.addNestedPass<mlir::func::FuncOp>(createTagKernelKinds());
      if (step != StepKind::Forward)
        pm.addNestedPass<mlir::func::FuncOp>(createKeyDropout());
      // Before differentiation: the attention's gradient recomputes its
      // probabilities instead of keeping them.
      if (options.fusion)
        pm.addNestedPass<mlir::func::FuncOp>(createFormAttention());
      if (step != StepKind::Forward)
        pm.addNestedPass<mlir::func::FuncOp>(createDifferentiate());
      if (step != StepKind::Forward && options.fusion)
        pm.addNestedPass<mlir::func::FuncOp>(createFuseCrossEntropy());
      if (step == StepKind::Train) {
        AppendOptimizerOptions adam;
        adam.biasCorrection = options.biasCorrection;
        pm.addNestedPass<mlir::func::FuncOp>(createAppendOptimizer(adam));
      }
      if (mlir::failed(pm.run(*module)))
        return 1;
    }
    if (options.emit == Emit::Graph || options.emit == Emit::Train) {
      module->print(os);
    } else {
      GraphSummary graphSummary = summarizeGraph(*module);
      // lavapipe, like many GPUs, binds at most 32 storage buffers per shader.
      unsigned maxBindings = options.maxBindings > 0 ? options.maxBindings : vulkanTarget ? 32 : 0;
      if (mlir::failed(lowerToDispatches(*module, options.emit, options.fusion, maxBindings,
                                         vulkanTarget, os)))
        return 1;
      if (options.emit == Emit::Dispatch)
        module->print(os);
      if (options.emit != Emit::Linalg && options.emit != Emit::Dispatch) {
        auto fn = *module->getOps<mlir::func::FuncOp>().begin();
        mlir::FailureOr<ProgramPlan> plan = buildProgram(fn);
        if (mlir::failed(plan))
          return 1;
        if (options.emit == Emit::Summary) {
          printGraphSummary(graphSummary, os);
          os << "kernels: " << plan->program.kernels.size() << "\n";
          const rt::Program &program = plan->program;
          // Each kernel reads its inputs and writes its outputs once: the
          // memory traffic fusion saves.
          int64_t moved = 0;
          for (const rt::DispatchDesc &d : program.dispatches)
            for (int b : d.bindings)
              moved += program.tensors[b].bytes();
          os << "dispatches: " << program.dispatches.size() << "\n";
          os << "kernels_per_step: " << program.dispatches.size() << "\n";
          os << "estimated_bytes_moved_per_step: " << moved << "\n";
          os << "state_tensors: " << program.state.size() << "\n";
          os << "planned_persistent_bytes: " << program.parameterBytes << "\n";
          os << "planned_activation_bytes: " << program.activationBytes << "\n";
          os << "planned_peak_bytes: " << program.parameterBytes + program.activationBytes << "\n";
        } else if (options.emit == Emit::Spirv) {
          // The kernels for the smallest workgroup size.
          if (mlir::failed(vulkan::buildSpirvKernels(*plan->kernels, plan->program,
                                                     vulkanOptionsFor(options).front())))
            return 1;
          if (options.outputPath.empty() || options.outputPath == "-")
            plan->kernels->print(os);
          else
            return writeSpirvKernels(*plan->kernels, plan->program, options.outputPath, errs) ? 0
                                                                                              : 1;
        } else {
          // The Vulkan kernels for each workgroup size, from copies of the
          // kernel module made before the CPU back end rewrites it; the
          // binary carries them as data.
          std::vector<rt::VulkanKernels> vulkanKernels;
          if (vulkanTarget)
            for (const vulkan::VulkanOptions &vulkanOptions : vulkanOptionsFor(options)) {
              rt::VulkanKernels &v = vulkanKernels.emplace_back();
              v.program = plan->program;
              mlir::OwningOpRef<mlir::ModuleOp> copy = plan->kernels->clone();
              if (mlir::failed(vulkan::buildSpirvKernels(*copy, v.program, vulkanOptions)) ||
                  mlir::failed(vulkan::serializeSpirvKernels(*copy, v.spirv)))
                return 1;
            }
          mlir::OwningOpRef<mlir::ModuleOp> object;
          if (cpuTarget) {
            cpu::CpuOptions cpuOptions;
            if (options.workgroups > 0)
              cpuOptions.targetWorkgroups = options.workgroups;
            cpuOptions.vectorize = options.vectorize;
            if (mlir::failed(cpu::buildWorkgroupKernels(*plan->kernels, plan->program, cpuOptions)))
              return 1;
            if (options.emit == Emit::Kernels) {
              plan->kernels->print(os);
              os.flush();
              return finish(text, options, errs);
            }
            if (mlir::failed(cpu::lowerKernelsToLLVM(*plan->kernels, plan->program)))
              return 1;
            object = std::move(plan->kernels);
          } else {
            object = mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
          }
          if (vulkanTarget)
            vulkan::addSpirvGlobals(*object, vulkanKernels);
          if (options.emit == Emit::LLVM) {
            if (mlir::failed(cpu::printLLVMIR(*object, os)))
              return 1;
          } else if (options.emit == Emit::Object) {
            return mlir::failed(cpu::emitObjectFile(*object, options.outputPath)) ? 1 : 0;
          } else {
            llvm::SmallString<128> objectPath;
            if (llvm::sys::fs::createTemporaryFile("bertc-kernels", "o", objectPath)) {
              errs << "bertc: error: cannot create a temporary file\n";
              return 1;
            }
            llvm::FileRemover remover(objectPath);
            if (mlir::failed(cpu::emitObjectFile(*object, objectPath.str().str())))
              return 1;
            return link(objectPath.str().str(), options.outputPath, options.emit == Emit::Shared,
                        errs)
                       ? 0
                       : 1;
          }
        }
      }
    }
  }
  os.flush();
  return finish(text, options, errs);
}

} // namespace bertc
