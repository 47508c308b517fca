//===- bertc.cpp - The bertc command ---------------------------------------===//
#include "runtime/HfConfig.h"
#include "tools/driver/Driver.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <iostream>

namespace cl = llvm::cl;

static cl::OptionCategory category("bertc options");
static cl::SubCommand compileCmd("compile",
                                 "Compile a model description (see `bertc compile --help`)");
static cl::SubCommand benchCmd("bench", "Compile a model's step with and without fusion, check "
                                        "that they agree and time both (see `bertc bench --help`)");

static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.bertc>"), cl::Required,
                                      cl::sub(compileCmd), cl::sub(benchCmd), cl::cat(category));
static cl::opt<std::string> preset("preset",
                                   cl::desc("Preset of the model's constants (e.g. tiny, mini, "
                                            "base); default: the values written in the model"),
                                   cl::value_desc("name"), cl::sub(compileCmd), cl::sub(benchCmd),
                                   cl::cat(category));
static cl::opt<std::string> task("task", cl::desc("Task head to build (pretrain, classify, infer)"),
                                 cl::value_desc("name"), cl::sub(compileCmd), cl::sub(benchCmd),
                                 cl::cat(category));
static cl::opt<int64_t> batch("batch",
                              cl::desc("Bind the model's `dim batch` (sequences per step)"),
                              cl::value_desc("B"), cl::sub(compileCmd), cl::sub(benchCmd),
                              cl::cat(category));
static cl::opt<int64_t> seq("seq", cl::desc("Bind the model's `dim seq` (tokens per sequence)"),
                            cl::value_desc("S"), cl::sub(compileCmd), cl::sub(benchCmd),
                            cl::cat(category));
static cl::opt<std::string> hfConfig(
    "hf-config",
    cl::desc("Take the model's constants from a HuggingFace config.json (or the model "
             "directory holding one) instead of a preset: hidden_size, num_hidden_layers, "
             "num_attention_heads, intermediate_size, vocab_size, max_position_embeddings, "
             "type_vocab_size, layer_norm_eps, the dropouts, initializer_range, num_labels"),
    cl::value_desc("config.json|DIR"), cl::sub(compileCmd), cl::sub(benchCmd), cl::cat(category));
static cl::list<std::string> sets("set",
                                  cl::desc("Override one constant, e.g. --set num_labels=3 "
                                           "(repeatable; applied after the preset or "
                                           "--hf-config)"),
                                  cl::value_desc("name=value"), cl::sub(compileCmd),
                                  cl::sub(benchCmd), cl::cat(category));
static cl::opt<bertc::Emit> emit(
    "emit", cl::desc("What to produce (default: exe with --target, summary without)"),
    cl::init(bertc::Emit::Summary),
    cl::values(clEnumValN(bertc::Emit::AST, "ast", "the syntax tree of the model file"),
               clEnumValN(bertc::Emit::Graph, "graph", "the task's graph in the graph dialect"),
               clEnumValN(bertc::Emit::Train, "train",
                          "the graph with its gradients (and, with --step=train, the "
                          "optimizer) appended"),
               clEnumValN(bertc::Emit::Linalg, "linalg", "the graph lowered to linalg on tensors"),
               clEnumValN(bertc::Emit::Dispatch, "dispatch", "the dispatch regions (kernels)"),
               clEnumValN(bertc::Emit::Summary, "summary",
                          "parameter, tensor, op and kernel counts, planned memory"),
               clEnumValN(bertc::Emit::Kernels, "kernels",
                          "the workgroup kernels over buffers, before LLVM"),
               clEnumValN(bertc::Emit::LLVM, "llvm", "the kernels' optimised LLVM IR"),
               clEnumValN(bertc::Emit::Object, "obj", "the kernels' object file (-o)"),
               clEnumValN(bertc::Emit::Executable, "exe",
                          "an executable: kernels linked with the runtime (-o)"),
               clEnumValN(bertc::Emit::Shared, "so",
                          "a shared library of the kernels and program (-o)"),
               clEnumValN(bertc::Emit::Spirv, "spirv",
                          "the kernels as SPIR-V modules (--target vulkan); with -o DIR, "
                          "DIR/kernel_N.spv")),
    cl::sub(compileCmd), cl::cat(category));
static cl::opt<std::string> target("target",
                                   cl::desc("Generate code for these targets: cpu, vulkan, or "
                                            "both (cpu,vulkan); the binary runs on either "
                                            "(--device)"),
                                   cl::value_desc("cpu|vulkan|cpu,vulkan"), cl::sub(compileCmd),
                                   cl::sub(benchCmd), cl::cat(category));
static cl::opt<std::string> cpuName(
    "cpu",
    cl::desc("The CPU the kernels are for: native (default: this machine's), x86-64-v3 (AVX2 "
             "and FMA), x86-64-v4 (AVX-512) or an LLVM CPU name (znver4, sapphirerapids, ...); "
             "the program refuses to run on a CPU without its features"),
    cl::init("native"), cl::value_desc("NAME"), cl::sub(compileCmd), cl::sub(benchCmd),
    cl::cat(category));
static cl::opt<int64_t> workgroups("workgroups",
                                   cl::desc("Workgroups to aim for per kernel (default: four "
                                            "per hardware thread of this machine, at least 8, "
                                            "for the CPU; 1024 for Vulkan)"),
                                   cl::init(0), cl::value_desc("N"), cl::sub(compileCmd),
                                   cl::sub(benchCmd), cl::cat(category));
static cl::opt<int64_t> subgroupCluster(
    "subgroup-cluster",
    cl::desc("Vulkan: subgroup lanes that combine a reduction's partial results by shuffles, "
             "in second modules run where the device's subgroups are that large (a power of "
             "two up to the workgroup's 64; default 8; 0: none)"),
    cl::init(-1), cl::value_desc("N"), cl::sub(compileCmd), cl::sub(benchCmd), cl::cat(category));
static cl::list<int64_t> workgroupSizes(
    "workgroup-size",
    cl::desc("Vulkan: compile the kernels for these workgroup sizes (invocations, powers of two "
             "from 8 to 256; default 64,256); the binary runs the largest a GPU allows, the "
             "smallest on a CPU device; --emit=spirv shows the smallest"),
    cl::CommaSeparated, cl::value_desc("N[,N...]"), cl::sub(compileCmd), cl::sub(benchCmd),
    cl::cat(category));
static cl::opt<bool> noSubgroups("no-subgroups",
                                 cl::desc("With --target vulkan: reduce through workgroup "
                                          "memory only, never by subgroup shuffles"),
                                 cl::sub(benchCmd), cl::cat(category));
static cl::opt<std::string> output("o", cl::desc("Write the output to a file (default: stdout)"),
                                   cl::value_desc("file"), cl::sub(compileCmd), cl::cat(category));

static cl::opt<bertc::StepKind>
    step("step",
         cl::desc("What one run of the program computes (default: train for tasks that "
                  "minimize an objective, forward otherwise)"),
         cl::init(bertc::StepKind::Default),
         cl::values(clEnumValN(bertc::StepKind::Forward, "forward", "the task's outputs"),
                    clEnumValN(bertc::StepKind::Gradients, "gradients",
                               "the outputs and the gradient of the objective for every parameter "
                               "(outputs grad:NAME)"),
                    clEnumValN(bertc::StepKind::Train, "train",
                               "gradients, global-norm clipping (1.0) and AdamW, updating the "
                               "parameters and the optimizer state in place")),
         cl::sub(compileCmd), cl::sub(benchCmd), cl::cat(category));
enum class Fusion { Default, None };
static cl::opt<Fusion>
    fusion("fusion", cl::desc("Kernel fusion (default: on)"), cl::init(Fusion::Default),
           cl::values(clEnumValN(Fusion::Default, "default",
                                 "fuse elementwise producers into their consumers"),
                      clEnumValN(Fusion::None, "none", "one kernel per linalg op")),
           cl::sub(compileCmd), cl::cat(category));
static cl::opt<unsigned> maxBindings(
    "max-bindings",
    cl::desc("Most buffers one kernel binds, bounding horizontal fusion (default: 32 with "
             "--target vulkan, the limit of lavapipe and many GPUs; none for the CPU alone)"),
    cl::init(0), cl::sub(compileCmd), cl::sub(benchCmd), cl::cat(category));
static cl::opt<bool> biasCorrection(
    "bias-correction",
    cl::desc("AdamW with bias-corrected moments, as PyTorch and HuggingFace (default true); "
             "false: the original BERT optimizer"),
    cl::init(true), cl::sub(compileCmd), cl::sub(benchCmd), cl::cat(category));
static cl::opt<bool> accumulateGradients(
    "accumulate-gradients",
    cl::desc("Sum the gradients in buffers and run the update apart, so that the program's "
             "steps can be split into micro-batches (train-step/pretrain/finetune --accumulate K)"),
    cl::init(false), cl::sub(compileCmd), cl::sub(benchCmd), cl::cat(category));
static cl::opt<bool> f64("f64",
                         cl::desc("Compute in float64: every f32 tensor of the model becomes f64 "
                                  "(for numerical checks)"),
                         cl::init(false), cl::sub(compileCmd), cl::cat(category));
enum class Precision { F32, BF16 };
static cl::opt<Precision> precision(
    "precision", cl::desc("Matmul operands (default fp32)"),
    cl::values(clEnumValN(Precision::F32, "fp32", "fp32 everywhere"),
               clEnumValN(Precision::BF16, "bf16",
                          "bf16 matmul operands accumulated in fp32; master weights, optimizer "
                          "state, LayerNorm, softmax, attention and losses in fp32 (CPU only)")),
    cl::init(Precision::F32), cl::sub(compileCmd), cl::sub(benchCmd), cl::cat(category));
static cl::opt<bool> vectorize("vectorize", cl::desc("Vectorise kernels (default true)"),
                               cl::init(true), cl::sub(compileCmd), cl::cat(category));

static cl::opt<int> steps("steps", cl::desc("Timed steps per variant (default 5)"), cl::init(5),
                          cl::value_desc("N"), cl::sub(benchCmd), cl::cat(category));
static cl::opt<int> threads("threads", cl::desc("Worker threads (default: all cores)"), cl::init(0),
                            cl::value_desc("N"), cl::sub(benchCmd), cl::cat(category));
static cl::opt<std::string> device("device",
                                   cl::desc("With --target vulkan: the device, vulkan or vulkan:N "
                                            "(default vulkan, the first)"),
                                   cl::value_desc("vulkan[:N]"), cl::sub(benchCmd),
                                   cl::cat(category));
static cl::opt<uint64_t> seed("seed", cl::desc("Parameters, batch and dropout seed (default 1)"),
                              cl::init(1), cl::value_desc("S"), cl::sub(benchCmd),
                              cl::cat(category));
static cl::opt<int> top("top", cl::desc("Also list each variant's N slowest kernels"), cl::init(0),
                        cl::value_desc("N"), cl::sub(benchCmd), cl::cat(category));
static cl::opt<std::string> json("json", cl::desc("Also write Google Benchmark's JSON there"),
                                 cl::value_desc("file"), cl::sub(benchCmd), cl::cat(category));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Developer options such as --mlir-print-ir-after-all (hidden from --help).
  mlir::registerPassManagerCLOptions();
  mlir::registerMLIRContextCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "bertc: a graph compiler for transformer models\n\n"
                              "  bertc compile MODEL --task T [--preset P] [--emit=...]\n"
                              "  bertc compile MODEL --task T --target cpu -o PROGRAM\n"
                              "  bertc bench MODEL --task T --target cpu [--json FILE]\n");
  if (!compileCmd && !benchCmd) {
    llvm::errs() << "bertc: error: no command given; try `bertc --help`\n";
    return 1;
  }
  bertc::CompileOptions options;
  options.modelPath = modelPath;
  options.graph.preset = preset;
  options.graph.task = task;
  if (batch.getNumOccurrences()) {
    if (batch <= 0) {
      llvm::errs() << "bertc: error: --batch must be positive\n";
      return 1;
    }
    options.graph.batch = batch;
  }
  if (seq.getNumOccurrences()) {
    if (seq <= 0) {
      llvm::errs() << "bertc: error: --seq must be positive\n";
      return 1;
    }
    options.graph.seq = seq;
  }
  if (!hfConfig.empty()) {
    if (!preset.empty()) {
      llvm::errs() << "bertc: error: give --preset or --hf-config, not both\n";
      return 1;
    }
    std::vector<bertc::rt::HfSetting> settings;
    std::string error;
    if (!bertc::rt::readHfConfig(hfConfig, settings, error)) {
      llvm::errs() << "bertc: error: " << error << "\n";
      return 1;
    }
    for (const bertc::rt::HfSetting &s : settings)
      options.graph.sets.push_back({s.constant, s.value, s.origin});
  }
  for (const std::string &s : sets) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      llvm::errs() << "bertc: error: --set expects name=value, got '" << s << "'\n";
      return 1;
    }
    options.graph.sets.push_back({s.substr(0, eq), s.substr(eq + 1), ""});
  }
  options.emit = emit;
  options.target = target;
  if (!target.empty() && !emit.getNumOccurrences())
    options.emit = bertc::Emit::Executable;
  if (workgroups < 0 || (workgroups == 0 && workgroups.getNumOccurrences())) {
    llvm::errs() << "bertc: error: --workgroups must be positive\n";
    return 1;
  }
  options.workgroups = workgroups;
  options.cpu = cpuName;
  for (int64_t size : workgroupSizes) {
    if (size < 8 || size > 256 || (size & (size - 1)) != 0) {
      llvm::errs() << "bertc: error: --workgroup-size takes powers of two from 8 to 256\n";
      return 1;
    }
    options.workgroupSizes.push_back(size);
  }
  if (subgroupCluster.getNumOccurrences()) {
    if (subgroupCluster < 0 || subgroupCluster > 64 ||
        (subgroupCluster & (subgroupCluster - 1)) != 0) {
      llvm::errs() << "bertc: error: --subgroup-cluster must be 0 or a power of two up to 64\n";
      return 1;
    }
    options.subgroupCluster = subgroupCluster;
  }
  options.vectorize = vectorize;
  options.step = step;
  options.biasCorrection = biasCorrection;
  options.accumulateGradients = accumulateGradients;
  options.bf16 = precision == Precision::BF16;
  options.fusion = fusion == Fusion::Default;
  options.maxBindings = maxBindings;
  options.graph.f64 = f64;
  options.outputPath = output;
  if (benchCmd) {
    bertc::BenchSettings settings;
    settings.steps = steps;
    settings.threads = threads;
    settings.device = device;
    settings.seed = seed;
    settings.top = top;
    settings.jsonPath = json;
    settings.subgroups = !noSubgroups;
    return bertc::bench(options, settings, std::cout, std::cerr);
  }
  return bertc::compile(options, std::cerr);
}
