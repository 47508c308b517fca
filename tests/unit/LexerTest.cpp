//===- LexerTest.cpp - Tokens, literals and their locations ---------------===//
#include "TestUtil.h"

#include <gtest/gtest.h>

using namespace bertc::frontend;
using bertc::frontend::test::Fixture;

TEST(Lexer, KeywordsIdentifiersAndPunctuation) {
  Fixture f("fn dense(x) { return x } # comment\nlet a, b = 1..2 == != <= >= < > % ");
  std::vector<Tok> expected = {Tok::KwFn,   Tok::Ident,    Tok::LParen, Tok::Ident,   Tok::RParen,
                               Tok::LBrace, Tok::KwReturn, Tok::Ident,  Tok::RBrace,  Tok::KwLet,
                               Tok::Ident,  Tok::Comma,    Tok::Ident,  Tok::Assign,  Tok::Int,
                               Tok::DotDot, Tok::Int,      Tok::Eq,     Tok::Ne,      Tok::Le,
                               Tok::Ge,     Tok::Lt,       Tok::Gt,     Tok::Percent, Tok::Eof};
  std::vector<Token> tokens = f.lex();
  ASSERT_EQ(tokens.size(), expected.size()) << f.errors();
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(tokens[i].kind, expected[i]) << "token " << i;
  EXPECT_EQ(tokens[1].text, "dense");
  // `let` starts line 2, column 1.
  EXPECT_EQ(tokens[9].loc.line, 2u);
  EXPECT_EQ(tokens[9].loc.col, 1u);
}

TEST(Lexer, Numbers) {
  Fixture f("0 42 0.02 1e-12 1.5E3 .5 2..3");
  std::vector<Token> t = f.lex();
  ASSERT_EQ(t.size(), 10u) << f.errors();
  EXPECT_EQ(t[0].intValue, 0);
  EXPECT_EQ(t[1].intValue, 42);
  EXPECT_EQ(t[2].kind, Tok::Float);
  EXPECT_DOUBLE_EQ(t[2].floatValue, 0.02);
  EXPECT_DOUBLE_EQ(t[3].floatValue, 1e-12);
  EXPECT_DOUBLE_EQ(t[4].floatValue, 1500.0);
  EXPECT_DOUBLE_EQ(t[5].floatValue, 0.5);
  // `2..3` is a range, not a malformed float.
  EXPECT_EQ(t[6].kind, Tok::Int);
  EXPECT_EQ(t[7].kind, Tok::DotDot);
  EXPECT_EQ(t[8].kind, Tok::Int);
}

TEST(Lexer, StringsAndEscapes) {
  Fixture f(R"("a.{i}.b" "quote \" and \\ and \{brace\}")");
  std::vector<Token> t = f.lex();
  ASSERT_EQ(t.size(), 3u) << f.errors();
  EXPECT_EQ(t[0].text, "a.{i}.b");
  // Escaped braces stay escaped until interpolation is parsed.
  EXPECT_EQ(t[1].text, "quote \" and \\ and \\{brace\\}");
}

struct BadInput {
  const char *text;
  const char *message;
};

class LexerErrors : public ::testing::TestWithParam<BadInput> {};

TEST_P(LexerErrors, ReportsWithLocation) {
  Fixture f(GetParam().text);
  std::vector<Token> t = f.lex();
  EXPECT_EQ(t.back().kind, Tok::Error);
  EXPECT_NE(f.errors().find(GetParam().message), std::string::npos) << f.errors();
  EXPECT_EQ(f.errors().rfind("test.bertc:1:", 0), 0u) << f.errors();
}

INSTANTIATE_TEST_SUITE_P(Bad, LexerErrors,
                         ::testing::Values(BadInput{"12abc", "malformed number '12abc'"},
                                           BadInput{"1e+", "exponent has no digits"},
                                           BadInput{"1.2.3", "malformed number '1.2.3'"},
                                           BadInput{"99999999999999999999",
                                                    "does not fit in 64 bits"},
                                           BadInput{"1e999", "out of range"},
                                           BadInput{"\"open", "unterminated string literal"},
                                           BadInput{"\"a\\qb\"", "unknown escape sequence '\\q'"},
                                           BadInput{"x @ y", "unexpected character '@'"},
                                           BadInput{"\x01", "unexpected byte 0x01"},
                                           BadInput{"\xff", "unexpected byte 0xff"},
                                           BadInput{"a ! b", "did you mean '!=' or 'not'?"}));

TEST(Diagnostics, CaretUnderColumn) {
  SourceFile file("m.bertc", "first\n  second line\n");
  std::ostringstream out;
  Diagnostics diags(file, out);
  diags.error({2, 3}, "bad");
  EXPECT_EQ(out.str(), "m.bertc:2:3: error: bad\n  second line\n  ^\n");
  EXPECT_EQ(diags.errorCount(), 1u);
}
