//===- Builtins.cpp - Signatures of the language's built-in ops -----------===//
#include "frontend/Builtins.h"

namespace bertc::frontend {

const std::vector<BuiltinSignature> &builtinSignatures() {
  static const std::vector<BuiltinSignature> table = {
#define BUILTIN(NAME, PARAMS, SUMMARY, SCALAR)                                                     \
  {#NAME, std::vector<BuiltinParam> PARAMS, SUMMARY, SCALAR},
#include "frontend/Builtins.def"
#undef BUILTIN
  };
  return table;
}

const BuiltinSignature *findBuiltin(const std::string &name) {
  for (const BuiltinSignature &b : builtinSignatures())
    if (name == b.name)
      return &b;
  return nullptr;
}

} // namespace bertc::frontend
