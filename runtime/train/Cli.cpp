//===- Cli.cpp - The command line of a compiled bertc binary --------------===//
#include "runtime/train/Cli.h"

#include "runtime/Compiled.h"
#include "runtime/Contract.h"
#include "runtime/VulkanDevices.h"
#include "runtime/train/Batch.h"
#include "runtime/train/Comm.h"
#include "runtime/train/Finetune.h"
#include "runtime/train/ModelDirectory.h"
#include "runtime/train/Pretrain.h"
#include "runtime/train/Summarize.h"
#include "runtime/train/Tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace bertc::rt {

namespace {

const char *kUsage = R"(usage: %s COMMAND [options]

commands:
  info                          describe the compiled program
  --list-devices [--validation]
                                the Vulkan devices the loader sees, with their
                                compute limits; --validation enables the
                                Khronos validation layer and fails on any of
                                its messages
  init   --output FILE [--seed S]
                                write freshly initialised parameters (safetensors)
  infer  --input FILE --output FILE [--weights FILE | --init FILE] [--seed S]
         [--threads N]          run the program on a JSONL batch and write its
                                outputs (safetensors); --init loads what the
                                checkpoint has (e.g. an encoder without this
                                task's head) and initialises the rest from
                                --seed, as without either
  train-step --data FILE [--weights FILE | --seed S] [--steps N] [--lr LR]
             [--dropout D] [--dump-grads FILE] [--save FILE] [--threads N]
             [--accumulate K]
                                run N training steps (default 1), batch i of
                                the file at step i (cycling), printing one JSON
                                line per step with the program's scalar outputs
                                (loss, ...); parameters and optimizer state are
                                updated in place; --accumulate K (a program
                                compiled with --accumulate-gradients): each
                                step sums the gradients of K batches (i K ...
                                i K + K - 1) before one update, its losses
                                those of the K batches as one
  pretrain --corpus PATH... --vocab FILE --save DIR [--init CHECKPOINT] [--steps N]
           [--lr LR] [--warmup W] [--seed S] [--save-every K] [--resume] [--threads T]
           [--dropout D] [--dupe-factor F] [--whole-word-mask] [--stop-after N] [--accumulate K]
           [--check-ranks] [--eval-corpus PATH... --eval-every N [--eval-batches B]]
                                pretrain on text files (or folders of them),
                                from --init's weights (a published model
                                pretrained further) or from --seed's:
                                instances are built into DIR/data (reused when
                                the corpus and settings are unchanged), the
                                learning rate warms up linearly for W steps
                                (default N/10) and decays linearly to 0;
                                --whole-word-mask masks a word's pieces
                                together (Google's option);
                                DIR/checkpoint is written every K steps and
                                at the end, atomically: a HuggingFace model
                                directory (model.safetensors, config.json,
                                vocab.txt, tokenizer_config.json) with the
                                optimizer's state in training-state.safetensors;
                                --resume continues from it exactly; DIR/metrics.jsonl
                                and DIR/loss.svg record the run; every N
                                steps, the masked-LM loss and accuracy on B
                                batches (default 8) of held-out text
                                (eval_mlm_loss, eval_mlm_accuracy)
  finetune --train FILE --text-column C --label-column C --save DIR
           [--init CHECKPOINT] [--vocab FILE] [--dev FILE] [--epochs E] [--lr LR] [--seed S]
           [--patience P] [--warmup-proportion W] [--threads T] [--accumulate K]
           [--metric accuracy|f1:LABEL]
                                fine-tune a classify program on CSV, TSV,
                                JSONL or ARFF rows (a column by header or
                                attribute name, or by 0-based index);
                                labels of any spelling map to class ids in
                                sorted order; without --dev a tenth of the
                                rows is held out; the best epoch by the dev
                                metric (default accuracy; f1:LABEL the F1 of
                                that class) is saved in DIR, a HuggingFace
                                model directory (model.safetensors,
                                config.json with id2label, vocab.txt,
                                tokenizer_config.json);
                                stops after P epochs without improvement;
                                --init loads what the checkpoint (a file or
                                a HuggingFace model directory) has, see
                                --weights; without --vocab the directory's
                                vocab.txt and tokenizer_config.json
  eval --weights MODEL [--vocab FILE] --data FILE --text-column C --label-column C
                                accuracy, macro F1 and each label's F1 on
                                labelled rows, as {"accuracy": ..., "f1": ...,
                                "n": ..., "f1_by_label": {LABEL: ...}}
  predict --weights MODEL [--vocab FILE] [--input FILE]
                                one JSON line {"label", "probability"} per
                                line of text (default: standard input); the
                                labels are those finetune saved, or a model
                                directory's config.json id2label
  mpirun -np N PROGRAM pretrain|finetune|finetune-summarize ...
                                data-parallel training on N processes (Open
                                MPI, opened at run time): each rank takes its
                                own rows of every step, the gradients are
                                summed over ranks before clipping and AdamW;
                                rank 0 alone prints, logs and saves; a resume
                                needs the same N; --accumulate K (with N, a
                                program compiled with --accumulate-gradients)
                                sums K micro-batches per step: the effective
                                batch is batch x K x N; --check-ranks checks
                                after every step that all ranks hold the same
                                parameters; --bucket-mb MB sums the gradients
                                in buckets of MB megabytes (default 4), each
                                sent as soon as the backward pass has made it
                                final; 0: one sum after the backward pass
  finetune-summarize --train DOCS --save DIR [--dev DOCS] [--init CHECKPOINT]
           [--vocab FILE] [--epochs E] [--lr LR] [--seed S] [--top K]
           [--oracle-size N] [--patience P] [--shuffled-copies C] [--threads T]
           [--warmup-proportion W] [--accumulate K]
                                fine-tune a summarize or summarize_transformer
                                program (BertSum's extractive head) as
                                finetune does, on JSONL documents ({"text"}
                                or {"sentences": [...]}, with "summary"): each
                                sentence labelled by the greedy ROUGE oracle
                                (at most N sentences, default 3); the best
                                epoch by the dev ROUGE of the top K
                                sentences (default 3) is saved in DIR; C
                                more copies of each training document, its
                                sentences in a random order (default 0)
  summarize --weights MODEL [--vocab FILE] [--input FILE] [--top K]
                                the top K sentences of each document (JSONL
                                or one plain-text document per line), in
                                document order: {"sentences", "summary"}
  eval-summarize --data DOCS [--weights MODEL] [--vocab FILE] [--top K]
           [--oracle-size N] [--per-document FILE]
                                ROUGE-1/2/L F1 of the top K sentences against
                                the references, beside Lead-K and the oracle
                                (without --weights: those two alone)
  tokenize --vocab FILE [--input FILE]
                                WordPiece tokens of each line of text (default:
                                standard input), one line of tokens per line

options:
  --weights FILE   parameters in safetensors with HuggingFace names, or a
                   HuggingFace model directory (DIR/model.safetensors):
                   Google's gamma/beta names, a BertModel's names without
                   "bert.", F16/BF16/F64 weights, the position_ids buffer
                   and the tied decoder copies are all read (a report says
                   what was renamed, converted and ignored)
  --input FILE     one JSON object per sequence: input_ids, token_type_ids,
                   attention_mask (padded to the compiled length)
  --output FILE    where to write
  --seed S         initialisation and dropout seed (default 0)
  --data FILE      training batches, JSONL: the inputs above plus, for
                   pretraining, "labels" (per token, -100 where not
                   predicted) and "next_sentence_label"; "label" to classify
  --lr LR          learning rate (default 1e-4)
  --dropout D      factor on the model's dropout rates: 1 as compiled, 0 off
                   (train-step default 1, infer default 0)
  --dump-grads FILE
                   write the first step's gradients under the parameters' names
  --save FILE      write the parameters and optimizer state after the last step
  --device D       where the kernels run: cpu, vulkan or vulkan:N (see
                   --list-devices; default: cpu when the program was
                   compiled for it, else vulkan:0)
  --threads N      CPU worker threads (default: all cores)
  --validation     Vulkan: enable the Khronos validation layer; any message
                   it reports makes the command fail
  --no-subgroups   Vulkan: reduce through workgroup memory only, even where
                   the device could combine partial results by subgroup
                   shuffles
  --workgroup-size N
                   Vulkan: run the kernels compiled for N invocations per
                   workgroup (default: the most the device allows on a GPU,
                   the fewest on a CPU device; see info)
  --profile 1      print the time spent in each kernel
)";

/// `--name value` options after the command; an option in `lists` takes
/// every value up to the next option (kept, in order, in `list`).
struct Options {
  std::map<std::string, std::string> values;
  std::map<std::string, std::vector<std::string>> list;
  std::string error;

  bool parse(int argc, char **argv, const std::vector<std::string> &known,
             const std::vector<std::string> &lists = {},
             const std::vector<std::string> &flags = {}) {
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) {
        error = "unexpected argument '" + a + "'";
        return false;
      }
      std::string name = a.substr(2);
      std::string value;
      size_t eq = name.find('=');
      if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
        values[name] = "1";
        continue;
      }
      if (std::find(lists.begin(), lists.end(), name) != lists.end()) {
        while (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0)
          list[name].push_back(argv[++i]);
        if (list[name].empty()) {
          error = "option --" + name + " needs at least one value";
          return false;
        }
        values[name] = list[name].front();
        continue;
      }
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        error = "option --" + name + " needs a value";
        return false;
      }
      bool ok = false;
      for (const std::string &k : known)
        ok = ok || k == name;
      if (!ok) {
        error = "unknown option --" + name;
        return false;
      }
      values[name] = value;
    }
    return true;
  }
  bool has(const std::string &n) const { return values.count(n) != 0; }
  std::string get(const std::string &n) const {
    auto it = values.find(n);
    return it == values.end() ? "" : it->second;
  }
  bool real(const std::string &n, double fallback, double &out) {
    if (!has(n)) {
      out = fallback;
      return true;
    }
    char *end = nullptr;
    out = std::strtod(get(n).c_str(), &end);
    if (get(n).empty() || *end != '\0' || !std::isfinite(out)) {
      error = "--" + n + " expects a number, got '" + get(n) + "'";
      return false;
    }
    return true;
  }
  bool integer(const std::string &n, long long fallback, long long &out) {
    if (!has(n)) {
      out = fallback;
      return true;
    }
    char *end = nullptr;
    out = std::strtoll(get(n).c_str(), &end, 10);
    if (get(n).empty() || *end != '\0') {
      error = "--" + n + " expects an integer, got '" + get(n) + "'";
      return false;
    }
    return true;
  }
};

/// Parses the options of a command that runs the program: `known`, `lists`
/// and `flags` as Options::parse takes them, plus --device, --threads and
/// --workgroup-size and the flags --validation and --no-subgroups.
bool parseRunOptions(Options &opts, int argc, char **argv, std::vector<std::string> known,
                     const std::vector<std::string> &lists = {},
                     std::vector<std::string> flags = {}) {
  known.insert(known.end(), {"device", "threads", "workgroup-size"});
  flags.insert(flags.end(), {"validation", "no-subgroups"});
  return opts.parse(argc, argv, known, lists, flags);
}

/// --device, --threads, --workgroup-size, --validation and --no-subgroups.
bool readDevice(Options &opts, DeviceChoice &device) {
  long long threads;
  if (!opts.integer("threads", 0, threads))
    return false;
  if (threads < 0 || threads > 4096) {
    opts.error = "--threads must be between 1 and 4096";
    return false;
  }
  if (opts.has("device") && !DeviceChoice::parse(opts.get("device"), device, opts.error))
    return false;
  device.threads = static_cast<int>(threads);
  device.validation = opts.has("validation");
  device.subgroups = !opts.has("no-subgroups");
  long long workgroupSize;
  if (!opts.integer("workgroup-size", 0, workgroupSize))
    return false;
  if (workgroupSize < 0) {
    opts.error = "--workgroup-size must be positive";
    return false;
  }
  device.workgroupSize = workgroupSize;
  return true;
}

int fail(const char *argv0, const std::string &message) {
  std::fprintf(stderr, "%s: error: %s\n", argv0, message.c_str());
  return 1;
}

/// Parameters from --weights; or those --init has (a published encoder
/// without this task's head), the rest fresh from --seed; or all fresh.
bool setUpParameters(const char *self, Session &session, const Options &opts, long long seed,
                     std::string &error) {
  if (opts.has("weights") && opts.has("init")) {
    error = "give --weights or --init, not both";
    return false;
  }
  if (!opts.has("weights")) {
    session.initParameters(static_cast<uint64_t>(seed));
    if (!opts.has("init"))
      return true;
    return initFromCheckpoint(session, opts.get("init"), self, true, error);
  }
  LoadReport report;
  if (!session.loadParameters(opts.get("weights"), error, &report))
    return false;
  if (!report.plain())
    for (const std::string &line : report.lines())
      std::fprintf(stderr, "%s: --weights: %s\n", self, line.c_str());
  return true;
}

void printProfile(const Session &session) {
  std::fprintf(stderr, "profile on %s: each kernel's time over all its calls\n",
               session.device().c_str());
  for (size_t k = 0; k < session.kernelTimes().size(); ++k)
    std::fprintf(stderr, "  %-12s %-12s %8.3f ms %4lld calls\n",
                 session.program().kernels[k].c_str(), session.program().kernelKinds[k].c_str(),
                 session.kernelTimes()[k].seconds * 1e3,
                 static_cast<long long>(session.kernelTimes()[k].calls));
}

/// `--bucket-mb MB` (default 4; 0: one allreduce after the backward pass)
/// in bytes.
bool bucketBytes(Options &opts, int64_t &bytes) {
  double mb = 0;
  if (!opts.real("bucket-mb", 4, mb))
    return false;
  if (!(mb >= 0 && mb <= 1e6)) {
    opts.error = "--bucket-mb must be between 0 and 1e6";
    return false;
  }
  bytes = static_cast<int64_t>(mb * 1e6);
  return true;
}

/// The options of FinetuneSettings, which every fine-tuning command takes.
// clang-format off
const std::vector<std::string> kFinetuneOptions = {
    "init", "vocab", "train", "dev", "save", "epochs", "lr", "seed", "patience", "dropout",
    "warmup-proportion", "accumulate", "bucket-mb"};
// clang-format on

/// Reads and checks FinetuneSettings (the options parsed with
/// kFinetuneOptions); `need` adds options the command requires.
bool readFinetuneSettings(Options &opts, const std::string &command,
                          const std::vector<std::string> &need, FinetuneSettings &s) {
  long long epochs, seed, patience, accumulate;
  if (!opts.integer("epochs", 3, epochs) || !opts.integer("seed", 0, seed) ||
      !opts.integer("accumulate", 1, accumulate) || !opts.integer("patience", 2, patience) ||
      !readDevice(opts, s.device) || !opts.real("lr", 5e-5, s.lr) ||
      !opts.real("dropout", 1.0, s.dropout) ||
      !opts.real("warmup-proportion", 0.1, s.warmupProportion) || !bucketBytes(opts, s.bucketBytes))
    return false;
  for (const std::string &option : need)
    if (!opts.has(option)) {
      opts.error = command + " needs --" + option;
      return false;
    }
  if (epochs < 1 || seed < 0 || patience < 1 || accumulate < 1 || !(s.lr > 0) ||
      s.warmupProportion < 0 || s.warmupProportion >= 1 || s.dropout < 0 || s.dropout > 1) {
    opts.error = "--epochs, --patience, --accumulate and --lr must be positive, "
                 "--warmup-proportion in [0, 1), --dropout in [0, 1]";
    return false;
  }
  s.init = opts.get("init");
  s.vocab = opts.get("vocab");
  s.train = opts.get("train");
  s.dev = opts.get("dev");
  s.saveDir = opts.get("save");
  s.epochs = epochs;
  s.seed = static_cast<uint64_t>(seed);
  s.patience = static_cast<int>(patience);
  s.accumulate = accumulate;
  return true;
}

/// Runs a training command on this process's world (mpirun's ranks, or
/// this process alone). An error is printed by the rank that has it, with
/// its rank in a run of several; a rank that failed leaves without waiting
/// for the others (the launcher ends them).
int runOnWorld(const char *self, const std::function<bool(Communicator *, std::string &)> &body) {
  std::string error;
  std::unique_ptr<Communicator> comm = openCommunicator(error);
  if (!comm)
    return fail(self, error);
  if (body(comm.get(), error))
    return 0;
  if (comm->size() > 1)
    comm->abandon();
  if (error.empty())
    return 1; // Another rank says why.
  return fail(self,
              comm->rank() > 0 ? "rank " + std::to_string(comm->rank()) + ": " + error : error);
}

int pretrainCommand(const char *self, const CompiledProgram &compiled, Options &opts) {
  PretrainConfig c;
  long long steps, warmup, seed, saveEvery, stopAfter, dupe, accumulate;
  if (!opts.integer("steps", 1000, steps) || !opts.integer("warmup", -1, warmup) ||
      !opts.integer("seed", 0, seed) || !opts.integer("save-every", 0, saveEvery) ||
      !readDevice(opts, c.device) || !opts.integer("stop-after", 0, stopAfter) ||
      !opts.integer("dupe-factor", 10, dupe) || !opts.integer("accumulate", 1, accumulate) ||
      !opts.real("lr", 1e-4, c.lr) || !opts.real("dropout", 1.0, c.dropout))
    return fail(self, opts.error);
  if (!opts.has("corpus") || !opts.has("vocab") || !opts.has("save"))
    return fail(self, "pretrain needs --corpus PATH..., --vocab FILE and --save DIR");
  if (steps < 1 || saveEvery < 0 || stopAfter < 0 || seed < 0 || dupe < 1 || dupe > 1000 ||
      accumulate < 1 || !(c.lr > 0) || c.dropout < 0 || c.dropout > 1)
    return fail(self, "--steps, --dupe-factor, --accumulate and --lr must be positive; "
                      "--save-every, --stop-after and --seed not negative; --dropout in [0, 1]");
  c.corpus = opts.list["corpus"];
  c.vocab = opts.get("vocab");
  c.saveDir = opts.get("save");
  c.steps = steps;
  c.warmup = warmup >= 0 ? warmup : steps / 10; // Default: a tenth of the steps.
  c.seed = static_cast<uint64_t>(seed);
  c.saveEvery = saveEvery;
  c.resume = opts.has("resume");
  c.init = opts.get("init");
  c.stopAfter = stopAfter;
  c.dupeFactor = static_cast<int>(dupe);
  c.accumulate = accumulate;
  c.checkRanks = opts.has("check-ranks");
  c.wholeWordMask = opts.has("whole-word-mask");
  if (!bucketBytes(opts, c.bucketBytes))
    return fail(self, opts.error);
  long long evalEvery, evalBatches;
  if (!opts.integer("eval-every", 0, evalEvery) || !opts.integer("eval-batches", 8, evalBatches))
    return fail(self, opts.error);
  if (evalEvery < 0 || evalBatches < 1 || (evalEvery > 0) != opts.has("eval-corpus"))
    return fail(self, "--eval-every N (N > 0) and --eval-corpus PATH... go together; "
                      "--eval-batches must be positive");
  c.evalEvery = evalEvery;
  c.evalBatches = evalBatches;
  if (opts.has("eval-corpus"))
    c.evalCorpus = opts.list["eval-corpus"];
  return runOnWorld(self, [&](Communicator *comm, std::string &error) {
    c.comm = comm;
    return pretrain(compiled, c, error);
  });
}

int tokenizeLines(const char *self, const Options &opts) {
  if (!opts.has("vocab"))
    return fail(self, "tokenize needs --vocab FILE");
  Vocab vocab;
  std::string error;
  if (!Vocab::load(opts.get("vocab"), vocab, error))
    return fail(self, error);
  Tokenizer tokenizer(vocab);
  std::string path = opts.has("input") ? opts.get("input") : "-";
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file)
      return fail(self, path + ": cannot open");
  }
  std::istream &in = path == "-" ? std::cin : file;
  std::string line, out;
  std::vector<std::string> tokens;
  for (long long n = 1; std::getline(in, line); ++n) {
    tokens.clear();
    if (!tokenizer.tokenize(line, tokens, error))
      return fail(self, (path == "-" ? "<stdin>" : path) + ":" + std::to_string(n) + ": " + error);
    out.clear();
    for (const std::string &t : tokens)
      out += (out.empty() ? "" : " ") + t;
    std::printf("%s\n", out.c_str());
  }
  return 0;
}

int trainStep(const char *self, const CompiledProgram &compiled, Options &opts) {
  long long seed, steps, accumulate;
  double lr, dropout;
  std::string error;
  DeviceChoice device;
  if (!opts.integer("seed", 0, seed) || !readDevice(opts, device) ||
      !opts.integer("steps", 1, steps) || !opts.real("lr", 1e-4, lr) ||
      !opts.real("dropout", 1.0, dropout) || !opts.integer("accumulate", 1, accumulate))
    return fail(self, opts.error);
  if (accumulate < 1)
    return fail(self, "--accumulate must be at least 1");
  bool split = !compiled.program().gradientBuffers.empty();
  if (accumulate > 1 && !split)
    return fail(self, "--accumulate needs a program compiled with --accumulate-gradients");
  if (!opts.has("data"))
    return fail(self, "train-step needs --data FILE");
  if (steps < 1)
    return fail(self, "--steps must be at least 1");
  if (dropout < 0 || dropout > 1)
    return fail(self, "--dropout must be between 0 and 1");
  if (!compiled.program().input(std::string(contract::kLearningRateInput)))
    return fail(self, "this program does not train; compile its task with --step=train "
                      "(the default for tasks that minimize an objective)");
  std::unique_ptr<Session> opened = compiled.open(device, error);
  if (!opened)
    return fail(self, error);
  Session &session = *opened;
  if (!setUpParameters(self, session, opts, seed, error))
    return fail(self, error);
  BatchFile data;
  if (!readBatchFile(opts.get("data"), data, error))
    return fail(self, error);
  int64_t batches = batchCount(data, session.program());
  bool profile = opts.get("profile") == "1" || opts.get("profile") == "true";
  session.setProfiling(profile);
  const Program &program = session.program();
  for (long long step = 1; step <= steps; ++step) {
    // Micro-batch j of this step: batch (step - 1) * K + j of the file.
    auto batchOf = [&](long long j) { return ((step - 1) * accumulate + j) % batches; };
    auto start = std::chrono::steady_clock::now();
    std::vector<double> scalars;
    auto fill = [&](int64_t j, std::string &err) {
      if (!fillBatch(data, batchOf(j), session, err))
        return false;
      setStepInputs(session, {lr, step, static_cast<uint64_t>(seed), dropout});
      return true;
    };
    if (!runStep(session, accumulate, fill, scalars, error))
      return fail(self, error);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("{\"step\": %lld", step);
    for (size_t i = 0; i < program.outputs.size(); ++i)
      if (program.tensors[program.outputs[i].tensor].shape.empty()) {
        double v = scalars[i];
        std::printf(std::isfinite(v) ? ", \"%s\": %.9g" : ", \"%s\": \"%g\"",
                    program.outputs[i].name.c_str(), v);
      }
    std::printf(", \"ms\": %.3f}\n", ms);
    std::fflush(stdout);
    if (step == 1 && opts.has("dump-grads") &&
        !session.saveOutputs(opts.get("dump-grads"), std::string(contract::kGradientPrefix), error))
      return fail(self, error);
  }
  if (opts.has("save") && !session.saveParameters(opts.get("save"), error, true))
    return fail(self, error);
  if (profile)
    printProfile(session);
  return 0;
}

/// `--list-devices [--validation]`: one line per Vulkan device.
int listDevicesCommand(const char *self, int argc, char **argv) {
  bool validation = false;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--validation"))
      return fail(self, std::string("unknown option '") + argv[i] + "' for --list-devices");
    validation = true;
  }
  VulkanDeviceList list;
  std::string error;
  if (!listVulkanDevices(validation, list, error))
    return fail(self, error);
  for (size_t i = 0; i < list.devices.size(); ++i) {
    const VulkanDevice &d = list.devices[i];
    std::printf("vulkan:%zu  %s  %s  Vulkan %u.%u  workgroup <= %u invocations (%u x %u x %u)  "
                "shared %u bytes  subgroup %u%s\n",
                i, d.name.c_str(), d.type.c_str(), d.apiMajor, d.apiMinor,
                d.maxWorkgroupInvocations, d.maxWorkgroupSize[0], d.maxWorkgroupSize[1],
                d.maxWorkgroupSize[2], d.maxSharedMemoryBytes, d.subgroupSize,
                d.subgroupShuffles ? " (shuffles)" : "");
  }
  if (validation) {
    std::printf("validation messages: %zu\n", list.validationMessages.size());
    for (const std::string &m : list.validationMessages)
      std::printf("  %s\n", m.c_str());
  }
  if (list.devices.empty())
    return fail(self, "the Vulkan loader sees no devices");
  return validation && !list.validationMessages.empty() ? 1 : 0;
}

/// The commands that need the program, after --list-devices and --help.
int runProgramCommand(const char *self, int argc, char **argv, const ProgramSymbols &symbols) {
  std::string error;
  CompiledProgram compiled;
  if (!CompiledProgram::fromSymbols(symbols, compiled, error))
    return fail(self, error);
  const Program &program = compiled.program();

  std::string command = argv[1];
  Options opts;
  if (command == "info") {
    if (!opts.parse(argc, argv, {}))
      return fail(self, opts.error);
    int64_t params = 0;
    for (const ParameterDesc &p : program.parameters)
      params += program.tensors[p.tensor].elements();
    std::string targets = compiled.hasCpu() ? "cpu" : "";
    if (compiled.hasVulkan()) {
      targets += targets.empty() ? "vulkan" : ", vulkan";
      std::string sizes;
      for (int64_t n : compiled.vulkanWorkgroupSizes())
        sizes += (sizes.empty() ? "" : ", ") + std::to_string(n);
      targets += " (workgroups of " + sizes + " invocations)";
    }
    std::printf("model: %s\ntask: %s\npreset: %s\ntargets: %s\nparameters: %lld\n"
                "parameter_bytes: %lld\nactivation_bytes: %lld\nkernels: %zu\ndispatches: %zu\n",
                program.model.c_str(), program.task.c_str(), program.preset.c_str(),
                targets.c_str(), static_cast<long long>(params),
                static_cast<long long>(program.parameterBytes),
                static_cast<long long>(program.activationBytes), program.kernels.size(),
                program.dispatches.size());
    if (!program.gradientBuffers.empty())
      std::printf("gradient_buffers: %zu (--accumulate K; the update from dispatch %lld)\n",
                  program.gradientBuffers.size(), static_cast<long long>(program.updateDispatches));
    if (!program.cpu.empty()) {
      std::string features;
      for (const std::string &f : program.cpuFeatures)
        features += " " + f;
      std::printf("cpu: %s\ncpu_features:%s\n", program.cpu.c_str(), features.c_str());
    }
    if (program.precision == "bf16")
      std::printf("precision: bf16 (matmul operands bf16, accumulated in fp32%s)\n",
                  program.cpu.empty()  ? ""
                  : program.cpuAmx     ? "; AMX tiles for blocks of 32 rows, vdpbf16ps elsewhere"
                  : program.cpuBf16Dot ? "; vdpbf16ps"
                                       : "; two fp32 FMAs per pair of K, no AVX512-BF16");
    else
      std::printf("precision: %s\n", program.precision.c_str());
    for (const NamedTensor &n : program.inputs)
      std::printf("input %s: %s\n", n.name.c_str(), dtypeName(program.tensors[n.tensor].dtype));
    for (const NamedTensor &n : program.outputs)
      std::printf("output %s: %s\n", n.name.c_str(), dtypeName(program.tensors[n.tensor].dtype));
    return 0;
  }
  if (command == "init") {
    long long seed;
    if (!opts.parse(argc, argv, {"output", "seed"}) || !opts.integer("seed", 0, seed))
      return fail(self, opts.error);
    if (!opts.has("output"))
      return fail(self, "init needs --output FILE");
    Session session(program, nullptr, 1); // runs no kernel
    session.initParameters(static_cast<uint64_t>(seed));
    if (!session.saveParameters(opts.get("output"), error))
      return fail(self, error);
    return 0;
  }
  if (command == "infer") {
    long long seed;
    double dropout;
    DeviceChoice device;
    if (!parseRunOptions(opts, argc, argv,
                         {"weights", "init", "input", "output", "seed", "profile", "dropout"}) ||
        !opts.integer("seed", 0, seed) || !readDevice(opts, device) ||
        !opts.real("dropout", 0.0, dropout))
      return fail(self, opts.error);
    if (!opts.has("input") || !opts.has("output"))
      return fail(self, "infer needs --input FILE and --output FILE");
    std::unique_ptr<Session> opened = compiled.open(device, error);
    if (!opened)
      return fail(self, error);
    Session &session = *opened;
    if (!setUpParameters(self, session, opts, seed, error))
      return fail(self, error);
    int64_t sequences = 0;
    if (!loadBatch(opts.get("input"), session, error, &sequences))
      return fail(self, error);
    // A program with training inputs runs one step without updating anything
    // observable but its outputs (learning rate 0).
    setStepInputs(session, {0.0, 1, static_cast<uint64_t>(seed), dropout});
    bool profile = opts.get("profile") == "1" || opts.get("profile") == "true";
    session.setProfiling(profile);
    auto start = std::chrono::steady_clock::now();
    session.run();
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!session.saveOutputs(opts.get("output"), error))
      return fail(self, error);
    std::fprintf(stderr, "%s: %lld sequences in %.2f ms\n", self, static_cast<long long>(sequences),
                 ms);
    if (profile)
      printProfile(session);
    return 0;
  }
  if (command == "pretrain") {
    if (!parseRunOptions(opts, argc, argv,
                         {"corpus", "vocab", "init", "steps", "lr", "warmup", "seed", "save", "save-every",
                          "dropout", "stop-after", "dupe-factor", "resume", "accumulate",
                          "check-ranks", "bucket-mb", "eval-corpus", "eval-every",
                          "eval-batches", "whole-word-mask"},
                         {"corpus", "eval-corpus"}, {"resume", "check-ranks", "whole-word-mask"}))
      return fail(self, opts.error);
    return pretrainCommand(self, compiled, opts);
  }
  if (command == "finetune") {
    std::vector<std::string> known = kFinetuneOptions;
    known.insert(known.end(), {"text-column", "label-column", "metric"});
    FinetuneConfig c;
    if (!parseRunOptions(opts, argc, argv, known) ||
        !readFinetuneSettings(opts, command, {"train", "text-column", "label-column", "save"}, c))
      return fail(self, opts.error);
    c.textColumn = opts.get("text-column");
    c.labelColumn = opts.get("label-column");
    if (opts.has("metric"))
      c.metric = opts.get("metric");
    return runOnWorld(self, [&](Communicator *comm, std::string &err) {
      c.comm = comm;
      return finetune(compiled, c, err);
    });
  }
  if (command == "finetune-summarize") {
    std::vector<std::string> known = kFinetuneOptions;
    known.insert(known.end(), {"top", "oracle-size", "shuffled-copies"});
    SummarizeConfig c;
    long long top, oracle, shuffled;
    if (!parseRunOptions(opts, argc, argv, known) ||
        !readFinetuneSettings(opts, command, {"train", "save"}, c) ||
        !opts.integer("top", 3, top) || !opts.integer("oracle-size", 3, oracle) ||
        !opts.integer("shuffled-copies", 0, shuffled))
      return fail(self, opts.error);
    if (top < 1 || oracle < 1 || shuffled < 0)
      return fail(self, "--top and --oracle-size must be positive, --shuffled-copies not negative");
    c.top = static_cast<int>(top);
    c.oracleSize = static_cast<int>(oracle);
    c.shuffledCopies = static_cast<int>(shuffled);
    return runOnWorld(self, [&](Communicator *comm, std::string &err) {
      c.comm = comm;
      return finetuneSummarize(compiled, c, err);
    });
  }
  if (command == "summarize" || command == "eval-summarize") {
    DeviceChoice device;
    bool eval = command == "eval-summarize";
    long long top, oracle;
    if (!parseRunOptions(opts, argc, argv,
                         eval ? std::vector<std::string>{"weights", "vocab", "data", "top",
                                                         "oracle-size", "per-document"}
                              : std::vector<std::string>{"weights", "vocab", "input", "top"}) ||
        !readDevice(opts, device) || !opts.integer("top", 3, top) ||
        !opts.integer("oracle-size", 3, oracle))
      return fail(self, opts.error);
    if (top < 1 || oracle < 1)
      return fail(self, "--top and --oracle-size must be positive");
    if (!eval) {
      if (!opts.has("weights"))
        return fail(self, "summarize needs --weights MODEL");
      return summarize(compiled, device, opts.get("weights"), opts.get("vocab"),
                       opts.has("input") ? opts.get("input") : "-", static_cast<int>(top), error)
                 ? 0
                 : fail(self, error);
    }
    if (!opts.has("data"))
      return fail(self, "eval-summarize needs --data FILE");
    return evalSummarize(compiled, device, opts.get("weights"), opts.get("vocab"),
                         opts.get("data"), static_cast<int>(top), static_cast<int>(oracle),
                         opts.get("per-document"), error)
               ? 0
               : fail(self, error);
  }
  if (command == "eval") {
    DeviceChoice device;
    if (!parseRunOptions(opts, argc, argv,
                         {"weights", "vocab", "data", "text-column", "label-column"}) ||
        !readDevice(opts, device))
      return fail(self, opts.error);
    for (const char *need : {"weights", "data", "text-column", "label-column"})
      if (!opts.has(need))
        return fail(self, std::string("eval needs --") + need);
    return evaluate(compiled, device, opts.get("weights"), opts.get("vocab"), opts.get("data"),
                    opts.get("text-column"), opts.get("label-column"), error)
               ? 0
               : fail(self, error);
  }
  if (command == "predict") {
    DeviceChoice device;
    if (!parseRunOptions(opts, argc, argv, {"weights", "vocab", "input"}) ||
        !readDevice(opts, device))
      return fail(self, opts.error);
    if (!opts.has("weights"))
      return fail(self, "predict needs --weights MODEL");
    return predict(compiled, device, opts.get("weights"), opts.get("vocab"),
                   opts.has("input") ? opts.get("input") : "-", error)
               ? 0
               : fail(self, error);
  }
  if (command == "tokenize") {
    if (!opts.parse(argc, argv, {"vocab", "input"}))
      return fail(self, opts.error);
    return tokenizeLines(self, opts);
  }
  if (command == "train-step") {
    if (!parseRunOptions(opts, argc, argv,
                         {"weights", "data", "steps", "lr", "dropout", "dump-grads", "save", "seed",
                          "profile", "accumulate"}))
      return fail(self, opts.error);
    return trainStep(self, compiled, opts);
  }
  return fail(self, "unknown command '" + command + "' (try --help)");
}

} // namespace

int runCommandLine(int argc, char **argv, const ProgramSymbols &symbols) {
  const char *self = argv[0];
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fprintf(argc < 2 ? stderr : stdout, kUsage, self);
    return argc < 2 ? 1 : 0;
  }
  if (!std::strcmp(argv[1], "--list-devices"))
    return listDevicesCommand(self, argc, argv);
  int status;
  try {
    status = runProgramCommand(self, argc, argv, symbols);
  } catch (const std::exception &e) {
    status = fail(self, e.what());
  }
  // With --validation, the layer's messages (printed as they came) fail the
  // command.
  bool validation = false;
  for (int i = 2; i < argc; ++i)
    validation = validation || !std::strcmp(argv[i], "--validation");
  if (validation) {
    size_t messages = vulkanValidationMessages();
    std::fprintf(stderr, "%s: vulkan validation messages: %zu\n", self, messages);
    if (messages > 0 && status == 0)
      status = 1;
  }
  return status;
}

} // namespace bertc::rt
