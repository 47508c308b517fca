//===- Driver.h - What `bertc compile` does ---------------------*- C++ -*-===//
#ifndef BERTC_TOOLS_DRIVER_DRIVER_H
#define BERTC_TOOLS_DRIVER_DRIVER_H

#include "frontend/MLIRGen.h"

#include <ostream>
#include <string>

namespace bertc {

enum class Emit { AST, Graph, Summary };

struct CompileOptions {
  std::string modelPath;
  frontend::GraphOptions graph;
  Emit emit = Emit::Summary;
  std::string outputPath; ///< "-" or empty: standard output.
};

/// Compiles a model file as `bertc compile` does. Diagnostics go to `errs` as
/// file:line:col messages. Returns the process exit status (0 or 1).
int compile(const CompileOptions &options, std::ostream &errs);

} // namespace bertc

#endif // BERTC_TOOLS_DRIVER_DRIVER_H
