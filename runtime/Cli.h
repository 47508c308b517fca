//===- Cli.h - The command line of a compiled bertc binary ------*- C++ -*-===//
#ifndef BERTC_RUNTIME_CLI_H
#define BERTC_RUNTIME_CLI_H

#include "runtime/Session.h"

namespace bertc::rt {

/// Runs the compiled program's command line (`infer`, `init`, `info`).
/// Returns the process exit status.
int runCommandLine(int argc, char **argv, const char *programJson, const KernelFn *kernels,
                   int64_t kernelCount);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_CLI_H
