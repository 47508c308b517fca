//===- ParserFuzzer.cpp - libFuzzer target for the model-file parser ------===//
#include "frontend/Parser.h"
#include "frontend/Sema.h"

#include <cstddef>
#include <cstdint>
#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace bertc::frontend;
  SourceFile file("fuzz.bertc", std::string(reinterpret_cast<const char *>(data), size));
  std::ostringstream sink;
  Diagnostics diags(file, sink);
  std::unique_ptr<Module> module = parseModelFile(file, diags);
  // A rejected input must say why.
  if (!module && diags.errorCount() == 0)
    __builtin_trap();
  if (module) {
    bool ok = checkModule(*module, diags);
    if (!ok && diags.errorCount() == 0)
      __builtin_trap();
    std::ostringstream ast;
    dumpAST(*module, ast);
  }
  return 0;
}
