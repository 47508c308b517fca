//===- Main.cpp - main() of a compiled bertc binary -----------------------===//
//
// Linked with the object file the compiler emits, which defines the program
// description and the kernel table.
//
//===----------------------------------------------------------------------===//
#include "runtime/Cli.h"

extern "C" {
extern const char bertc_program[];
extern const bertc::rt::KernelFn bertc_kernels[];
extern const int64_t bertc_kernel_count;
}

int main(int argc, char **argv) {
  return bertc::rt::runCommandLine(argc, argv, bertc_program, bertc_kernels, bertc_kernel_count);
}
