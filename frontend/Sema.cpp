//===- Sema.cpp - Name resolution and structural checks -------------------===//
#include "frontend/Sema.h"

#include "frontend/Builtins.h"

#include <functional>
#include <map>
#include <set>
#include <unordered_map>

namespace bertc::frontend {

namespace {

enum class NameKind { Const, Global, Input, Param, Local, LoopVar, Function };

const char *describe(NameKind k) {
  switch (k) {
  case NameKind::Const:
    return "constant";
  case NameKind::Global:
    return "global value";
  case NameKind::Input:
    return "input";
  case NameKind::Param:
    return "function parameter";
  case NameKind::Local:
    return "local value";
  case NameKind::LoopVar:
    return "loop variable";
  case NameKind::Function:
    return "function";
  }
  return "name";
}

struct Symbol {
  NameKind kind;
  SourceLoc loc;
};

/// Where a block sits; decides which statements are allowed.
enum class Context { Global, Function, Task };

class Checker {
public:
  Checker(const Module &m, Diagnostics &diags) : m_(m), diags_(diags) {}

  bool run() {
    declareGlobals();
    for (const ConstDecl &c : m_.consts)
      checkConstExpr(c);
    checkPresets();
    for (const StmtPtr &s : m_.globals)
      checkGlobal(*s);
    for (const FnDecl &f : m_.functions)
      checkFunction(f);
    std::set<std::string> taskNames;
    for (const TaskDecl &t : m_.tasks) {
      if (!taskNames.insert(t.name.name).second)
        diags_.error(t.name.loc, "duplicate task '" + t.name.name + "'");
      checkTask(t);
    }
    checkRecursion();
    return diags_.errorCount() == errorsBefore_;
  }

private:
  //===--------------------------------------------------------------------===//
  // Scopes
  //===--------------------------------------------------------------------===//

  const Symbol *lookup(const std::string &name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end())
        return &f->second;
    }
    auto g = globals_.find(name);
    return g == globals_.end() ? nullptr : &g->second;
  }

  void redefinition(const std::string &name, SourceLoc loc, const Symbol &previous) {
    diags_.error(loc, "'" + name + "' is already defined");
    diags_.note(previous.loc, "previous definition of '" + name + "' (a " +
                                  describe(previous.kind) + ") is here");
  }

  void declareGlobal(const std::string &name, NameKind kind, SourceLoc loc) {
    if (findBuiltin(name)) {
      diags_.error(loc, "'" + name + "' is the name of a built-in op");
      return;
    }
    auto [it, inserted] = globals_.emplace(name, Symbol{kind, loc});
    if (!inserted)
      redefinition(name, loc, it->second);
  }

  void declareLocal(const Binding &b, NameKind kind) {
    if (findBuiltin(b.name)) {
      diags_.error(b.loc, "'" + b.name + "' is the name of a built-in op");
      return;
    }
    if (const Symbol *prev = lookup(b.name)) {
      redefinition(b.name, b.loc, *prev);
      return;
    }
    scopes_.back().emplace(b.name, Symbol{kind, b.loc});
  }

  void declareGlobals() {
    for (const ConstDecl &c : m_.consts)
      declareGlobal(c.name.name, NameKind::Const, c.name.loc);
    for (const StmtPtr &s : m_.globals) {
      if (s->kind == StmtKind::Input) {
        auto &in = static_cast<const InputStmt &>(*s);
        declareGlobal(in.name.name, NameKind::Input, in.name.loc);
      } else if (s->kind == StmtKind::Let) {
        for (const Binding &b : static_cast<const LetStmt &>(*s).names)
          declareGlobal(b.name, NameKind::Global, b.loc);
      }
    }
    for (const FnDecl &f : m_.functions)
      declareGlobal(f.name.name, NameKind::Function, f.name.loc);
  }

  //===--------------------------------------------------------------------===//
  // Declarations
  //===--------------------------------------------------------------------===//

  /// A constant's value may use earlier constants only.
  void checkConstExpr(const ConstDecl &c) {
    auto before = [](SourceLoc a, SourceLoc b) {
      return a.line < b.line || (a.line == b.line && a.col < b.col);
    };
    visitNames(*c.value, [&](const std::string &name, SourceLoc loc) {
      auto it = globals_.find(name);
      if (it == globals_.end() || it->second.kind != NameKind::Const)
        diags_.error(loc, "'" + name + "' is not a constant; the value of constant '" +
                              c.name.name + "' can use only constants");
      else if (!before(it->second.loc, c.name.loc))
        diags_.error(loc, "constant '" + name + "' is used before its definition");
    });
    checkCalls(*c.value, Context::Global, /*constOnly=*/true);
  }

  void checkPresets() {
    std::set<std::string> names;
    for (const PresetDecl &p : m_.presets) {
      if (!names.insert(p.name.name).second)
        diags_.error(p.name.loc, "duplicate preset '" + p.name.name + "'");
      std::set<std::string> keys;
      for (const auto &s : p.settings) {
        auto it = globals_.find(s.name.name);
        if (it == globals_.end() || it->second.kind != NameKind::Const)
          diags_.error(s.name.loc, "preset '" + p.name.name + "' sets '" + s.name.name +
                                       "', which is not a constant of the model");
        if (!keys.insert(s.name.name).second)
          diags_.error(s.name.loc, "preset '" + p.name.name + "' sets '" + s.name.name + "' twice");
        visitNames(*s.value, [&](const std::string &name, SourceLoc loc) {
          auto c = globals_.find(name);
          if (c == globals_.end() || c->second.kind != NameKind::Const)
            diags_.error(loc, "'" + name +
                                  "' is not a constant; preset values can use only "
                                  "constants");
        });
        checkCalls(*s.value, Context::Global, /*constOnly=*/true);
      }
    }
  }

  void checkGlobal(const Stmt &s) {
    currentFunction_.clear();
    scopes_.assign(1, {});
    switch (s.kind) {
    case StmtKind::Input:
      checkType(static_cast<const InputStmt &>(s).type);
      break;
    case StmtKind::Let:
      checkExpr(*static_cast<const LetStmt &>(s).value);
      break;
    case StmtKind::Check:
      checkExpr(*static_cast<const CheckStmt &>(s).cond);
      break;
    default:
      break;
    }
    scopes_.clear();
  }

  void checkFunction(const FnDecl &f) {
    currentFunction_ = f.name.name;
    scopes_.assign(1, {});
    for (const Binding &p : f.params)
      declareLocal(p, NameKind::Param);
    checkBlock(f.body, Context::Function, /*inLoop=*/false);
    if (f.body.empty() || f.body.back()->kind != StmtKind::Return)
      diags_.error(f.name.loc, "function '" + f.name.name + "' must end with 'return'");
    scopes_.clear();
    currentFunction_.clear();
  }

  void checkTask(const TaskDecl &t) {
    currentFunction_ = "task " + t.name.name;
    scopes_.assign(1, {});
    outputs_.clear();
    const MinimizeStmt *minimize = nullptr;
    checkBlock(t.body, Context::Task, /*inLoop=*/false);
    for (const StmtPtr &s : t.body) {
      if (s->kind != StmtKind::Minimize)
        continue;
      auto *m = static_cast<const MinimizeStmt *>(s.get());
      if (minimize)
        diags_.error(m->loc,
                     "task '" + t.name.name + "' already minimizes '" + minimize->name.name + "'");
      minimize = m;
      if (!outputs_.count(m->name.name))
        diags_.error(m->name.loc, "'minimize " + m->name.name + "': no output named '" +
                                      m->name.name + "' in task '" + t.name.name + "'");
    }
    scopes_.clear();
    currentFunction_.clear();
  }

  //===--------------------------------------------------------------------===//
  // Statements
  //===--------------------------------------------------------------------===//

  void checkBlock(const Block &block, Context ctx, bool inLoop) {
    for (size_t i = 0; i < block.size(); ++i) {
      const Stmt &s = *block[i];
      switch (s.kind) {
      case StmtKind::Let: {
        auto &l = static_cast<const LetStmt &>(s);
        checkExpr(*l.value);
        for (const Binding &b : l.names)
          declareLocal(b, NameKind::Local);
        break;
      }
      case StmtKind::Assign: {
        auto &a = static_cast<const AssignStmt &>(s);
        checkExpr(*a.value);
        const Symbol *sym = lookup(a.target.name);
        if (!sym)
          diags_.error(a.target.loc, "assignment to unknown name '" + a.target.name +
                                         "' (use 'let' to define it)");
        else if (sym->kind != NameKind::Local && sym->kind != NameKind::Param)
          diags_.error(a.target.loc, std::string("cannot assign to ") + describe(sym->kind) + " '" +
                                         a.target.name + "'");
        break;
      }
      case StmtKind::Return: {
        if (ctx != Context::Function)
          diags_.error(s.loc, "'return' outside of a function");
        else if (inLoop || i + 1 != block.size())
          diags_.error(s.loc, "'return' must be the last statement of a function");
        for (const ExprPtr &e : static_cast<const ReturnStmt &>(s).values)
          checkExpr(*e);
        break;
      }
      case StmtKind::For: {
        auto &f = static_cast<const ForStmt &>(s);
        checkExpr(*f.lo);
        checkExpr(*f.hi);
        scopes_.emplace_back();
        declareLocal(f.var, NameKind::LoopVar);
        checkBlock(f.body, ctx, /*inLoop=*/true);
        scopes_.pop_back();
        break;
      }
      case StmtKind::Output: {
        auto &o = static_cast<const OutputStmt &>(s);
        if (ctx != Context::Task || inLoop) {
          diags_.error(s.loc, "'output' is allowed only at the top level of a task");
          break;
        }
        checkExpr(*o.value);
        // An output is also a value of the task, usable below it.
        declareLocal(o.name, NameKind::Local);
        auto [it, inserted] = outputs_.emplace(o.name.name, o.name.loc);
        if (!inserted) {
          diags_.error(o.name.loc, "duplicate output '" + o.name.name + "'");
          diags_.note(it->second, "previous output '" + o.name.name + "' is here");
        }
        break;
      }
      case StmtKind::Minimize:
        if (ctx != Context::Task || inLoop)
          diags_.error(s.loc, "'minimize' is allowed only at the top level of a task");
        break;
      case StmtKind::Check:
        checkExpr(*static_cast<const CheckStmt &>(s).cond);
        break;
      case StmtKind::Input: {
        auto &in = static_cast<const InputStmt &>(s);
        if (ctx != Context::Task || inLoop) {
          diags_.error(s.loc, "'input' is allowed only at the top level of the model or a task");
          break;
        }
        checkType(in.type);
        declareLocal(in.name, NameKind::Input);
        break;
      }
      }
    }
  }

  void checkType(const TypeExpr &t) {
    if (t.dtype != "f32" && t.dtype != "f64" && t.dtype != "i32")
      diags_.error(t.loc, "unknown element type '" + t.dtype + "' (expected f32, f64 or i32)");
    for (const ExprPtr &d : t.dims)
      checkExpr(*d);
  }

  //===--------------------------------------------------------------------===//
  // Expressions
  //===--------------------------------------------------------------------===//

  static void visitNames(const Expr &e,
                         const std::function<void(const std::string &, SourceLoc)> &fn) {
    switch (e.kind) {
    case ExprKind::Name:
      fn(static_cast<const NameExpr &>(e).name, e.loc);
      return;
    case ExprKind::String:
      for (const auto &p : static_cast<const StringExpr &>(e).parts)
        if (p.isName)
          fn(p.text, p.loc);
      return;
    case ExprKind::List:
      for (const ExprPtr &x : static_cast<const ListExpr &>(e).elements)
        visitNames(*x, fn);
      return;
    case ExprKind::Unary:
      visitNames(*static_cast<const UnaryExpr &>(e).operand, fn);
      return;
    case ExprKind::Binary:
      visitNames(*static_cast<const BinaryExpr &>(e).lhs, fn);
      visitNames(*static_cast<const BinaryExpr &>(e).rhs, fn);
      return;
    case ExprKind::Call:
      for (const Arg &a : static_cast<const CallExpr &>(e).args)
        visitNames(*a.value, fn);
      return;
    case ExprKind::Param: {
      auto &p = static_cast<const ParamExpr &>(e);
      for (const ExprPtr &d : p.type.dims)
        visitNames(*d, fn);
      for (const ExprPtr &x : p.initArgs)
        visitNames(*x, fn);
      visitNames(*p.name, fn);
      return;
    }
    default:
      return;
    }
  }

  /// Checks every call in `e` (and, unless constOnly, in nested parameters).
  void checkCalls(const Expr &e, Context ctx, bool constOnly) {
    switch (e.kind) {
    case ExprKind::List:
      for (const ExprPtr &x : static_cast<const ListExpr &>(e).elements)
        checkCalls(*x, ctx, constOnly);
      return;
    case ExprKind::Unary:
      checkCalls(*static_cast<const UnaryExpr &>(e).operand, ctx, constOnly);
      return;
    case ExprKind::Binary:
      checkCalls(*static_cast<const BinaryExpr &>(e).lhs, ctx, constOnly);
      checkCalls(*static_cast<const BinaryExpr &>(e).rhs, ctx, constOnly);
      return;
    case ExprKind::Call:
      checkCall(static_cast<const CallExpr &>(e), constOnly);
      return;
    case ExprKind::Param:
      if (constOnly) {
        diags_.error(e.loc, "a parameter cannot be part of a constant");
        return;
      }
      checkParam(static_cast<const ParamExpr &>(e));
      return;
    default:
      return;
    }
  }

  void checkCall(const CallExpr &c, bool constOnly) {
    for (const Arg &a : c.args)
      checkCalls(*a.value, Context::Function, constOnly);
    const BuiltinSignature *builtin = findBuiltin(c.callee);
    if (constOnly && !(builtin && builtin->scalar)) {
      diags_.error(c.loc, "call to '" + c.callee + "' in a constant; constants are numbers");
      return;
    }
    std::vector<std::string> paramNames;
    std::vector<bool> required;
    if (builtin) {
      for (const BuiltinParam &p : builtin->params) {
        paramNames.push_back(p.name);
        required.push_back(p.required);
      }
    } else if (const FnDecl *f = m_.findFunction(c.callee)) {
      for (const Binding &p : f->params) {
        paramNames.push_back(p.name);
        required.push_back(true);
      }
      if (!currentFunction_.empty())
        calls_[currentFunction_].push_back({f->name.name, c.loc});
    } else {
      const Symbol *sym = lookup(c.callee);
      if (sym)
        diags_.error(c.loc, "'" + c.callee + "' is a " + describe(sym->kind) + ", not a function");
      else
        diags_.error(c.loc, "unknown function '" + c.callee + "'");
      return;
    }
    std::vector<bool> given(paramNames.size(), false);
    size_t positional = 0;
    bool sawKeyword = false;
    for (const Arg &a : c.args) {
      if (a.keyword.empty()) {
        if (sawKeyword) {
          diags_.error(a.loc, "positional argument after a keyword argument in call to '" +
                                  c.callee + "'");
          return;
        }
        if (positional >= paramNames.size()) {
          diags_.error(a.loc, "too many arguments to '" + c.callee + "': it takes " +
                                  std::to_string(paramNames.size()));
          return;
        }
        given[positional++] = true;
        continue;
      }
      sawKeyword = true;
      size_t i = 0;
      while (i < paramNames.size() && paramNames[i] != a.keyword)
        ++i;
      if (i == paramNames.size()) {
        diags_.error(a.loc, "'" + c.callee + "' has no parameter named '" + a.keyword + "'");
        return;
      }
      if (given[i]) {
        diags_.error(a.loc, "argument '" + a.keyword + "' of '" + c.callee + "' is given twice");
        return;
      }
      given[i] = true;
    }
    for (size_t i = 0; i < paramNames.size(); ++i)
      if (required[i] && !given[i]) {
        size_t count = 0;
        for (bool r : required)
          count += r;
        diags_.error(c.loc, "missing argument '" + paramNames[i] + "' in call to '" + c.callee +
                                "' (it needs " + std::to_string(count) +
                                (count == 1 ? " argument)" : " arguments)"));
        return;
      }
  }

  void checkParam(const ParamExpr &p) {
    checkType(p.type);
    if (p.type.dtype == "i32")
      diags_.error(p.type.loc, "parameters must have a floating-point element type");
    size_t expected = p.init == "normal" ? 1 : 0;
    if (p.init != "normal" && p.init != "zeros" && p.init != "ones")
      diags_.error(p.initLoc,
                   "unknown initializer '" + p.init + "' (expected normal(std), zeros or ones)");
    else if (p.initArgs.size() != expected)
      diags_.error(p.initLoc, "initializer '" + p.init + "' takes " + std::to_string(expected) +
                                  (expected == 1 ? " argument" : " arguments") + ", got " +
                                  std::to_string(p.initArgs.size()));
  }

  void checkExpr(const Expr &e) {
    visitNames(e, [&](const std::string &name, SourceLoc loc) {
      const Symbol *sym = lookup(name);
      if (!sym)
        diags_.error(loc, "unknown name '" + name + "'");
      else if (sym->kind == NameKind::Function)
        diags_.error(loc, "'" + name + "' is a function; call it with arguments");
    });
    checkCalls(e, Context::Function, /*constOnly=*/false);
  }

  //===--------------------------------------------------------------------===//
  // Recursion
  //===--------------------------------------------------------------------===//

  struct CallEdge {
    std::string callee;
    SourceLoc loc;
  };

  void checkRecursion() {
    // Depth-first search over functions; a back edge is a recursive call.
    std::map<std::string, int> state; // 0 new, 1 on stack, 2 done
    std::vector<std::string> stack;
    std::set<std::string> reported;
    std::function<void(const std::string &)> visit = [&](const std::string &fn) {
      state[fn] = 1;
      stack.push_back(fn);
      for (const CallEdge &edge : calls_[fn]) {
        int s = state[edge.callee];
        if (s == 1) {
          std::string cycle;
          bool on = false;
          for (const std::string &f : stack) {
            on = on || f == edge.callee;
            if (on)
              cycle += f + " -> ";
          }
          cycle += edge.callee;
          if (reported.insert(edge.callee).second)
            diags_.error(edge.loc, "recursive call: " + cycle +
                                       " (functions are inlined, so recursion is not allowed)");
        } else if (s == 0) {
          visit(edge.callee);
        }
      }
      stack.pop_back();
      state[fn] = 2;
    };
    for (const FnDecl &f : m_.functions)
      if (state[f.name.name] == 0)
        visit(f.name.name);
  }

  const Module &m_;
  Diagnostics &diags_;
  unsigned errorsBefore_ = diags_.errorCount();
  std::unordered_map<std::string, Symbol> globals_;
  std::vector<std::unordered_map<std::string, Symbol>> scopes_;
  std::map<std::string, SourceLoc> outputs_;
  std::string currentFunction_;
  std::map<std::string, std::vector<CallEdge>> calls_;
};

} // namespace

bool checkModule(const Module &module, Diagnostics &diags) { return Checker(module, diags).run(); }

} // namespace bertc::frontend
