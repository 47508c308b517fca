//===- GraphFuzzer.cpp - libFuzzer target from model text to graph --------===//
#include "tools/driver/Driver.h"

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <regex>
#include <sstream>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  // The driver reads files; give it one per process.
  static const std::string path = "/tmp/bertc-graph-fuzz-" + std::to_string(getpid()) + ".bertc";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  bertc::CompileOptions options;
  options.modelPath = path;
  // Build the first task the input declares, if any.
  std::smatch m;
  static const std::regex taskRe("task\\s+([A-Za-z_][A-Za-z0-9_]*)");
  options.graph.task = std::regex_search(text, m, taskRe) ? m[1].str() : "t";
  options.graph.maxOps = 20000;
  options.emit = bertc::Emit::Summary;
  options.outputPath = "/dev/null";
  std::ostringstream errs;
  int status = bertc::compile(options, errs);
  // Failure must come with a message; success must not print errors.
  if ((status != 0) != (errs.str().find("error: ") != std::string::npos))
    __builtin_trap();
  return 0;
}
