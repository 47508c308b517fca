//===- RougeTest.cpp - ROUGE and the oracle on cases worked by hand -------===//
#include "runtime/train/Rouge.h"

#include <gtest/gtest.h>

using namespace bertc::rt;

TEST(Rouge, TokensAreLowerCasedAlphanumericRuns) {
  EXPECT_EQ(rougeTokens("The cat's 2nd-best, MAT!"),
            (std::vector<std::string>{"the", "cat", "s", "2nd", "best", "mat"}));
  EXPECT_TRUE(rougeTokens(" -- , ").empty());
}

TEST(Rouge, WorkedExample) {
  // Candidate and reference share 5 of 6 unigrams, 3 of 5 bigrams, and
  // "the cat on the mat" as their longest common subsequence.
  RougeScores s = rouge("the cat sat on the mat", "The cat is on the mat.");
  EXPECT_DOUBLE_EQ(s.rouge1, 5.0 / 6);
  EXPECT_DOUBLE_EQ(s.rouge2, 0.6);
  EXPECT_DOUBLE_EQ(s.rougeL, 5.0 / 6);
}

TEST(Rouge, OverlapIsClipped) {
  // "the" three times against once: overlap 1, precision 1/3, recall 1/2.
  EXPECT_DOUBLE_EQ(rouge("the the the", "the cat").rouge1, 0.4);
  // LCS with repeats: "a b a" in "b a b a" is 3 long.
  EXPECT_DOUBLE_EQ(rouge("a b a", "b a b a").rougeL, 2 * (3.0 / 3) * (3.0 / 4) / (1 + 3.0 / 4));
}

TEST(Rouge, EmptySidesScoreZero) {
  RougeScores s = rouge("", "the cat");
  EXPECT_EQ(s.rouge1, 0);
  EXPECT_EQ(s.rouge2, 0);
  EXPECT_EQ(s.rougeL, 0);
  EXPECT_EQ(rouge("cat", "cat").rouge2, 0); // No bigram on either side.
}

TEST(Rouge, OracleIsGreedyAndInDocumentOrder) {
  std::vector<std::string> doc = {"the cat sat", "dogs bark loudly", "on the mat"};
  // "the cat sat" and "on the mat" score alike alone (the earlier wins the
  // tie); together they are the reference; the dogs never help.
  EXPECT_EQ(oracleSentences(doc, "the cat sat on the mat", 3), (std::vector<int>{0, 2}));
  EXPECT_EQ(oracleSentences(doc, "the cat sat on the mat", 1), (std::vector<int>{0}));
  // Adding the dogs brings "dogs" and two words the reference lacks: the
  // mean of ROUGE-1 and -2 falls (0.83 to 0.65), so the oracle stops.
  EXPECT_EQ(oracleSentences(doc, "dogs on the mat", 3), (std::vector<int>{2}));
  EXPECT_TRUE(oracleSentences(doc, "nothing in common", 3).empty());
}
