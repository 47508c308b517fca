//===- Builtins.h - Signatures of the language's built-in ops ---*- C++ -*-===//
//
// The one table of built-in functions (frontend/Builtins.def): Sema checks
// calls against the signatures below and MLIRGen binds each name to the
// builder of the graph op that implements it.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_FRONTEND_BUILTINS_H
#define BERTC_FRONTEND_BUILTINS_H

#include <string>
#include <vector>

namespace bertc::frontend {

struct BuiltinParam {
  const char *name;
  bool required;
};

struct BuiltinSignature {
  const char *name;
  std::vector<BuiltinParam> params;
  const char *summary;
  /// True for functions of numbers (usable in constants), false for graph ops.
  bool scalar = false;
};

/// All built-ins, in documentation order.
const std::vector<BuiltinSignature> &builtinSignatures();
/// The signature named `name`, or null.
const BuiltinSignature *findBuiltin(const std::string &name);

} // namespace bertc::frontend

#endif // BERTC_FRONTEND_BUILTINS_H
