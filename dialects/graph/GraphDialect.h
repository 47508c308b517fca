//===- GraphDialect.h - The graph dialect -----------------------*- C++ -*-===//
#ifndef BERTC_DIALECTS_GRAPH_GRAPHDIALECT_H
#define BERTC_DIALECTS_GRAPH_GRAPHDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/graph/GraphDialect.h.inc"

#endif // BERTC_DIALECTS_GRAPH_GRAPHDIALECT_H
