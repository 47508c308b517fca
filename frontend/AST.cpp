//===- AST.cpp - Syntax tree of the bertc model language ------------------===//
#include "frontend/AST.h"

#include <iomanip>
#include <sstream>

namespace bertc::frontend {

const char *binaryOpSpelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::Mod:
    return "%";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::And:
    return "and";
  case BinaryOp::Or:
    return "or";
  }
  return "?";
}

template <typename T>
static const T *findByName(const std::vector<T> &items, const std::string &name) {
  for (const T &item : items)
    if (item.name.name == name)
      return &item;
  return nullptr;
}

const FnDecl *Module::findFunction(const std::string &name) const {
  return findByName(functions, name);
}
const TaskDecl *Module::findTask(const std::string &name) const { return findByName(tasks, name); }
const PresetDecl *Module::findPreset(const std::string &name) const {
  return findByName(presets, name);
}

namespace {

/// Prints one node a line, indented by depth, with its location.
class Dumper {
public:
  explicit Dumper(std::ostream &os) : os_(os) {}

  void module(const Module &m) {
    line(m.model.loc) << "Module " << (m.model.name.empty() ? "<unnamed>" : m.model.name) << "\n";
    Indent in(*this);
    for (const ConstDecl &c : m.consts) {
      line(c.name.loc) << (c.isDim ? "Dim " : "Const ") << c.name.name << "\n";
      Indent in2(*this);
      expr(*c.value);
    }
    for (const PresetDecl &p : m.presets) {
      line(p.name.loc) << "Preset " << p.name.name << "\n";
      Indent in2(*this);
      for (const auto &s : p.settings) {
        line(s.name.loc) << "Set " << s.name.name << "\n";
        Indent in3(*this);
        expr(*s.value);
      }
    }
    block(m.globals);
    for (const FnDecl &f : m.functions) {
      line(f.name.loc) << "Function " << f.name.name << "(";
      for (size_t i = 0; i < f.params.size(); ++i)
        os_ << (i ? ", " : "") << f.params[i].name;
      os_ << ")\n";
      Indent in2(*this);
      block(f.body);
    }
    for (const TaskDecl &t : m.tasks) {
      line(t.name.loc) << "Task " << t.name.name << "\n";
      Indent in2(*this);
      block(t.body);
    }
  }

private:
  struct Indent {
    Dumper &d;
    explicit Indent(Dumper &d) : d(d) { ++d.depth_; }
    ~Indent() { --d.depth_; }
  };

  std::ostream &line(SourceLoc loc) {
    for (unsigned i = 0; i < depth_; ++i)
      os_ << "  ";
    os_ << "@" << loc.line << ":" << loc.col << " ";
    return os_;
  }

  void type(const TypeExpr &t) {
    line(t.loc) << "Type " << t.dtype << "\n";
    Indent in(*this);
    for (const ExprPtr &d : t.dims)
      expr(*d);
  }

  void block(const Block &b) {
    for (const StmtPtr &s : b)
      stmt(*s);
  }

  void stmt(const Stmt &s) {
    switch (s.kind) {
    case StmtKind::Let: {
      auto &l = static_cast<const LetStmt &>(s);
      line(s.loc) << "Let";
      for (const Binding &b : l.names)
        os_ << " " << b.name;
      os_ << "\n";
      Indent in(*this);
      expr(*l.value);
      return;
    }
    case StmtKind::Assign: {
      auto &a = static_cast<const AssignStmt &>(s);
      line(s.loc) << "Assign " << a.target.name << "\n";
      Indent in(*this);
      expr(*a.value);
      return;
    }
    case StmtKind::Return: {
      line(s.loc) << "Return\n";
      Indent in(*this);
      for (const ExprPtr &e : static_cast<const ReturnStmt &>(s).values)
        expr(*e);
      return;
    }
    case StmtKind::For: {
      auto &f = static_cast<const ForStmt &>(s);
      line(s.loc) << "For " << f.var.name << "\n";
      Indent in(*this);
      expr(*f.lo);
      expr(*f.hi);
      block(f.body);
      return;
    }
    case StmtKind::Output: {
      auto &o = static_cast<const OutputStmt &>(s);
      line(s.loc) << "Output " << o.name.name << "\n";
      Indent in(*this);
      expr(*o.value);
      return;
    }
    case StmtKind::Minimize:
      line(s.loc) << "Minimize " << static_cast<const MinimizeStmt &>(s).name.name << "\n";
      return;
    case StmtKind::Check: {
      auto &c = static_cast<const CheckStmt &>(s);
      line(s.loc) << "Check \"" << c.message << "\"\n";
      Indent in(*this);
      expr(*c.cond);
      return;
    }
    case StmtKind::Input: {
      auto &i = static_cast<const InputStmt &>(s);
      line(s.loc) << "Input " << i.name.name << "\n";
      Indent in(*this);
      type(i.type);
      return;
    }
    }
  }

  void expr(const Expr &e) {
    switch (e.kind) {
    case ExprKind::Int:
      line(e.loc) << "Int " << static_cast<const IntExpr &>(e).value << "\n";
      return;
    case ExprKind::Float: {
      std::ostringstream ss;
      ss << std::setprecision(17) << static_cast<const FloatExpr &>(e).value;
      line(e.loc) << "Float " << ss.str() << "\n";
      return;
    }
    case ExprKind::Bool:
      line(e.loc) << "Bool " << (static_cast<const BoolExpr &>(e).value ? "true" : "false") << "\n";
      return;
    case ExprKind::String: {
      line(e.loc) << "String \"";
      for (const auto &p : static_cast<const StringExpr &>(e).parts)
        os_ << (p.isName ? "{" + p.text + "}" : p.text);
      os_ << "\"\n";
      return;
    }
    case ExprKind::Name:
      line(e.loc) << "Name " << static_cast<const NameExpr &>(e).name << "\n";
      return;
    case ExprKind::List: {
      line(e.loc) << "List\n";
      Indent in(*this);
      for (const ExprPtr &x : static_cast<const ListExpr &>(e).elements)
        expr(*x);
      return;
    }
    case ExprKind::Unary: {
      auto &u = static_cast<const UnaryExpr &>(e);
      line(e.loc) << "Unary " << (u.op == UnaryOp::Neg ? "-" : "not") << "\n";
      Indent in(*this);
      expr(*u.operand);
      return;
    }
    case ExprKind::Binary: {
      auto &b = static_cast<const BinaryExpr &>(e);
      line(e.loc) << "Binary " << binaryOpSpelling(b.op) << "\n";
      Indent in(*this);
      expr(*b.lhs);
      expr(*b.rhs);
      return;
    }
    case ExprKind::Call: {
      auto &c = static_cast<const CallExpr &>(e);
      line(e.loc) << "Call " << c.callee << "\n";
      Indent in(*this);
      for (const Arg &a : c.args) {
        if (!a.keyword.empty()) {
          line(a.loc) << "Keyword " << a.keyword << "\n";
          Indent in2(*this);
          expr(*a.value);
        } else {
          expr(*a.value);
        }
      }
      return;
    }
    case ExprKind::Param: {
      auto &p = static_cast<const ParamExpr &>(e);
      line(e.loc) << "Param\n";
      Indent in(*this);
      type(p.type);
      line(p.initLoc) << "Init " << p.init << "\n";
      {
        Indent in2(*this);
        for (const ExprPtr &x : p.initArgs)
          expr(*x);
      }
      expr(*p.name);
      return;
    }
    }
  }

  std::ostream &os_;
  unsigned depth_ = 0;
};

} // namespace

void dumpAST(const Module &module, std::ostream &os) { Dumper(os).module(module); }

} // namespace bertc::frontend
