//===- Lexer.h - Tokens of the bertc model language -------------*- C++ -*-===//
#ifndef BERTC_FRONTEND_LEXER_H
#define BERTC_FRONTEND_LEXER_H

#include "frontend/Diagnostics.h"

#include <cstdint>
#include <string>

namespace bertc::frontend {

enum class Tok {
  Eof,
  Error,
  Ident,
  Int,
  Float,
  String,
  // Keywords.
  KwModel,
  KwConst,
  KwDim,
  KwPreset,
  KwInput,
  KwParam,
  KwFn,
  KwLet,
  KwReturn,
  KwFor,
  KwIn,
  KwTask,
  KwOutput,
  KwMinimize,
  KwCheck,
  KwTrue,
  KwFalse,
  KwAnd,
  KwOr,
  KwNot,
  // Punctuation.
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Assign,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  DotDot,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
};

/// A printable name for a token kind, for "expected X" messages.
const char *tokName(Tok kind);

struct Token {
  Tok kind = Tok::Eof;
  SourceLoc loc;
  std::string text; ///< Identifier spelling, or the decoded string literal.
  int64_t intValue = 0;
  double floatValue = 0;
};

/// Turns the text of a SourceFile into tokens, one at a time. On a lexical
/// error it reports through `diags` and returns a Tok::Error token.
class Lexer {
public:
  Lexer(const SourceFile &file, Diagnostics &diags) : text_(file.text()), diags_(diags) {}

  Token next();

private:
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  char advance();
  SourceLoc here() const { return {line_, col_}; }
  void skipSpaceAndComments();
  Token lexNumber();
  Token lexString();
  Token lexIdentifier();
  Token error(SourceLoc loc, const std::string &message);

  const std::string &text_;
  Diagnostics &diags_;
  size_t pos_ = 0;
  uint32_t line_ = 1, col_ = 1;
};

} // namespace bertc::frontend

#endif // BERTC_FRONTEND_LEXER_H
