//===- Parser.cpp - Recursive-descent parser for model files --------------===//
#include "frontend/Parser.h"

#include <cctype>

namespace bertc::frontend {

namespace {
constexpr unsigned kMaxDepth = 200;

/// Bounds recursion depth while alive.
struct DepthGuard {
  unsigned &depth;
  explicit DepthGuard(unsigned &d) : depth(d) { ++depth; }
  ~DepthGuard() { --depth; }
};
} // namespace

std::unique_ptr<Module> parseModelFile(const SourceFile &file, Diagnostics &diags) {
  Parser parser(file, diags);
  return parser.parseModule();
}

bool Parser::fail(SourceLoc loc, const std::string &message) {
  // Only the first error is reported: later ones are usually its echo.
  if (!failed_ && diags_.errorCount() == 0)
    diags_.error(loc, message);
  failed_ = true;
  return false;
}

bool Parser::expect(Tok kind, const char *context) {
  if (consume(kind))
    return true;
  std::string found = tok_.kind == Tok::Ident ? "'" + tok_.text + "'" : tokName(tok_.kind);
  return fail(tok_.loc,
              std::string("expected ") + tokName(kind) + " " + context + ", found " + found);
}

bool Parser::expectIdent(Binding &out, const char *context) {
  if (!at(Tok::Ident)) {
    std::string found = tokName(tok_.kind);
    return fail(tok_.loc, std::string("expected a name ") + context + ", found " + found);
  }
  out.name = tok_.text;
  out.loc = tok_.loc;
  advance();
  return true;
}

std::unique_ptr<Module> Parser::parseModule() {
  auto m = std::make_unique<Module>();
  while (!at(Tok::Eof) && !failed_) {
    bool ok = true;
    switch (tok_.kind) {
    case Tok::KwModel:
      if (!m->model.name.empty()) {
        ok = fail(tok_.loc, "the model is already named '" + m->model.name + "'");
        break;
      }
      advance();
      ok = expectIdent(m->model, "after 'model'");
      break;
    case Tok::KwConst:
      ok = parseConst(*m, /*isDim=*/false);
      break;
    case Tok::KwDim:
      ok = parseConst(*m, /*isDim=*/true);
      break;
    case Tok::KwPreset:
      ok = parsePreset(*m);
      break;
    case Tok::KwFn:
      ok = parseFunction(*m);
      break;
    case Tok::KwTask:
      ok = parseTask(*m);
      break;
    case Tok::KwInput:
    case Tok::KwLet:
    case Tok::KwCheck: {
      StmtPtr s = parseStatement();
      ok = s != nullptr;
      if (ok)
        m->globals.push_back(std::move(s));
      break;
    }
    case Tok::Error:
      ok = fail(tok_.loc, "");
      break;
    default:
      ok = fail(tok_.loc, std::string("expected a declaration (model, const, dim, preset, "
                                      "input, let, check, fn or task), found ") +
                              (tok_.kind == Tok::Ident ? "'" + tok_.text + "'"
                                                       : std::string(tokName(tok_.kind))));
    }
    if (!ok)
      return nullptr;
  }
  if (failed_)
    return nullptr;
  return m;
}

bool Parser::parseConst(Module &m, bool isDim) {
  advance(); // const / dim
  ConstDecl c;
  c.isDim = isDim;
  if (!expectIdent(c.name, isDim ? "after 'dim'" : "after 'const'") ||
      !expect(Tok::Assign, "after the constant's name"))
    return false;
  c.value = parseExpr();
  if (!c.value)
    return false;
  m.consts.push_back(std::move(c));
  return true;
}

bool Parser::parsePreset(Module &m) {
  SourceLoc open;
  advance();
  PresetDecl p;
  if (!expectIdent(p.name, "after 'preset'"))
    return false;
  open = tok_.loc;
  if (!expect(Tok::LBrace, "to open the preset"))
    return false;
  while (!at(Tok::RBrace)) {
    if (at(Tok::Eof))
      return fail(open, "unterminated preset: missing '}'");
    PresetDecl::Setting s;
    if (!expectIdent(s.name, "in the preset") || !expect(Tok::Assign, "after the constant's name"))
      return false;
    s.value = parseExpr();
    if (!s.value)
      return false;
    p.settings.push_back(std::move(s));
    if (!consume(Tok::Comma) && !at(Tok::RBrace))
      return expect(Tok::RBrace, "or ',' in the preset");
  }
  advance();
  m.presets.push_back(std::move(p));
  return true;
}

bool Parser::parseFunction(Module &m) {
  advance();
  FnDecl f;
  if (!expectIdent(f.name, "after 'fn'"))
    return false;
  SourceLoc open = tok_.loc;
  if (!expect(Tok::LParen, "after the function's name"))
    return false;
  while (!at(Tok::RParen)) {
    if (at(Tok::Eof))
      return fail(open, "unterminated parameter list: missing ')'");
    Binding b;
    if (!expectIdent(b, "for a function parameter"))
      return false;
    f.params.push_back(b);
    if (!consume(Tok::Comma) && !at(Tok::RParen))
      return expect(Tok::RParen, "or ',' in the parameter list");
  }
  advance();
  if (!parseBlock(f.body, "function body"))
    return false;
  m.functions.push_back(std::move(f));
  return true;
}

bool Parser::parseTask(Module &m) {
  advance();
  TaskDecl t;
  if (!expectIdent(t.name, "after 'task'") || !parseBlock(t.body, "task body"))
    return false;
  m.tasks.push_back(std::move(t));
  return true;
}

bool Parser::parseBlock(Block &out, const char *context) {
  SourceLoc open = tok_.loc;
  if (!expect(Tok::LBrace, (std::string("to open the ") + context).c_str()))
    return false;
  DepthGuard guard(depth_);
  if (depth_ > kMaxDepth)
    return fail(open, "blocks nested too deeply");
  while (!at(Tok::RBrace)) {
    if (at(Tok::Eof))
      return fail(open, std::string("unterminated ") + context + ": missing '}'");
    StmtPtr s = parseStatement();
    if (!s)
      return false;
    out.push_back(std::move(s));
  }
  advance();
  return true;
}

StmtPtr Parser::parseStatement() {
  SourceLoc loc = tok_.loc;
  switch (tok_.kind) {
  case Tok::KwLet: {
    advance();
    auto s = std::make_unique<LetStmt>(loc);
    do {
      Binding b;
      if (!expectIdent(b, "after 'let'"))
        return nullptr;
      s->names.push_back(b);
    } while (consume(Tok::Comma));
    if (!expect(Tok::Assign, "after the names bound by 'let'"))
      return nullptr;
    if (!(s->value = parseExpr()))
      return nullptr;
    return s;
  }
  case Tok::KwReturn: {
    advance();
    auto s = std::make_unique<ReturnStmt>(loc);
    do {
      ExprPtr e = parseExpr();
      if (!e)
        return nullptr;
      s->values.push_back(std::move(e));
    } while (consume(Tok::Comma));
    return s;
  }
  case Tok::KwFor: {
    advance();
    auto s = std::make_unique<ForStmt>(loc);
    if (!expectIdent(s->var, "after 'for'") || !expect(Tok::KwIn, "after the loop variable"))
      return nullptr;
    if (!(s->lo = parseAdditive()) || !expect(Tok::DotDot, "in the loop range 'lo..hi'") ||
        !(s->hi = parseAdditive()))
      return nullptr;
    if (!parseBlock(s->body, "loop body"))
      return nullptr;
    return s;
  }
  case Tok::KwOutput: {
    advance();
    auto s = std::make_unique<OutputStmt>(loc);
    if (!expectIdent(s->name, "after 'output'") || !expect(Tok::Assign, "after the output's name"))
      return nullptr;
    if (!(s->value = parseExpr()))
      return nullptr;
    return s;
  }
  case Tok::KwMinimize: {
    advance();
    auto s = std::make_unique<MinimizeStmt>(loc);
    if (!expectIdent(s->name, "after 'minimize'"))
      return nullptr;
    return s;
  }
  case Tok::KwCheck:
    return parseCheck();
  case Tok::KwInput:
    return parseInput();
  case Tok::Ident: {
    Binding target{tok_.text, tok_.loc};
    advance();
    if (!at(Tok::Assign)) {
      fail(tok_.loc, "expected '=' after '" + target.name +
                         "' (a statement is let, assignment, return, for, output, "
                         "minimize, check or input)");
      return nullptr;
    }
    advance();
    auto s = std::make_unique<AssignStmt>(loc);
    s->target = target;
    if (!(s->value = parseExpr()))
      return nullptr;
    return s;
  }
  default:
    fail(loc, std::string("expected a statement, found ") + tokName(tok_.kind));
    return nullptr;
  }
}

StmtPtr Parser::parseInput() {
  auto s = std::make_unique<InputStmt>(tok_.loc);
  advance();
  if (!expectIdent(s->name, "after 'input'") || !expect(Tok::Colon, "after the input's name") ||
      !parseType(s->type))
    return nullptr;
  return s;
}

StmtPtr Parser::parseCheck() {
  auto s = std::make_unique<CheckStmt>(tok_.loc);
  advance();
  if (!(s->cond = parseExpr()) || !expect(Tok::Comma, "after the checked condition"))
    return nullptr;
  if (!at(Tok::String)) {
    fail(tok_.loc, "expected a message string after 'check COND,'");
    return nullptr;
  }
  s->message = tok_.text;
  advance();
  return s;
}

bool Parser::parseType(TypeExpr &out) {
  out.loc = tok_.loc;
  if (!at(Tok::Ident))
    return fail(tok_.loc, std::string("expected an element type (f32, f64 or i32), found ") +
                              tokName(tok_.kind));
  out.dtype = tok_.text;
  advance();
  SourceLoc open = tok_.loc;
  if (!expect(Tok::LBracket, "after the element type"))
    return false;
  while (!at(Tok::RBracket)) {
    if (at(Tok::Eof))
      return fail(open, "unterminated shape: missing ']'");
    ExprPtr d = parseExpr();
    if (!d)
      return false;
    out.dims.push_back(std::move(d));
    if (at(Tok::Eof))
      return fail(open, "unterminated shape: missing ']'");
    if (!consume(Tok::Comma) && !at(Tok::RBracket))
      return expect(Tok::RBracket, "or ',' in the shape");
  }
  advance();
  return true;
}

//===----------------------------------------------------------------------===//
// Expressions, lowest precedence first.
//===----------------------------------------------------------------------===//

ExprPtr Parser::parseExpr() {
  DepthGuard guard(depth_);
  if (depth_ > kMaxDepth) {
    fail(tok_.loc, "expression nested too deeply");
    return nullptr;
  }
  return parseOr();
}

ExprPtr Parser::parseLeftAssociative(ExprPtr (Parser::*operand)(),
                                     std::initializer_list<std::pair<Tok, BinaryOp>> ops) {
  ExprPtr lhs = (this->*operand)();
  while (lhs) {
    const std::pair<Tok, BinaryOp> *match = nullptr;
    for (const auto &op : ops)
      if (at(op.first))
        match = &op;
    if (!match)
      break;
    SourceLoc loc = tok_.loc;
    advance();
    ExprPtr rhs = (this->*operand)();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, match->second, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parsePrefix(Tok prefix, UnaryOp op, ExprPtr (Parser::*operand)()) {
  if (!at(prefix))
    return (this->*operand)();
  SourceLoc loc = tok_.loc;
  advance();
  DepthGuard guard(depth_);
  if (depth_ > kMaxDepth) {
    fail(loc, "expression nested too deeply");
    return nullptr;
  }
  ExprPtr e = parsePrefix(prefix, op, operand);
  if (!e)
    return nullptr;
  return std::make_unique<UnaryExpr>(loc, op, std::move(e));
}

ExprPtr Parser::parseOr() {
  return parseLeftAssociative(&Parser::parseAnd, {{Tok::KwOr, BinaryOp::Or}});
}

ExprPtr Parser::parseAnd() {
  return parseLeftAssociative(&Parser::parseNot, {{Tok::KwAnd, BinaryOp::And}});
}

ExprPtr Parser::parseNot() {
  return parsePrefix(Tok::KwNot, UnaryOp::Not, &Parser::parseComparison);
}

ExprPtr Parser::parseComparison() {
  ExprPtr lhs = parseAdditive();
  if (!lhs)
    return nullptr;
  BinaryOp op;
  switch (tok_.kind) {
  case Tok::Eq:
    op = BinaryOp::Eq;
    break;
  case Tok::Ne:
    op = BinaryOp::Ne;
    break;
  case Tok::Lt:
    op = BinaryOp::Lt;
    break;
  case Tok::Le:
    op = BinaryOp::Le;
    break;
  case Tok::Gt:
    op = BinaryOp::Gt;
    break;
  case Tok::Ge:
    op = BinaryOp::Ge;
    break;
  default:
    return lhs;
  }
  SourceLoc loc = tok_.loc;
  advance();
  ExprPtr rhs = parseAdditive();
  if (!rhs)
    return nullptr;
  return std::make_unique<BinaryExpr>(loc, op, std::move(lhs), std::move(rhs));
}

ExprPtr Parser::parseAdditive() {
  return parseLeftAssociative(&Parser::parseMultiplicative,
                              {{Tok::Plus, BinaryOp::Add}, {Tok::Minus, BinaryOp::Sub}});
}

ExprPtr Parser::parseMultiplicative() {
  return parseLeftAssociative(
      &Parser::parseUnary,
      {{Tok::Star, BinaryOp::Mul}, {Tok::Slash, BinaryOp::Div}, {Tok::Percent, BinaryOp::Mod}});
}

ExprPtr Parser::parseUnary() {
  return parsePrefix(Tok::Minus, UnaryOp::Neg, &Parser::parsePrimary);
}

ExprPtr Parser::parsePrimary() {
  Token t = tok_;
  switch (t.kind) {
  case Tok::Int:
    advance();
    return std::make_unique<IntExpr>(t.loc, t.intValue);
  case Tok::Float:
    advance();
    return std::make_unique<FloatExpr>(t.loc, t.floatValue);
  case Tok::KwTrue:
  case Tok::KwFalse:
    advance();
    return std::make_unique<BoolExpr>(t.loc, t.kind == Tok::KwTrue);
  case Tok::String:
    return parseString();
  case Tok::KwParam:
    return parseParam();
  case Tok::Ident:
    advance();
    if (at(Tok::LParen))
      return parseCall(t);
    return std::make_unique<NameExpr>(t.loc, t.text);
  case Tok::LParen: {
    advance();
    ExprPtr e = parseExpr();
    if (!e)
      return nullptr;
    if (!at(Tok::RParen)) {
      if (at(Tok::Eof))
        fail(t.loc, "unterminated parenthesis: missing ')'");
      else
        expect(Tok::RParen, "to close the parenthesis");
      return nullptr;
    }
    advance();
    return e;
  }
  case Tok::LBracket: {
    advance();
    auto list = std::make_unique<ListExpr>(t.loc);
    while (!at(Tok::RBracket)) {
      if (at(Tok::Eof)) {
        fail(t.loc, "unterminated list: missing ']'");
        return nullptr;
      }
      ExprPtr e = parseExpr();
      if (!e)
        return nullptr;
      list->elements.push_back(std::move(e));
      if (at(Tok::Eof)) {
        fail(t.loc, "unterminated list: missing ']'");
        return nullptr;
      }
      if (!consume(Tok::Comma) && !at(Tok::RBracket)) {
        expect(Tok::RBracket, "or ',' in the list");
        return nullptr;
      }
    }
    advance();
    return list;
  }
  default:
    fail(t.loc, std::string("expected an expression, found ") +
                    (t.kind == Tok::Ident ? "'" + t.text + "'" : std::string(tokName(t.kind))));
    return nullptr;
  }
}

ExprPtr Parser::parseCall(Token name) {
  auto call = std::make_unique<CallExpr>(name.loc, name.text);
  SourceLoc open = tok_.loc;
  advance(); // (
  while (!at(Tok::RParen)) {
    if (at(Tok::Eof)) {
      fail(open, "unterminated call to '" + name.text + "': missing ')'");
      return nullptr;
    }
    Arg arg;
    arg.loc = tok_.loc;
    // `name = value` is a keyword argument.
    if (at(Tok::Ident) && peekNext().kind == Tok::Assign) {
      arg.keyword = tok_.text;
      advance();
      advance();
    }
    arg.value = parseExpr();
    if (!arg.value)
      return nullptr;
    call->args.push_back(std::move(arg));
    if (!consume(Tok::Comma) && !at(Tok::RParen)) {
      if (at(Tok::Eof))
        fail(open, "unterminated call to '" + name.text + "': missing ')'");
      else
        expect(Tok::RParen, "or ',' in the argument list");
      return nullptr;
    }
  }
  advance();
  return call;
}

ExprPtr Parser::parseParam() {
  auto p = std::make_unique<ParamExpr>(tok_.loc);
  advance();
  if (!parseType(p->type))
    return nullptr;
  if (!at(Tok::Ident)) {
    fail(tok_.loc, std::string("expected an initializer (normal(std), zeros or ones), found ") +
                       tokName(tok_.kind));
    return nullptr;
  }
  p->init = tok_.text;
  p->initLoc = tok_.loc;
  advance();
  if (at(Tok::LParen)) {
    SourceLoc open = tok_.loc;
    advance();
    while (!at(Tok::RParen)) {
      if (at(Tok::Eof)) {
        fail(open, "unterminated initializer: missing ')'");
        return nullptr;
      }
      ExprPtr e = parseExpr();
      if (!e)
        return nullptr;
      p->initArgs.push_back(std::move(e));
      if (!consume(Tok::Comma) && !at(Tok::RParen)) {
        expect(Tok::RParen, "or ',' in the initializer");
        return nullptr;
      }
    }
    advance();
  }
  if (!at(Tok::String)) {
    fail(tok_.loc, std::string("expected the parameter's checkpoint name as a string, found ") +
                       tokName(tok_.kind));
    return nullptr;
  }
  p->name = parseString();
  if (!p->name)
    return nullptr;
  return p;
}

ExprPtr Parser::parseString() {
  Token t = tok_;
  advance();
  auto s = std::make_unique<StringExpr>(t.loc);
  // The lexer keeps `\{` and `\}` escaped; everything else in braces is a name.
  const std::string &raw = t.text;
  std::string literal;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size() && (raw[i + 1] == '{' || raw[i + 1] == '}')) {
      literal += raw[++i];
      continue;
    }
    if (c == '}') {
      fail(t.loc, "unmatched '}' in string (write \\} for a literal brace)");
      return nullptr;
    }
    if (c != '{') {
      literal += c;
      continue;
    }
    size_t close = raw.find('}', i);
    if (close == std::string::npos) {
      fail(t.loc, "unterminated '{' interpolation in string");
      return nullptr;
    }
    std::string name = raw.substr(i + 1, close - i - 1);
    bool valid =
        !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
    for (char n : name)
      valid = valid && (std::isalnum(static_cast<unsigned char>(n)) || n == '_');
    if (!valid) {
      fail(t.loc, "'{" + name + "}' in string: only a variable name can be interpolated");
      return nullptr;
    }
    if (!literal.empty())
      s->parts.push_back({false, literal, t.loc});
    literal.clear();
    // Column of the name inside the literal (strings hold no newlines).
    SourceLoc nameLoc{t.loc.line, t.loc.col + 1 + static_cast<uint32_t>(i) + 1};
    s->parts.push_back({true, name, nameLoc});
    i = close;
  }
  if (!literal.empty() || s->parts.empty())
    s->parts.push_back({false, literal, t.loc});
  return s;
}

} // namespace bertc::frontend
