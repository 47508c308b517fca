//===- Driver.cpp - What `bertc compile` does -----------------------------===//
#include "tools/driver/Driver.h"

#include "dialects/graph/GraphDialect.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "passes/GraphSummary.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <sstream>

namespace bertc {

namespace {

/// The file position of an MLIR location built by MLIRGen.
frontend::SourceLoc sourceLoc(mlir::Location loc) {
  if (auto fl = mlir::dyn_cast<mlir::FileLineColLoc>(loc))
    return {fl.getLine(), fl.getColumn()};
  return {};
}

/// Routes MLIR diagnostics to the front end's file:line:col printer. Errors
/// inside inlined functions also name each call site, innermost first.
void report(frontend::Diagnostics &diags, mlir::Diagnostic &d) {
  mlir::Location loc = d.getLocation();
  std::vector<mlir::Location> callers;
  while (auto cs = mlir::dyn_cast<mlir::CallSiteLoc>(loc)) {
    callers.push_back(cs.getCaller());
    loc = cs.getCallee();
  }
  std::string message = d.str();
  if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
    diags.error(sourceLoc(loc), message);
  else
    diags.note(sourceLoc(loc), message);
  for (mlir::Location caller : callers) {
    while (auto cs = mlir::dyn_cast<mlir::CallSiteLoc>(caller))
      caller = cs.getCallee();
    diags.note(sourceLoc(caller), "called from here");
  }
  for (mlir::Diagnostic &note : d.getNotes())
    report(diags, note);
}

} // namespace

int compile(const CompileOptions &options, std::ostream &errs) {
  frontend::SourceFile file;
  std::string ioError;
  if (!frontend::SourceFile::load(options.modelPath, file, ioError)) {
    errs << "bertc: error: " << ioError << "\n";
    return 1;
  }
  frontend::Diagnostics diags(file, errs);
  std::unique_ptr<frontend::Module> ast = frontend::parseModelFile(file, diags);
  if (!ast || !frontend::checkModule(*ast, diags))
    return 1;

  std::string text;
  llvm::raw_string_ostream os(text);
  if (options.emit == Emit::AST) {
    std::ostringstream ss;
    frontend::dumpAST(*ast, ss);
    os << ss.str();
  } else {
    if (options.graph.task.empty()) {
      std::string known;
      for (const frontend::TaskDecl &t : ast->tasks)
        known += (known.empty() ? "" : ", ") + t.name.name;
      diags.error({}, "--task is required" + (known.empty()
                                                  ? std::string(" (the model defines no tasks)")
                                                  : " (the model defines: " + known + ")"));
      return 1;
    }
    mlir::MLIRContext context;
    context.loadDialect<graph::GraphDialect, mlir::func::FuncDialect>();
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      report(diags, d);
      return mlir::success();
    });
    mlir::OwningOpRef<mlir::ModuleOp> module =
        frontend::buildGraph(context, file, *ast, options.graph);
    if (!module)
      return 1;
    if (options.emit == Emit::Graph)
      module->print(os);
    else
      printGraphSummary(summarizeGraph(*module), os);
  }
  os.flush();

  if (options.outputPath.empty() || options.outputPath == "-") {
    llvm::outs() << text;
    llvm::outs().flush();
    return 0;
  }
  std::error_code ec;
  llvm::ToolOutputFile out(options.outputPath, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    errs << "bertc: error: cannot write '" << options.outputPath << "': " << ec.message() << "\n";
    return 1;
  }
  out.os() << text;
  out.keep();
  return 0;
}

} // namespace bertc
