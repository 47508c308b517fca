//===- Sema.h - Name resolution and structural checks -----------*- C++ -*-===//
//
// Checks what can be checked without evaluating the model: every name is
// defined before use and defined once, calls have the right arguments, no
// function is recursive, statements appear where they are allowed. Errors that
// depend on values (shapes, preset values) are found by MLIRGen.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_FRONTEND_SEMA_H
#define BERTC_FRONTEND_SEMA_H

#include "frontend/AST.h"

namespace bertc::frontend {

/// Returns true when `module` passed; otherwise the errors went to `diags`.
bool checkModule(const Module &module, Diagnostics &diags);

} // namespace bertc::frontend

#endif // BERTC_FRONTEND_SEMA_H
