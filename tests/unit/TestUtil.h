//===- TestUtil.h - Helpers for front-end unit tests ------------*- C++ -*-===//
#ifndef BERTC_TESTS_UNIT_TESTUTIL_H
#define BERTC_TESTS_UNIT_TESTUTIL_H

#include "frontend/Lexer.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace bertc::frontend::test {

/// Holds a source file and the diagnostics printed about it.
struct Fixture {
  explicit Fixture(std::string text) : file("test.bertc", std::move(text)), diags(file, out) {}
  SourceFile file;
  std::ostringstream out;
  Diagnostics diags;

  std::vector<Token> lex() {
    Lexer lexer(file, diags);
    std::vector<Token> tokens;
    for (;;) {
      tokens.push_back(lexer.next());
      if (tokens.back().kind == Tok::Eof || tokens.back().kind == Tok::Error)
        return tokens;
    }
  }
  std::unique_ptr<Module> parse() { return parseModelFile(file, diags); }
  bool check() {
    auto m = parse();
    return m && checkModule(*m, diags);
  }
  std::string errors() const { return out.str(); }
};

} // namespace bertc::frontend::test

#endif // BERTC_TESTS_UNIT_TESTUTIL_H
