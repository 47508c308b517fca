//===- bertc-opt.cpp - Parse, verify and print bertc's dialects -----------===//
#include "dialects/graph/GraphDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<bertc::graph::GraphDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::linalg::LinalgDialect, mlir::math::MathDialect, mlir::scf::SCFDialect,
                  mlir::tensor::TensorDialect>();
  bertc::registerBertcPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "bertc optimizer driver\n", registry));
}
