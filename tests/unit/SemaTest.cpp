//===- SemaTest.cpp - Names, arity, recursion -----------------------------===//
#include "TestUtil.h"

#include <gtest/gtest.h>

using bertc::frontend::test::Fixture;

TEST(Sema, AcceptsAWellFormedModel) {
  Fixture f(R"(
const n = 4
const half = n / 2
dim batch = 2
input x : f32[batch, n]
let w = param f32[n, n] normal(0.02) "w"
fn layer(h, i) {
  let b = param f32[n] zeros "b.{i}"
  return matmul(h, w) + b
}
task t {
  input label : i32[batch]
  let h = x
  for i in 0..2 { h = layer(h, i) }
  output loss = cross_entropy(h, label)
  minimize loss
}
)");
  EXPECT_TRUE(f.check()) << f.errors();
  EXPECT_EQ(f.errors(), "");
}

struct BadModel {
  const char *text;
  const char *message;
};

class SemaErrors : public ::testing::TestWithParam<BadModel> {};

TEST_P(SemaErrors, Reports) {
  Fixture f(GetParam().text);
  EXPECT_FALSE(f.check());
  EXPECT_NE(f.errors().find(GetParam().message), std::string::npos) << f.errors();
}

INSTANTIATE_TEST_SUITE_P(
    Bad, SemaErrors,
    ::testing::Values(
        BadModel{"task t { output y = z }", "unknown name 'z'"},
        BadModel{"task t { output y = nope(1) }", "unknown function 'nope'"},
        BadModel{"const a = 1\nconst a = 2", "'a' is already defined"},
        BadModel{"const a = b\nconst b = 1", "constant 'b' is used before its definition"},
        BadModel{"input x : f32[2]\nconst a = x", "'x' is not a constant"},
        BadModel{"const a = tanh(1)", "call to 'tanh' in a constant"},
        BadModel{"const a = param f32[2] zeros \"p\"", "a parameter cannot be part of a constant"},
        BadModel{"preset p { q = 1 }", "sets 'q', which is not a constant"},
        BadModel{"const q = 1\npreset p { q = 1, q = 2 }", "sets 'q' twice"},
        BadModel{"const q = 1\npreset p { q = 1 }\npreset p { q = 2 }", "duplicate preset 'p'"},
        BadModel{"task t { input x : f32[2] }\ntask t { input x : f32[2] }", "duplicate task 't'"},
        BadModel{"fn f(x) { return f(x) }", "recursive call: f -> f"},
        BadModel{"fn f(x) { return g(x) }\nfn g(x) { return f(x) }", "recursive call: f -> g -> f"},
        BadModel{"fn f(x, y) { return x }\ntask t { output o = f(1) }", "missing argument 'y'"},
        BadModel{"fn f(x) { return x }\ntask t { output o = f(1, 2) }",
                 "too many arguments to 'f'"},
        BadModel{"task t { output o = tanh(1, y = 2) }", "has no parameter named 'y'"},
        BadModel{"task t { output o = softmax(axis = 1, 2) }",
                 "positional argument after a keyword"},
        BadModel{"task t { output o = softmax(1, axis = 1, axis = 2) }", "is given twice"},
        BadModel{"fn f(x) { let y = x }", "must end with 'return'"},
        BadModel{"fn f(x) { for i in 0..2 { return x } return x }", "must be the last statement"},
        BadModel{"task t { return 1 }", "'return' outside of a function"},
        BadModel{"fn f(x) { output y = x\nreturn x }",
                 "'output' is allowed only at the top level of a task"},
        BadModel{"fn f(x) { input y : f32[2]\nreturn x }", "'input' is allowed only"},
        BadModel{"task t { output y = 1\nminimize z }", "no output named 'z'"},
        BadModel{"task t { output y = 1\nminimize y\nminimize y }", "already minimizes"},
        BadModel{"task t { output y = 1\noutput y = 2 }", "'y' is already defined"},
        BadModel{"const a = 1\ntask t { a = 2 }", "cannot assign to constant 'a'"},
        BadModel{"task t { b = 2 }", "assignment to unknown name 'b'"},
        BadModel{"fn f(x) { return x }\ntask t { output o = f }", "'f' is a function"},
        BadModel{"const matmul = 1", "is the name of a built-in op"},
        BadModel{"task t { input x : u8[2] }", "unknown element type 'u8'"},
        BadModel{"task t { output o = param i32[2] zeros \"p\" }", "floating-point element type"},
        BadModel{"task t { output o = param f32[2] uniform \"p\" }",
                 "unknown initializer 'uniform'"},
        BadModel{"task t { output o = param f32[2] normal \"p\" }", "takes 1 argument, got 0"},
        BadModel{"task t { let s = \"{nope}\" }", "unknown name 'nope'"}));
