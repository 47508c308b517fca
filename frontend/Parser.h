//===- Parser.h - Recursive-descent parser for model files ------*- C++ -*-===//
#ifndef BERTC_FRONTEND_PARSER_H
#define BERTC_FRONTEND_PARSER_H

#include "frontend/AST.h"
#include "frontend/Lexer.h"

#include <initializer_list>
#include <memory>
#include <utility>

namespace bertc::frontend {

/// Parses one model file. Stops at the first syntax error, which is reported
/// through the Diagnostics; returns null then.
class Parser {
public:
  Parser(const SourceFile &file, Diagnostics &diags) : lexer_(file, diags), diags_(diags) {
    advance();
  }

  std::unique_ptr<Module> parseModule();

private:
  void advance() {
    if (hasNext_) {
      tok_ = std::move(next_);
      hasNext_ = false;
    } else {
      tok_ = lexer_.next();
    }
  }
  /// The token after the current one (one token of lookahead).
  const Token &peekNext() {
    if (!hasNext_) {
      next_ = lexer_.next();
      hasNext_ = true;
    }
    return next_;
  }
  bool at(Tok kind) const { return tok_.kind == kind; }
  bool consume(Tok kind) {
    if (!at(kind))
      return false;
    advance();
    return true;
  }
  bool expect(Tok kind, const char *context);
  bool fail(SourceLoc loc, const std::string &message);
  bool expectIdent(Binding &out, const char *context);

  bool parseConst(Module &m, bool isDim);
  bool parsePreset(Module &m);
  bool parseFunction(Module &m);
  bool parseTask(Module &m);
  bool parseBlock(Block &out, const char *context);
  StmtPtr parseStatement();
  StmtPtr parseInput();
  StmtPtr parseCheck();
  bool parseType(TypeExpr &out);

  ExprPtr parseExpr();
  /// `operand (op operand)*` for the operators of one precedence level.
  ExprPtr parseLeftAssociative(ExprPtr (Parser::*operand)(),
                               std::initializer_list<std::pair<Tok, BinaryOp>> ops);
  /// Any number of `prefix` before an operand.
  ExprPtr parsePrefix(Tok prefix, UnaryOp op, ExprPtr (Parser::*operand)());
  ExprPtr parseOr();
  ExprPtr parseAnd();
  ExprPtr parseNot();
  ExprPtr parseComparison();
  ExprPtr parseAdditive();
  ExprPtr parseMultiplicative();
  ExprPtr parseUnary();
  ExprPtr parsePrimary();
  ExprPtr parseCall(Token name);
  ExprPtr parseParam();
  ExprPtr parseString();

  Lexer lexer_;
  Diagnostics &diags_;
  Token tok_;
  Token next_;
  bool hasNext_ = false;
  bool failed_ = false;
  unsigned depth_ = 0; ///< Nesting depth, bounded so deep input cannot overflow the stack.
};

/// Convenience: parse `file`, or return null after reporting the error.
std::unique_ptr<Module> parseModelFile(const SourceFile &file, Diagnostics &diags);

} // namespace bertc::frontend

#endif // BERTC_FRONTEND_PARSER_H
