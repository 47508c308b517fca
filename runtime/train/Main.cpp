//===- Main.cpp - main() of a compiled bertc binary -----------------------===//
//
// Linked with the object file the compiler emits, which defines the program
// and its kernels for the targets it was compiled for (runtime/Compiled.h):
// the symbols of a target left out are weak and null.
//
//===----------------------------------------------------------------------===//
#include "runtime/train/Cli.h"

extern "C" {
extern const char bertc_program[] __attribute__((weak));
extern const bertc::rt::KernelFn bertc_kernels[] __attribute__((weak));
extern const int64_t bertc_kernel_count __attribute__((weak));
extern const char bertc_vulkan_program[] __attribute__((weak));
extern const uint32_t bertc_spirv[] __attribute__((weak));
extern const int64_t bertc_spirv_offsets[] __attribute__((weak));
}

int main(int argc, char **argv) {
  bertc::rt::ProgramSymbols symbols;
  symbols.cpuProgram = bertc_program;
  symbols.kernels = bertc_kernels;
  symbols.kernelCount = &bertc_kernel_count;
  symbols.vulkanProgram = bertc_vulkan_program;
  symbols.spirv = bertc_spirv;
  symbols.spirvOffsets = bertc_spirv_offsets;
  return bertc::rt::runCommandLine(argc, argv, symbols);
}
