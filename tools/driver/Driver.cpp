//===- Driver.cpp - What `bertc compile` does -----------------------------===//
#include "tools/driver/Driver.h"

#include "backends/cpu/CpuBackend.h"
#include "backends/vulkan/VulkanBackend.h"
#include "dialects/graph/GraphDialect.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "passes/GraphSummary.h"
#include "passes/KernelKinds.h"
#include "passes/Pipelines.h"
#include "passes/program/BuildProgram.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
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

/// Links the kernels' object file with the runtime into an executable, or
/// alone into a shared library.
bool link(const std::string &object, const std::string &output, bool shared, std::ostream &errs) {
  std::vector<std::string> args = {BERTC_CXX, object, "-o", output};
  if (shared) {
    args.push_back("-shared");
  } else {
    for (const char *lib :
         {BERTC_RUNTIME_MAIN_LIB, BERTC_TRAIN_LIB, BERTC_RUNTIME_LIB, BERTC_RUNTIME_FORMAT_LIB})
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
std::vector<vulkan::VulkanPipelineOptions> vulkanOptionsFor(const CompileOptions &options) {
  std::vector<int64_t> sizes =
      options.workgroupSizes.empty() ? vulkan::defaultWorkgroupSizes() : options.workgroupSizes;
  llvm::sort(sizes);
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  std::vector<vulkan::VulkanPipelineOptions> all;
  for (int64_t size : sizes) {
    vulkan::VulkanPipelineOptions vulkanOptions;
    if (options.workgroups > 0)
      vulkanOptions.targetWorkgroups = options.workgroups;
    vulkanOptions.invocations = size;
    if (options.subgroupCluster >= 0)
      vulkanOptions.subgroupCluster = options.subgroupCluster;
    all.push_back(vulkanOptions);
  }
  return all;
}

/// The targets --target names.
struct Targets {
  bool cpu = false, vulkan = false;
};

/// Parses --target and checks that the output asked for fits it.
bool checkTargets(const CompileOptions &options, Targets &targets, std::ostream &errs) {
  for (llvm::StringRef rest = options.target; !rest.empty();) {
    auto [name, tail] = rest.split(',');
    rest = tail;
    if (name == "cpu") {
      targets.cpu = true;
    } else if (name == "vulkan") {
      targets.vulkan = true;
    } else {
      errs << "bertc: error: unknown target '" << name.str() << "' (known: cpu, vulkan)\n";
      return false;
    }
  }
  Emit emit = options.emit;
  bool binary = emit == Emit::Object || emit == Emit::Executable || emit == Emit::Shared;
  bool needsTarget = binary || emit == Emit::Kernels || emit == Emit::LLVM || emit == Emit::Spirv;
  const char *error = nullptr;
  if (emit == Emit::Spirv && (!targets.vulkan || targets.cpu))
    error = "--emit=spirv needs --target vulkan";
  else if (needsTarget && !targets.cpu && !targets.vulkan)
    error = "this output needs --target cpu, vulkan or cpu,vulkan";
  else if ((emit == Emit::Kernels || emit == Emit::LLVM) && (!targets.cpu || targets.vulkan))
    error = "--emit=kernels and --emit=llvm show CPU code: use --target cpu "
            "(--emit=spirv shows the Vulkan kernels)";
  else if (binary && (options.outputPath.empty() || options.outputPath == "-"))
    error = "writing a binary file needs -o FILE";
  else if (options.bf16 && targets.vulkan)
    error = "--precision bf16 is for --target cpu only (the Vulkan kernels compute in fp32)";
  else if (options.bf16 && options.graph.f64)
    error = "--precision bf16 and --f64 exclude each other";
  if (error)
    errs << "bertc: error: " << error << "\n";
  return !error;
}

/// The step the program computes: the default made explicit, checked
/// against the task (a step with gradients needs an objective).
std::optional<StepKind> resolveStep(mlir::ModuleOp module, const CompileOptions &options,
                                    frontend::Diagnostics &diags) {
  bool minimizes = false;
  for (auto fn : module.getOps<mlir::func::FuncOp>())
    minimizes = minimizes || fn->hasAttr("bertc.loss");
  StepKind step = options.step;
  if (step == StepKind::Default)
    step = minimizes ? StepKind::Train : StepKind::Forward;
  if (step != StepKind::Forward && !minimizes) {
    diags.error({},
                "task '" + options.graph.task + "' has no objective (`minimize`) to differentiate");
    return std::nullopt;
  }
  if (options.emit == Emit::Train && step == StepKind::Forward)
    step = StepKind::Gradients;
  return step;
}

/// Runs `build`'s pipeline on `module`.
template <typename Build> mlir::LogicalResult runPipeline(mlir::ModuleOp module, Build build) {
  mlir::PassManager pm(module.getContext());
  (void)mlir::applyPassManagerCLOptions(pm);
  build(pm);
  return pm.run(module);
}

/// --emit=summary: the graph's counts, then the program's.
/// True for a kernel whose only computing ops are linalg.transpose: data
/// movement that a matmul reading its operand transposed would not need.
bool isTransposeKernel(mlir::func::FuncOp kernel) {
  bool transposes = false, other = false;
  kernel.walk([&](mlir::linalg::LinalgOp op) {
    if (mlir::isa<mlir::linalg::TransposeOp>(op.getOperation()))
      transposes = true;
    else if (!mlir::isa<mlir::linalg::FillOp>(op.getOperation()))
      other = true;
  });
  return transposes && !other;
}

void printSummary(const GraphSummary &graph, ProgramPlan &plan, llvm::raw_ostream &os) {
  const rt::Program &program = plan.program;
  printGraphSummary(graph, os);
  os << "kernels: " << program.kernels.size() << "\n";
  // Each kernel reads its inputs and writes its outputs once: the memory
  // traffic fusion saves.
  int64_t moved = 0;
  for (const rt::DispatchDesc &d : program.dispatches)
    for (int b : d.bindings)
      moved += program.tensors[b].bytes();
  os << "dispatches: " << program.dispatches.size() << "\n";
  os << "kernels_per_step: " << program.dispatches.size() << "\n";
  llvm::DenseSet<int> transposeKernels;
  for (auto [index, name] : llvm::enumerate(program.kernels))
    if (auto kernel = plan.kernels->lookupSymbol<mlir::func::FuncOp>(name);
        kernel && isTransposeKernel(kernel))
      transposeKernels.insert(static_cast<int>(index));
  int64_t transposeDispatches = llvm::count_if(program.dispatches, [&](const rt::DispatchDesc &d) {
    return transposeKernels.contains(d.kernel);
  });
  os << "transpose_kernels_per_step: " << transposeDispatches << "\n";
  os << "matmul_flops_per_step: " << program.matmulFlopsPerStep() << "\n";
  os << "estimated_bytes_moved_per_step: " << moved << "\n";
  os << "state_tensors: " << program.state.size() << "\n";
  os << "planned_persistent_bytes: " << program.parameterBytes << "\n";
  os << "planned_activation_bytes: " << program.activationBytes << "\n";
  os << "planned_peak_bytes: " << program.parameterBytes + program.activationBytes << "\n";
}

/// --emit=spirv: the kernels for the smallest workgroup size, printed, or
/// with -o written as binaries and program.json.
int emitSpirv(ProgramPlan &plan, const CompileOptions &options, llvm::raw_ostream &os,
              std::ostream &errs) {
  if (mlir::failed(vulkan::buildSpirvKernels(*plan.kernels, plan.program,
                                             vulkanOptionsFor(options).front())))
    return 1;
  if (!options.outputPath.empty() && options.outputPath != "-")
    return writeSpirvKernels(*plan.kernels, plan.program, options.outputPath, errs) ? 0 : 1;
  plan.kernels->print(os);
  return -1;
}

/// Records --cpu's name and features in `program`; false, with the error
/// reported, for an unknown CPU.
bool describeCpu(const CompileOptions &options, rt::Program &program, std::ostream &errs) {
  std::string error;
  if (cpu::describeCpu(options.cpu, program, error))
    return true;
  errs << "bertc: error: --cpu: " << error << "\n";
  return false;
}

/// --emit=kernels, llvm, obj, exe, so: the CPU kernels and, with Vulkan a
/// target, the SPIR-V modules as data. Returns the exit status, or -1 when
/// `os` holds the output.
int emitNative(ProgramPlan &plan, const CompileOptions &options, Targets targets,
               llvm::raw_ostream &os, std::ostream &errs) {
  // The Vulkan kernels for each workgroup size, from copies of the kernel
  // module made before the CPU back end rewrites it.
  std::vector<rt::VulkanKernels> vulkanKernels;
  if (targets.vulkan)
    for (const vulkan::VulkanPipelineOptions &vulkanOptions : vulkanOptionsFor(options)) {
      rt::VulkanKernels &v = vulkanKernels.emplace_back();
      v.program = plan.program;
      mlir::OwningOpRef<mlir::ModuleOp> copy = plan.kernels->clone();
      if (mlir::failed(vulkan::buildSpirvKernels(*copy, v.program, vulkanOptions)) ||
          mlir::failed(vulkan::serializeSpirvKernels(*copy, v.spirv)))
        return 1;
    }
  mlir::OwningOpRef<mlir::ModuleOp> object;
  if (targets.cpu) {
    cpu::CpuPipelineOptions cpuOptions;
    cpuOptions.targetWorkgroups = options.workgroups;
    cpuOptions.vectorize = options.vectorize;
    if (!describeCpu(options, plan.program, errs))
      return 1;
    cpuOptions.vectorBits = cpu::vectorBits(plan.program);
    cpuOptions.bf16Dot = cpu::hasBf16Dot(plan.program);
    plan.program.cpuBf16Dot = options.bf16 && cpuOptions.bf16Dot;
    cpuOptions.amx = !options.bf16                ? 0
                     : options.amxBlocksAsLoops    ? 2
                     : cpu::hasAmx(plan.program) ? 1
                                                   : 0;
    plan.program.cpuAmx = cpuOptions.amx == 1;
    if (options.bf16 && !cpuOptions.bf16Dot && options.emit != Emit::Kernels)
      errs << "bertc: warning: --cpu " << plan.program.cpu
           << " has no AVX512-BF16: the bf16 matmuls run as fp32 FMAs on the widened operands "
              "(the same results, but slower than --precision fp32 on this CPU; bf16 saves "
              "memory only)\n";
    if (mlir::failed(cpu::buildWorkgroupKernels(*plan.kernels, plan.program, cpuOptions)))
      return 1;
    if (options.emit == Emit::Kernels) {
      plan.kernels->print(os);
      return -1;
    }
    if (mlir::failed(cpu::lowerKernelsToLLVM(*plan.kernels, plan.program)))
      return 1;
    object = std::move(plan.kernels);
  } else {
    object = mlir::ModuleOp::create(plan.kernels->getLoc());
  }
  if (targets.vulkan)
    vulkan::addSpirvGlobals(*object, vulkanKernels);
  if (options.emit == Emit::LLVM)
    return mlir::failed(cpu::printLLVMIR(*object, options.cpu, os)) ? 1 : -1;
  if (options.emit == Emit::Object)
    return mlir::failed(cpu::emitObjectFile(*object, options.cpu, options.outputPath)) ? 1 : 0;
  llvm::SmallString<128> objectPath;
  if (llvm::sys::fs::createTemporaryFile("bertc-kernels", "o", objectPath)) {
    errs << "bertc: error: cannot create a temporary file\n";
    return 1;
  }
  llvm::FileRemover remover(objectPath);
  if (mlir::failed(cpu::emitObjectFile(*object, options.cpu, objectPath.str().str())))
    return 1;
  return link(objectPath.str().str(), options.outputPath, options.emit == Emit::Shared, errs) ? 0
                                                                                              : 1;
}

/// Everything after parsing: the graph through the pipelines to the output.
/// Returns the exit status, or -1 when `os` holds the output.
int compileGraph(const frontend::SourceFile &file, const frontend::Module &ast,
                 const CompileOptions &options, Targets targets, frontend::Diagnostics &diags,
                 llvm::raw_ostream &os, std::ostream &errs) {
  mlir::DialectRegistry registry;
  registry.insert<graph::GraphDialect>();
  cpu::registerCpuBackend(registry);
  vulkan::registerVulkanBackend(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    report(diags, d);
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      frontend::buildGraph(context, file, ast, options.graph);
  if (!module)
    return 1;
  std::optional<StepKind> step = resolveStep(*module, options, diags);
  if (!step)
    return 1;
  TrainingGraphOptions training;
  training.gradients = *step != StepKind::Forward;
  training.optimizer = *step == StepKind::Train;
  training.fusion = options.fusion;
  training.biasCorrection = options.biasCorrection;
  training.bf16 = options.bf16;
  training.accumulate = options.accumulateGradients;
  if (options.emit != Emit::Graph && mlir::failed(runPipeline(*module, [&](auto &pm) {
        buildTrainingGraphPipeline(pm, training);
      })))
    return 1;
  if (options.emit == Emit::Graph || options.emit == Emit::Train) {
    module->print(os);
    return -1;
  }
  GraphSummary graphSummary = summarizeGraph(*module);
  DispatchOptions dispatch;
  dispatch.fusion = options.fusion;
  // lavapipe, like many GPUs, binds at most 32 storage buffers per shader.
  dispatch.maxBindings = options.maxBindings > 0 ? options.maxBindings : targets.vulkan ? 32 : 0;
  if (mlir::failed(
          runPipeline(*module, [&](auto &pm) { buildGraphToLinalgPipeline(pm, dispatch); })))
    return 1;
  if (options.emit == Emit::Linalg) {
    module->print(os);
    return -1;
  }
  if (mlir::failed(
          runPipeline(*module, [&](auto &pm) { buildDispatchRegionsPipeline(pm, dispatch); })))
    return 1;
  if (options.emit == Emit::Dispatch) {
    module->print(os);
    return -1;
  }
  mlir::FailureOr<ProgramPlan> plan = buildProgram(*module->getOps<mlir::func::FuncOp>().begin());
  if (mlir::failed(plan))
    return 1;
  plan->program.precision = options.bf16 ? "bf16" : "fp32";
  if (options.emit == Emit::Summary) {
    printSummary(graphSummary, *plan, os);
    if (targets.cpu) {
      // What --cpu compiles for: the features the runtime will require.
      if (!describeCpu(options, plan->program, errs))
        return 1;
      os << "cpu: " << plan->program.cpu << "\n";
      os << "cpu_features:";
      for (const std::string &f : plan->program.cpuFeatures)
        os << " " << f;
      os << "\n";
      os << "cpu_vector_bits: " << cpu::vectorBits(plan->program) << "\n";
      if (options.bf16)
        os << "cpu_bf16_matmul: "
           << (cpu::hasAmx(plan->program) ? "AMX tiles (tdpbf16ps) for blocks of 32 rows, " : "")
           << (cpu::hasBf16Dot(plan->program) ? "vdpbf16ps" : "fp32 FMAs per pair of K") << "\n";
    }
    os << "precision: " << plan->program.precision << "\n";
    return -1;
  }
  if (options.emit == Emit::Spirv)
    return emitSpirv(*plan, options, os, errs);
  return emitNative(*plan, options, targets, os, errs);
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
  Targets targets;
  if (!checkTargets(options, targets, errs))
    return 1;
  std::string text;
  llvm::raw_string_ostream os(text);
  if (options.emit == Emit::AST) {
    std::ostringstream ss;
    frontend::dumpAST(*ast, ss);
    os << ss.str();
  } else if (options.graph.task.empty()) {
    std::string known;
    for (const frontend::TaskDecl &t : ast->tasks)
      known += (known.empty() ? "" : ", ") + t.name.name;
    diags.error({},
                "--task is required" + (known.empty() ? std::string(" (the model defines no tasks)")
                                                      : " (the model defines: " + known + ")"));
    return 1;
  } else if (int status = compileGraph(file, *ast, options, targets, diags, os, errs);
             status >= 0) {
    return status;
  }
  os.flush();
  return finish(text, options, errs);
}

} // namespace bertc
