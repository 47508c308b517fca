//===- Cli.h - The command line of a compiled bertc binary ------*- C++ -*-===//
#ifndef BERTC_RUNTIME_TRAIN_CLI_H
#define BERTC_RUNTIME_TRAIN_CLI_H

#include "runtime/Compiled.h"

namespace bertc::rt {

/// Runs the command line of the program the compiler's object file
/// defines (`info`, `infer`, `pretrain`, ...). Returns the exit status.
int runCommandLine(int argc, char **argv, const ProgramSymbols &symbols);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_CLI_H
