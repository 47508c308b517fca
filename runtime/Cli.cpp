//===- Cli.cpp - The command line of a compiled bertc binary --------------===//
#include "runtime/Cli.h"

#include "runtime/Batch.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace bertc::rt {

namespace {

const char *kUsage = R"(usage: %s COMMAND [options]

commands:
  info                          describe the compiled program
  init   --output FILE [--seed S]
                                write freshly initialised parameters (safetensors)
  infer  --input FILE --output FILE [--weights FILE | --seed S] [--threads N]
                                run the program on a JSONL batch and write its
                                outputs (safetensors); without --weights the
                                parameters are initialised from --seed

options:
  --weights FILE   parameters in safetensors with HuggingFace names
  --input FILE     one JSON object per sequence: input_ids, token_type_ids,
                   attention_mask (padded to the compiled length)
  --output FILE    where to write
  --seed S         initialisation seed (default 0)
  --threads N      worker threads (default: all cores)
  --profile 1      print the time spent in each kernel
)";

/// `--name value` options after the command.
struct Options {
  std::map<std::string, std::string> values;
  std::string error;

  bool parse(int argc, char **argv, const std::vector<std::string> &known) {
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) {
        error = "unexpected argument '" + a + "'";
        return false;
      }
      std::string name = a.substr(2);
      std::string value;
      size_t eq = name.find('=');
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

int fail(const char *argv0, const std::string &message) {
  std::fprintf(stderr, "%s: error: %s\n", argv0, message.c_str());
  return 1;
}

} // namespace

int runCommandLine(int argc, char **argv, const char *programJson, const KernelFn *kernels,
                   int64_t kernelCount) {
  const char *self = argv[0];
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fprintf(argc < 2 ? stderr : stdout, kUsage, self);
    return argc < 2 ? 1 : 0;
  }
  Json json;
  std::string error;
  Program program;
  if (!Json::parse(programJson, json, error) || !Program::fromJson(json, program, error))
    return fail(self, "the embedded program is damaged: " + error);
  if (static_cast<int64_t>(program.kernels.size()) != kernelCount)
    return fail(self, "the embedded program and kernel table disagree");

  std::string command = argv[1];
  Options opts;
  if (command == "info") {
    if (!opts.parse(argc, argv, {}))
      return fail(self, opts.error);
    int64_t params = 0;
    for (const ParameterDesc &p : program.parameters)
      params += program.tensors[p.tensor].elements();
    std::printf("model: %s\ntask: %s\npreset: %s\nparameters: %lld\nparameter_bytes: "
                "%lld\nactivation_bytes: %lld\nkernels: %zu\ndispatches: %zu\n",
                program.model.c_str(), program.task.c_str(), program.preset.c_str(),
                static_cast<long long>(params), static_cast<long long>(program.parameterBytes),
                static_cast<long long>(program.activationBytes), program.kernels.size(),
                program.dispatches.size());
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
    Session session(std::move(program), kernels, 1);
    session.initParameters(static_cast<uint64_t>(seed));
    if (!session.saveParameters(opts.get("output"), error))
      return fail(self, error);
    return 0;
  }
  if (command == "infer") {
    long long seed, threads;
    if (!opts.parse(argc, argv, {"weights", "input", "output", "seed", "threads", "profile"}) ||
        !opts.integer("seed", 0, seed) || !opts.integer("threads", 0, threads))
      return fail(self, opts.error);
    if (!opts.has("input") || !opts.has("output"))
      return fail(self, "infer needs --input FILE and --output FILE");
    if (threads < 0 || threads > 4096)
      return fail(self, "--threads must be between 1 and 4096");
    Session session(std::move(program), kernels, static_cast<int>(threads));
    if (opts.has("weights")) {
      int extra = 0;
      if (!session.loadParameters(opts.get("weights"), error, &extra))
        return fail(self, error);
      if (extra > 0)
        std::fprintf(stderr, "%s: note: %d tensors in %s are not parameters of this model\n", self,
                     extra, opts.get("weights").c_str());
    } else {
      session.initParameters(static_cast<uint64_t>(seed));
    }
    int64_t sequences = 0;
    if (!loadBatch(opts.get("input"), session, error, &sequences))
      return fail(self, error);
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
      for (size_t k = 0; k < session.kernelTimes().size(); ++k)
        std::fprintf(stderr, "  %-12s %8.3f ms %4lld calls\n", session.program().kernels[k].c_str(),
                     session.kernelTimes()[k].seconds * 1e3,
                     static_cast<long long>(session.kernelTimes()[k].calls));
    return 0;
  }
  return fail(self, "unknown command '" + command + "' (try --help)");
}

} // namespace bertc::rt
