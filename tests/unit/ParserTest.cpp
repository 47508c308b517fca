//===- ParserTest.cpp - Syntax of model files -----------------------------===//
#include "TestUtil.h"

#include <gtest/gtest.h>

using namespace bertc::frontend;
using bertc::frontend::test::Fixture;

TEST(Parser, Declarations) {
  Fixture f(R"(
model m
const a = 2 * (3 + 4)
dim batch = 8
preset small { a = 1, batch = 2 }
input x : f32[batch, a]
let w = param f32[a, a] normal(0.02) "w.{a}"
check a > 0, "positive"
fn f(p, q) { return p + q }
task t { output y = f(x, x) minimize y }
)");
  auto m = f.parse();
  ASSERT_TRUE(m) << f.errors();
  EXPECT_EQ(m->model.name, "m");
  ASSERT_EQ(m->consts.size(), 2u);
  EXPECT_FALSE(m->consts[0].isDim);
  EXPECT_TRUE(m->consts[1].isDim);
  ASSERT_EQ(m->presets.size(), 1u);
  EXPECT_EQ(m->presets[0].settings.size(), 2u);
  EXPECT_EQ(m->globals.size(), 3u);
  ASSERT_EQ(m->functions.size(), 1u);
  EXPECT_EQ(m->functions[0].params.size(), 2u);
  ASSERT_EQ(m->tasks.size(), 1u);
  EXPECT_EQ(m->tasks[0].body.size(), 2u);
  EXPECT_TRUE(m->findFunction("f"));
  EXPECT_FALSE(m->findFunction("g"));
}

TEST(Parser, Precedence) {
  Fixture f("const a = 1 + 2 * 3 - -4 == 3 or not true and false");
  auto m = f.parse();
  ASSERT_TRUE(m) << f.errors();
  // or(==(-(+(1, *(2, 3)), neg 4), 3), and(not true, false))
  auto *orExpr = static_cast<BinaryExpr *>(m->consts[0].value.get());
  ASSERT_EQ(orExpr->op, BinaryOp::Or);
  auto *eq = static_cast<BinaryExpr *>(orExpr->lhs.get());
  ASSERT_EQ(eq->op, BinaryOp::Eq);
  auto *sub = static_cast<BinaryExpr *>(eq->lhs.get());
  ASSERT_EQ(sub->op, BinaryOp::Sub);
  auto *add = static_cast<BinaryExpr *>(sub->lhs.get());
  ASSERT_EQ(add->op, BinaryOp::Add);
  EXPECT_EQ(static_cast<BinaryExpr *>(add->rhs.get())->op, BinaryOp::Mul);
  EXPECT_EQ(sub->rhs->kind, ExprKind::Unary);
  EXPECT_EQ(static_cast<BinaryExpr *>(orExpr->rhs.get())->op, BinaryOp::And);
}

TEST(Parser, KeywordArgumentsNeedLookahead) {
  // `x + y` starts with a name but is a positional argument.
  Fixture f("task t { output o = matmul(x + y, w, transpose_b = true) }");
  auto m = f.parse();
  ASSERT_TRUE(m) << f.errors();
  auto *out = static_cast<OutputStmt *>(m->tasks[0].body[0].get());
  auto *call = static_cast<CallExpr *>(out->value.get());
  ASSERT_EQ(call->args.size(), 3u);
  EXPECT_TRUE(call->args[0].keyword.empty());
  EXPECT_EQ(call->args[0].value->kind, ExprKind::Binary);
  EXPECT_EQ(call->args[2].keyword, "transpose_b");
}

TEST(Parser, StringInterpolation) {
  Fixture f(R"(let s = "a.{layer_1}.b\{x\}")");
  auto m = f.parse();
  ASSERT_TRUE(m) << f.errors();
  auto *let = static_cast<LetStmt *>(m->globals[0].get());
  auto *str = static_cast<StringExpr *>(let->value.get());
  ASSERT_EQ(str->parts.size(), 3u);
  EXPECT_EQ(str->parts[0].text, "a.");
  EXPECT_TRUE(str->parts[1].isName);
  EXPECT_EQ(str->parts[1].text, "layer_1");
  EXPECT_EQ(str->parts[2].text, ".b{x}");
}

struct BadSyntax {
  const char *text;
  const char *message;
};

class ParserErrors : public ::testing::TestWithParam<BadSyntax> {};

TEST_P(ParserErrors, FirstErrorOnly) {
  Fixture f(GetParam().text);
  EXPECT_FALSE(f.parse());
  EXPECT_NE(f.errors().find(GetParam().message), std::string::npos) << f.errors();
  EXPECT_EQ(f.diags.errorCount(), 1u) << f.errors();
}

INSTANTIATE_TEST_SUITE_P(
    Bad, ParserErrors,
    ::testing::Values(BadSyntax{"const = 3", "expected a name after 'const'"},
                      BadSyntax{"const a 3", "expected '=' after the constant's name"},
                      BadSyntax{"fn f(x { return x }", "or ',' in the parameter list"},
                      BadSyntax{"fn f(x) { return x", "unterminated function body: missing '}'"},
                      BadSyntax{"task t { output y = (1 + 2 }",
                                "expected ')' to close the parenthesis"},
                      BadSyntax{"task t { output y = f(1, 2 ", "unterminated call to 'f'"},
                      BadSyntax{"preset p { a = 1 b = 2 }", "expected '}' or ',' in the preset"},
                      BadSyntax{"input x f32[2]", "expected ':' after the input's name"},
                      BadSyntax{"input x : f32[2", "unterminated shape"},
                      BadSyntax{"let w = param f32[2] \"w\"", "expected an initializer"},
                      BadSyntax{"let w = param f32[2] zeros w", "checkpoint name as a string"},
                      BadSyntax{"let s = \"a{b\"", "unterminated '{' interpolation"},
                      BadSyntax{"let s = \"a{1}\"", "only a variable name can be interpolated"},
                      BadSyntax{"let s = \"a}\"", "unmatched '}' in string"},
                      BadSyntax{"check 1 > 0", "expected ',' after the checked condition"},
                      BadSyntax{"check 1 > 0, 3", "expected a message string"},
                      BadSyntax{"task t { 3 }", "expected a statement, found integer"},
                      BadSyntax{"task t { x + 1 }", "expected '=' after 'x'"},
                      BadSyntax{"model a model b", "already named 'a'"},
                      BadSyntax{"return 1", "expected a declaration"}));

TEST(Parser, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "const a = " + std::string(100000, '(') + "1" + std::string(100000, ')');
  Fixture f(deep);
  EXPECT_FALSE(f.parse());
  EXPECT_NE(f.errors().find("nested too deeply"), std::string::npos);
  std::string negs = "const a = " + std::string(100000, '-') + "1";
  Fixture g(negs);
  EXPECT_FALSE(g.parse());
  EXPECT_NE(g.errors().find("nested too deeply"), std::string::npos);
}
