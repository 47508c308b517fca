//===- AST.h - Syntax tree of the bertc model language ----------*- C++ -*-===//
//
// A model file is a list of declarations:
//   model NAME                       the model's name
//   const NAME = EXPR                a compile-time number (presets and --set
//   dim NAME = EXPR                  override it; dims are the symbolic sizes
//                                    bound by --batch/--seq)
//   preset NAME { k = EXPR, ... }    named overrides of constants
//   input NAME : DTYPE[DIMS]         a graph input
//   let NAME = EXPR                  a global value, built on first use
//   check COND, "message"            a compile-time assertion
//   fn NAME(ARGS) { STMTS }          a function, inlined at each call
//   task NAME { STMTS }              a task head, chosen with --task
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_FRONTEND_AST_H
#define BERTC_FRONTEND_AST_H

#include "frontend/Diagnostics.h"

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace bertc::frontend {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

enum class ExprKind { Int, Float, Bool, String, Name, List, Unary, Binary, Call, Param };

struct Expr {
  Expr(ExprKind kind, SourceLoc loc) : kind(kind), loc(loc) {}
  virtual ~Expr() = default;
  const ExprKind kind;
  SourceLoc loc;
};
using ExprPtr = std::unique_ptr<Expr>;

struct IntExpr : Expr {
  IntExpr(SourceLoc loc, int64_t v) : Expr(ExprKind::Int, loc), value(v) {}
  int64_t value;
};

struct FloatExpr : Expr {
  FloatExpr(SourceLoc loc, double v) : Expr(ExprKind::Float, loc), value(v) {}
  double value;
};

struct BoolExpr : Expr {
  BoolExpr(SourceLoc loc, bool v) : Expr(ExprKind::Bool, loc), value(v) {}
  bool value;
};

/// A string literal; `{name}` inside it interpolates a variable.
struct StringExpr : Expr {
  struct Part {
    bool isName = false;
    std::string text; ///< Literal text, or the interpolated variable's name.
    SourceLoc loc;
  };
  StringExpr(SourceLoc loc) : Expr(ExprKind::String, loc) {}
  std::vector<Part> parts;
};

struct NameExpr : Expr {
  NameExpr(SourceLoc loc, std::string n) : Expr(ExprKind::Name, loc), name(std::move(n)) {}
  std::string name;
};

/// `[a, b, c]`: a list of integers (shapes, permutations, axes).
struct ListExpr : Expr {
  ListExpr(SourceLoc loc) : Expr(ExprKind::List, loc) {}
  std::vector<ExprPtr> elements;
};

enum class UnaryOp { Neg, Not };
struct UnaryExpr : Expr {
  UnaryExpr(SourceLoc loc, UnaryOp op, ExprPtr e)
      : Expr(ExprKind::Unary, loc), op(op), operand(std::move(e)) {}
  UnaryOp op;
  ExprPtr operand;
};

enum class BinaryOp { Add, Sub, Mul, Div, Mod, Eq, Ne, Lt, Le, Gt, Ge, And, Or };
const char *binaryOpSpelling(BinaryOp op);

struct BinaryExpr : Expr {
  BinaryExpr(SourceLoc loc, BinaryOp op, ExprPtr l, ExprPtr r)
      : Expr(ExprKind::Binary, loc), op(op), lhs(std::move(l)), rhs(std::move(r)) {}
  BinaryOp op;
  ExprPtr lhs, rhs;
};

/// One argument of a call: positional when `keyword` is empty.
struct Arg {
  std::string keyword;
  SourceLoc loc;
  ExprPtr value;
};

/// `callee(args)`: a builtin op or a user function.
struct CallExpr : Expr {
  CallExpr(SourceLoc loc, std::string c) : Expr(ExprKind::Call, loc), callee(std::move(c)) {}
  std::string callee;
  std::vector<Arg> args;
};

/// `DTYPE[d0, d1, ...]`, dims are integer expressions.
struct TypeExpr {
  std::string dtype;
  SourceLoc loc;
  std::vector<ExprPtr> dims;
};

/// `param DTYPE[DIMS] INIT "checkpoint.name"` with INIT one of
/// `normal(std)`, `zeros`, `ones`.
struct ParamExpr : Expr {
  ParamExpr(SourceLoc loc) : Expr(ExprKind::Param, loc) {}
  TypeExpr type;
  std::string init;
  SourceLoc initLoc;
  std::vector<ExprPtr> initArgs;
  ExprPtr name; ///< A StringExpr.
};

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

enum class StmtKind { Let, Assign, Return, For, Output, Minimize, Check, Input };

struct Stmt {
  Stmt(StmtKind kind, SourceLoc loc) : kind(kind), loc(loc) {}
  virtual ~Stmt() = default;
  const StmtKind kind;
  SourceLoc loc;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Block = std::vector<StmtPtr>;

struct Binding {
  std::string name;
  SourceLoc loc;
};

/// `let a = e` or `let a, b = f(x)` (a function returning two values).
struct LetStmt : Stmt {
  LetStmt(SourceLoc loc) : Stmt(StmtKind::Let, loc) {}
  std::vector<Binding> names;
  ExprPtr value;
};

/// `a = e`: rebinds a variable of the enclosing block (loop-carried values).
struct AssignStmt : Stmt {
  AssignStmt(SourceLoc loc) : Stmt(StmtKind::Assign, loc) {}
  Binding target;
  ExprPtr value;
};

struct ReturnStmt : Stmt {
  ReturnStmt(SourceLoc loc) : Stmt(StmtKind::Return, loc) {}
  std::vector<ExprPtr> values;
};

/// `for i in lo..hi { ... }`, unrolled at compile time; hi is exclusive.
struct ForStmt : Stmt {
  ForStmt(SourceLoc loc) : Stmt(StmtKind::For, loc) {}
  Binding var;
  ExprPtr lo, hi;
  Block body;
};

/// `output name = e` in a task: a named graph output.
struct OutputStmt : Stmt {
  OutputStmt(SourceLoc loc) : Stmt(StmtKind::Output, loc) {}
  Binding name;
  ExprPtr value;
};

/// `minimize name` in a task: the output that training differentiates.
struct MinimizeStmt : Stmt {
  MinimizeStmt(SourceLoc loc) : Stmt(StmtKind::Minimize, loc) {}
  Binding name;
};

/// `check cond, "message"`: fails compilation with `message` when false.
struct CheckStmt : Stmt {
  CheckStmt(SourceLoc loc) : Stmt(StmtKind::Check, loc) {}
  ExprPtr cond;
  std::string message;
};

/// `input name : DTYPE[DIMS]`.
struct InputStmt : Stmt {
  InputStmt(SourceLoc loc) : Stmt(StmtKind::Input, loc) {}
  Binding name;
  TypeExpr type;
};

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

struct ConstDecl {
  Binding name;
  bool isDim = false;
  ExprPtr value;
};

struct PresetDecl {
  Binding name;
  struct Setting {
    Binding name;
    ExprPtr value;
  };
  std::vector<Setting> settings;
};

struct FnDecl {
  Binding name;
  std::vector<Binding> params;
  Block body;
};

struct TaskDecl {
  Binding name;
  Block body;
};

/// A whole model file.
struct Module {
  Binding model;                 ///< From `model NAME`; empty if absent.
  std::vector<ConstDecl> consts; ///< In declaration order.
  std::vector<PresetDecl> presets;
  Block globals; ///< Top-level let, input and check.
  std::vector<FnDecl> functions;
  std::vector<TaskDecl> tasks;

  const FnDecl *findFunction(const std::string &name) const;
  const TaskDecl *findTask(const std::string &name) const;
  const PresetDecl *findPreset(const std::string &name) const;
};

/// Prints the tree, one node a line, for `bertc compile --emit=ast`.
void dumpAST(const Module &module, std::ostream &os);

} // namespace bertc::frontend

#endif // BERTC_FRONTEND_AST_H
