//===- DestinationPassing.cpp - Kernels over their buffer bindings --------===//
#include "backends/common/Passes.h"
#include "backends/common/Strategy.h"

#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/SubsetInsertionOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/TensorTilingInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/SubsetInsertionOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/SubsetOpInterfaceImpl.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;

namespace bertc {

#define GEN_PASS_DEF_TODESTINATIONPASSING
#include "backends/common/Passes.h.inc"

void registerCommonBackend(DialectRegistry &registry) {
  registry.insert<affine::AffineDialect, arith::ArithDialect, bufferization::BufferizationDialect,
                  func::FuncDialect, linalg::LinalgDialect, memref::MemRefDialect, scf::SCFDialect,
                  tensor::TensorDialect, vector::VectorDialect>();
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerSubsetOpInterfaceExternalModels(registry);
  linalg::registerTilingInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerSubsetOpInterfaceExternalModels(registry);
  tensor::registerTilingInterfaceExternalModels(registry);
  vector::registerBufferizableOpInterfaceExternalModels(registry);
  vector::registerSubsetOpInterfaceExternalModels(registry);
}

namespace {

/// Rewrites `func @k(tensors) -> tensors` as
/// `func @k(input memrefs, output memrefs, %x, %y, %z: index)`.
void toDestinationPassing(func::FuncOp fn) {
  OpBuilder b(fn);
  Location loc = fn.getLoc();
  auto memrefOf = [](Type t) {
    auto tensor = cast<RankedTensorType>(t);
    return MemRefType::get(tensor.getShape(), tensor.getElementType());
  };
  SmallVector<Type> args;
  for (Type t : fn.getArgumentTypes())
    args.push_back(memrefOf(t));
  for (Type t : fn.getResultTypes())
    args.push_back(memrefOf(t));
  for (int i = 0; i < kGridDims; ++i)
    args.push_back(b.getIndexType());
  auto kernel = b.create<func::FuncOp>(loc, fn.getSymName(), b.getFunctionType(args, {}));
  Block *entry = kernel.addEntryBlock();
  OpBuilder kb = OpBuilder::atBlockBegin(entry);
  IRMapping map;
  for (auto [i, arg] : llvm::enumerate(fn.getArguments()))
    map.map(arg, kb.create<bufferization::ToTensorOp>(loc, entry->getArgument(i),
                                                      /*restrict=*/true, /*writable=*/false));
  for (Operation &op : fn.getBody().front().without_terminator())
    kb.clone(op, map);
  auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    Value dest = entry->getArgument(fn.getNumArguments() + i);
    kb.create<bufferization::MaterializeInDestinationOp>(loc, TypeRange{}, map.lookup(v), dest,
                                                         /*restrict=*/true, /*writable=*/true);
  }
  kb.create<func::ReturnOp>(loc);
  for (NamedAttribute a : fn->getDiscardableAttrs())
    kernel->setAttr(a.getName(), a.getValue());
  fn.erase();
}

struct ToDestinationPassing : impl::ToDestinationPassingBase<ToDestinationPassing> {
  void runOnOperation() override {
    SmallVector<func::FuncOp> kernels(getOperation().getOps<func::FuncOp>());
    for (func::FuncOp fn : kernels)
      toDestinationPassing(fn);
  }
};

} // namespace

} // namespace bertc
