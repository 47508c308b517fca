//===- KernelTable.cpp - One kernel per distinct dispatch body ------------===//
#include "passes/program/KernelTable.h"
#include "passes/KernelKinds.h"
#include "passes/MatmulOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/OperationSupport.h"

using namespace mlir;
namespace gr = bertc::graph;

namespace bertc {

namespace {

/// Outlines a dispatch body as `func.func @name(inputs) -> results` at the
/// end of `module`.
func::FuncOp outline(gr::DispatchOp dispatch, ModuleOp module, StringRef name) {
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Block &body = dispatch.getBody().front();
  auto type = b.getFunctionType(body.getArgumentTypes(), dispatch.getResultTypes());
  auto fn = b.create<func::FuncOp>(dispatch.getLoc(), name, type);
  Block *entry = fn.addEntryBlock();
  IRMapping map;
  map.map(body.getArguments(), entry->getArguments());
  OpBuilder inner = OpBuilder::atBlockBegin(entry);
  for (Operation &op : body.without_terminator())
    inner.clone(op, map);
  SmallVector<Value> results;
  for (Value v : cast<gr::YieldOp>(body.getTerminator()).getValues())
    results.push_back(map.lookup(v));
  inner.create<func::ReturnOp>(dispatch.getLoc(), results);
  return fn;
}

/// A hash of `fn`'s ops, their attributes and types, in order: equivalent
/// kernels hash alike.
llvm::hash_code structuralHash(func::FuncOp fn) {
  llvm::hash_code hash = hash_value(fn.getFunctionType());
  fn.getBody().walk([&](Operation *op) {
    hash = llvm::hash_combine(
        hash, OperationEquivalence::computeHash(op, OperationEquivalence::ignoreHashValue,
                                                OperationEquivalence::ignoreHashValue,
                                                OperationEquivalence::IgnoreLocations));
  });
  return hash;
}

} // namespace

bool equivalentKernels(func::FuncOp a, func::FuncOp b) {
  if (a.getFunctionType() != b.getFunctionType())
    return false;
  return OperationEquivalence::isRegionEquivalentTo(&a.getBody(), &b.getBody(),
                                                    OperationEquivalence::IgnoreLocations);
}

int KernelTable::kernelFor(gr::DispatchOp dispatch) {
  std::string name = "kernel_" + std::to_string(functions_.size());
  func::FuncOp kernel = outline(dispatch, kernels_, name);
  llvm::hash_code hash = structuralHash(kernel);
  std::vector<int> &candidates = byHash_[hash];
  for (int k : candidates)
    if (equivalentKernels(functions_[k], kernel)) {
      kernel.erase();
      return k;
    }
  int k = static_cast<int>(functions_.size());
  candidates.push_back(k);
  functions_.push_back(kernel);
  names_.push_back(name);
  kinds_.emplace_back(contract::kernelKindName(kernelKindOf(dispatch.getBody())));
  matmulFlops_.push_back(bertc::matmulFlops(dispatch.getBody()));
  return k;
}

} // namespace bertc
