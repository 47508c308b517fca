//===- Bench.cpp - `bertc bench`: fused against unfused kernels ----------===//
#include "tools/driver/Driver.h"

#include "runtime/train/Bench.h"
#include "runtime/Loader.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <fstream>
#include <sstream>

namespace bertc {

int bench(const CompileOptions &options, const BenchSettings &settings, std::ostream &out,
          std::ostream &errs) {
  rt::DeviceChoice device;
  std::string error;
  if (options.target == "cpu") {
    device.kind = rt::DeviceChoice::Kind::Cpu;
  } else if (options.target == "vulkan") {
    if (!rt::DeviceChoice::parse(settings.device.empty() ? "vulkan" : settings.device, device,
                                 error) ||
        device.kind != rt::DeviceChoice::Kind::Vulkan) {
      errs << "bertc: error: "
           << (error.empty() ? "--device must be vulkan[:N] with --target vulkan" : error) << "\n";
      return 1;
    }
  } else {
    errs << "bertc: error: bench times one target: --target cpu or --target vulkan\n";
    return 1;
  }
  device.threads = settings.threads;
  device.subgroups = settings.subgroups;
  if (settings.steps < 1) {
    errs << "bertc: error: --steps must be positive\n";
    return 1;
  }
  llvm::SmallString<128> dir;
  if (llvm::sys::fs::createUniqueDirectory("bertc-bench", dir)) {
    errs << "bertc: error: cannot create a temporary directory\n";
    return 1;
  }
  struct Cleanup {
    llvm::SmallString<128> dir;
    ~Cleanup() { llvm::sys::fs::remove_directories(dir); }
  } cleanup{dir};

  std::unique_ptr<rt::LoadedProgram> libs[2];
  for (int fused = 1; fused >= 0; --fused) {
    CompileOptions o = options;
    o.fusion = fused;
    o.emit = Emit::Shared;
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, fused ? "fused.so" : "unfused.so");
    o.outputPath = path.str().str();
    if (compile(o, errs) != 0)
      return 1;
    libs[fused] = rt::LoadedProgram::open(o.outputPath, error);
    if (!libs[fused]) {
      errs << "bertc: error: " << error << "\n";
      return 1;
    }
  }
  std::unique_ptr<rt::Session> fusedSession = libs[1]->newSession(device, error);
  std::unique_ptr<rt::Session> unfusedSession =
      fusedSession ? libs[0]->newSession(device, error) : nullptr;
  if (!unfusedSession) {
    errs << "bertc: error: " << error << "\n";
    return 1;
  }
  rt::BenchOptions benchOptions;
  benchOptions.steps = settings.steps;
  benchOptions.seed = settings.seed;
  rt::BenchResult result;
  if (!rt::runBench(*fusedSession, *unfusedSession, benchOptions, result, error)) {
    errs << "bertc: error: " << error << "\n";
    return 1;
  }

  const rt::Program &p = libs[1]->program();
  const rt::TensorDesc *ids = p.input("input_ids");
  std::ostringstream title;
  title << "bertc bench: " << (p.model.empty() ? "model" : p.model)
        << (p.preset.empty() ? "" : " " + p.preset) << " " << p.task;
  if (ids && ids->shape.size() == 2)
    title << ", batch " << ids->shape[0] << ", seq " << ids->shape[1];
  title << ", " << fusedSession->device() << ", " << settings.steps
        << " timed steps each, alternating";
  out << rt::formatBench(result, title.str(), settings.top) << std::flush;

  if (!settings.jsonPath.empty()) {
    rt::Json context = rt::Json::object();
    context["model"] = rt::Json(p.model);
    context["preset"] = rt::Json(p.preset);
    context["task"] = rt::Json(p.task);
    if (ids && ids->shape.size() == 2) {
      context["batch"] = rt::Json(ids->shape[0]);
      context["seq"] = rt::Json(ids->shape[1]);
    }
    context["target"] = rt::Json(options.target);
    context["device"] = rt::Json(fusedSession->device());
    std::string name = (p.model.empty() ? "model" : p.model) +
                       (p.preset.empty() ? "" : "-" + p.preset) + "/" + p.task;
    std::ofstream json(settings.jsonPath);
    json << rt::benchJson(result, name, context).dump() << "\n";
    if (!json) {
      errs << "bertc: error: cannot write '" << settings.jsonPath << "'\n";
      return 1;
    }
  }
  return 0;
}

} // namespace bertc
