//===- Lexer.cpp - Tokens of the bertc model language ---------------------===//
#include "frontend/Lexer.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

namespace bertc::frontend {

const char *tokName(Tok kind) {
  switch (kind) {
  case Tok::Eof:
    return "end of file";
  case Tok::Error:
    return "invalid token";
  case Tok::Ident:
    return "identifier";
  case Tok::Int:
    return "integer";
  case Tok::Float:
    return "number";
  case Tok::String:
    return "string";
  case Tok::KwModel:
    return "'model'";
  case Tok::KwConst:
    return "'const'";
  case Tok::KwDim:
    return "'dim'";
  case Tok::KwPreset:
    return "'preset'";
  case Tok::KwInput:
    return "'input'";
  case Tok::KwParam:
    return "'param'";
  case Tok::KwFn:
    return "'fn'";
  case Tok::KwLet:
    return "'let'";
  case Tok::KwReturn:
    return "'return'";
  case Tok::KwFor:
    return "'for'";
  case Tok::KwIn:
    return "'in'";
  case Tok::KwTask:
    return "'task'";
  case Tok::KwOutput:
    return "'output'";
  case Tok::KwMinimize:
    return "'minimize'";
  case Tok::KwCheck:
    return "'check'";
  case Tok::KwTrue:
    return "'true'";
  case Tok::KwFalse:
    return "'false'";
  case Tok::KwAnd:
    return "'and'";
  case Tok::KwOr:
    return "'or'";
  case Tok::KwNot:
    return "'not'";
  case Tok::LParen:
    return "'('";
  case Tok::RParen:
    return "')'";
  case Tok::LBrace:
    return "'{'";
  case Tok::RBrace:
    return "'}'";
  case Tok::LBracket:
    return "'['";
  case Tok::RBracket:
    return "']'";
  case Tok::Comma:
    return "','";
  case Tok::Colon:
    return "':'";
  case Tok::Assign:
    return "'='";
  case Tok::Plus:
    return "'+'";
  case Tok::Minus:
    return "'-'";
  case Tok::Star:
    return "'*'";
  case Tok::Slash:
    return "'/'";
  case Tok::Percent:
    return "'%'";
  case Tok::DotDot:
    return "'..'";
  case Tok::Eq:
    return "'=='";
  case Tok::Ne:
    return "'!='";
  case Tok::Lt:
    return "'<'";
  case Tok::Le:
    return "'<='";
  case Tok::Gt:
    return "'>'";
  case Tok::Ge:
    return "'>='";
  }
  return "token";
}

char Lexer::advance() {
  char c = peek();
  if (pos_ >= text_.size())
    return '\0';
  ++pos_;
  if (c == '\n') {
    ++line_;
    col_ = 1;
  } else {
    ++col_;
  }
  return c;
}

Token Lexer::error(SourceLoc loc, const std::string &message) {
  diags_.error(loc, message);
  Token t;
  t.kind = Tok::Error;
  t.loc = loc;
  return t;
}

void Lexer::skipSpaceAndComments() {
  for (;;) {
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      advance();
    } else if (c == '#') {
      while (pos_ < text_.size() && peek() != '\n')
        advance();
    } else {
      return;
    }
  }
}

Token Lexer::next() {
  skipSpaceAndComments();
  Token t;
  t.loc = here();
  if (pos_ >= text_.size()) {
    t.kind = Tok::Eof;
    return t;
  }
  char c = peek();
  if (std::isdigit(static_cast<unsigned char>(c)) ||
      (c == '.' && std::isdigit(static_cast<unsigned char>(peek(1)))))
    return lexNumber();
  if (std::isalpha(static_cast<unsigned char>(c)) || c == '_')
    return lexIdentifier();
  if (c == '"')
    return lexString();

  advance();
  auto two = [&](char second, Tok yes, Tok no) {
    if (peek() == second) {
      advance();
      return yes;
    }
    return no;
  };
  switch (c) {
  case '(':
    t.kind = Tok::LParen;
    break;
  case ')':
    t.kind = Tok::RParen;
    break;
  case '{':
    t.kind = Tok::LBrace;
    break;
  case '}':
    t.kind = Tok::RBrace;
    break;
  case '[':
    t.kind = Tok::LBracket;
    break;
  case ']':
    t.kind = Tok::RBracket;
    break;
  case ',':
    t.kind = Tok::Comma;
    break;
  case ':':
    t.kind = Tok::Colon;
    break;
  case '+':
    t.kind = Tok::Plus;
    break;
  case '-':
    t.kind = Tok::Minus;
    break;
  case '*':
    t.kind = Tok::Star;
    break;
  case '/':
    t.kind = Tok::Slash;
    break;
  case '%':
    t.kind = Tok::Percent;
    break;
  case '=':
    t.kind = two('=', Tok::Eq, Tok::Assign);
    break;
  case '<':
    t.kind = two('=', Tok::Le, Tok::Lt);
    break;
  case '>':
    t.kind = two('=', Tok::Ge, Tok::Gt);
    break;
  case '!':
    if (peek() != '=')
      return error(t.loc, "unexpected character '!' (did you mean '!=' or 'not'?)");
    advance();
    t.kind = Tok::Ne;
    break;
  case '.':
    if (peek() != '.')
      return error(t.loc, "unexpected character '.'");
    advance();
    t.kind = Tok::DotDot;
    break;
  default: {
    unsigned char u = static_cast<unsigned char>(c);
    char buf[64];
    if (u >= 0x20 && u < 0x7f)
      std::snprintf(buf, sizeof buf, "unexpected character '%c'", c);
    else
      std::snprintf(buf, sizeof buf, "unexpected byte 0x%02x", u);
    return error(t.loc, buf);
  }
  }
  return t;
}

Token Lexer::lexNumber() {
  Token t;
  t.loc = here();
  size_t start = pos_;
  bool isFloat = false;
  while (std::isdigit(static_cast<unsigned char>(peek())))
    advance();
  // A '.' followed by '.' is the range operator, not a fraction.
  if (peek() == '.' && peek(1) != '.') {
    isFloat = true;
    advance();
    while (std::isdigit(static_cast<unsigned char>(peek())))
      advance();
  }
  if (peek() == 'e' || peek() == 'E') {
    isFloat = true;
    advance();
    if (peek() == '+' || peek() == '-')
      advance();
    if (!std::isdigit(static_cast<unsigned char>(peek()))) {
      while (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '.')
        advance();
      return error(t.loc, "malformed number '" + text_.substr(start, pos_ - start) +
                              "': exponent has no digits");
    }
    while (std::isdigit(static_cast<unsigned char>(peek())))
      advance();
  }
  // Letters, '_' or a second '.' glued to a number make a bad literal.
  if (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_' ||
      (peek() == '.' && peek(1) != '.')) {
    while (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_' ||
           (peek() == '.' && peek(1) != '.'))
      advance();
    return error(t.loc, "malformed number '" + text_.substr(start, pos_ - start) + "'");
  }
  std::string spelling = text_.substr(start, pos_ - start);
  errno = 0;
  if (isFloat) {
    t.kind = Tok::Float;
    t.floatValue = std::strtod(spelling.c_str(), nullptr);
    if (errno == ERANGE && std::isinf(t.floatValue))
      return error(t.loc, "number '" + spelling + "' is out of range");
  } else {
    t.kind = Tok::Int;
    t.intValue = std::strtoll(spelling.c_str(), nullptr, 10);
    if (errno == ERANGE)
      return error(t.loc, "integer '" + spelling + "' does not fit in 64 bits");
  }
  t.text = spelling;
  return t;
}

Token Lexer::lexString() {
  Token t;
  t.loc = here();
  advance(); // opening quote
  std::string value;
  for (;;) {
    char c = peek();
    if (pos_ >= text_.size() || c == '\n')
      return error(t.loc, "unterminated string literal");
    advance();
    if (c == '"')
      break;
    if (c == '\\') {
      SourceLoc escLoc{line_, col_ - 1};
      char e = advance();
      switch (e) {
      case '"':
        value += '"';
        break;
      case '\\':
        value += '\\';
        break;
      case 'n':
        value += '\n';
        break;
      case 't':
        value += '\t';
        break;
      case '{':
        value += "\\{";
        break; // literal brace, kept escaped for interpolation
      case '}':
        value += "\\}";
        break;
      default:
        return error(escLoc, std::string("unknown escape sequence '\\") +
                                 (e ? std::string(1, e) : std::string()) + "'");
      }
      continue;
    }
    value += c;
  }
  t.kind = Tok::String;
  t.text = std::move(value);
  return t;
}

Token Lexer::lexIdentifier() {
  static const std::unordered_map<std::string, Tok> keywords = {
      {"model", Tok::KwModel},   {"const", Tok::KwConst},
      {"dim", Tok::KwDim},       {"preset", Tok::KwPreset},
      {"input", Tok::KwInput},   {"param", Tok::KwParam},
      {"fn", Tok::KwFn},         {"let", Tok::KwLet},
      {"return", Tok::KwReturn}, {"for", Tok::KwFor},
      {"in", Tok::KwIn},         {"task", Tok::KwTask},
      {"output", Tok::KwOutput}, {"minimize", Tok::KwMinimize},
      {"check", Tok::KwCheck},   {"true", Tok::KwTrue},
      {"false", Tok::KwFalse},   {"and", Tok::KwAnd},
      {"or", Tok::KwOr},         {"not", Tok::KwNot},
  };
  Token t;
  t.loc = here();
  size_t start = pos_;
  while (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_')
    advance();
  t.text = text_.substr(start, pos_ - start);
  auto it = keywords.find(t.text);
  t.kind = it == keywords.end() ? Tok::Ident : it->second;
  return t;
}

} // namespace bertc::frontend
