//===- SummaryDataTest.cpp - Summarisation documents and rows -------------===//
#include "runtime/train/SummaryData.h"

#include <fstream>
#include <gtest/gtest.h>

using namespace bertc::rt;

namespace {

std::string writeFile(const std::string &name, const std::string &text) {
  std::string path = testing::TempDir() + "/bertc-summary-" + name;
  std::ofstream(path) << text;
  return path;
}

Vocab words() {
  return Vocab::fromTokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on",
                            "mat", "dogs", "bark", "."});
}

} // namespace

TEST(SummaryData, ReadsTextOrSentences) {
  std::string path = writeFile("docs.jsonl", R"({"text": "The cat sat. Dogs bark on the mat.", "summary": "cat"}
{"sentences": ["the cat", "  ", "dogs bark"]}
A plain line. Two sentences.
)");
  std::vector<SummaryDocument> docs;
  std::string error;
  ASSERT_TRUE(readSummaryDocuments(path, false, docs, error)) << error;
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].sentences, (std::vector<std::string>{"The cat sat.", "Dogs bark on the mat."}));
  EXPECT_EQ(docs[0].summary, "cat");
  EXPECT_EQ(docs[1].sentences, (std::vector<std::string>{"the cat", "dogs bark"})); // Blank dropped.
  EXPECT_EQ(docs[2].sentences, (std::vector<std::string>{"A plain line.", "Two sentences."}));
  // Scoring and training need the reference.
  EXPECT_FALSE(readSummaryDocuments(path, true, docs, error));
  EXPECT_EQ(error, path + ":2: no \"summary\" (the reference this command needs)");
  std::string plain = writeFile("plain.jsonl", "{\"text\": \"a\", \"summary\": \"a\"}\nplain text\n");
  EXPECT_FALSE(readSummaryDocuments(plain, true, docs, error));
  EXPECT_EQ(error.find(plain + ":2: a line of plain text has no \"summary\""), 0u) << error;
}

TEST(SummaryData, BadDocumentsNameTheLineAndField) {
  std::vector<SummaryDocument> docs;
  std::string error;
  struct Case {
    std::string text, message;
  } cases[] = {
      {"{\"text\": 3}\n", ":1: needs \"text\" (a string) or \"sentences\" (a list of strings)"},
      {"\n{\"sentences\": [\"a\", 2]}\n", ":2: \"sentences\" must be a list of strings"},
      {"{\"text\": \"a\", \"summary\": [1]}\n", ":1: \"summary\" must be a string"},
      {"{\"sentences\": []}\n", ":1: the document has no sentences"},
      {"{\"text\": \n", ":1: not a JSON object: "},
      {"\n\n", ": no documents"},
  };
  for (const Case &c : cases) {
    std::string path = writeFile("bad.jsonl", c.text);
    EXPECT_FALSE(readSummaryDocuments(path, false, docs, error)) << c.text;
    EXPECT_EQ(error.find(path + c.message), 0u) << error;
  }
}

TEST(SummaryData, RowsFollowBertSumsLayout) {
  Vocab v = words();
  Tokenizer t(v);
  SummaryDocument doc{{"the cat sat", "on the mat", "dogs bark ."}, "the cat sat on the mat", "d:1"};
  SummaryRow row;
  std::string error;
  // 5 + 5 tokens fit in 12; the third sentence (5 more) is cut.
  ASSERT_TRUE(encodeDocument(doc, t, v, 12, 8, 3, row, error)) << error;
  EXPECT_EQ(row.ids, (std::vector<int32_t>{2, 5, 6, 7, 3, 2, 8, 5, 9, 3}));
  EXPECT_EQ(row.types, (std::vector<int32_t>{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}));
  EXPECT_EQ(row.clsPositions, (std::vector<int32_t>{0, 5}));
  EXPECT_EQ(row.kept, 2);
  EXPECT_EQ(row.labels, (std::vector<int32_t>{1, 1})); // The oracle takes both.
  // Room for all three, the sentence slots for two.
  ASSERT_TRUE(encodeDocument(doc, t, v, 64, 2, 3, row, error)) << error;
  EXPECT_EQ(row.kept, 2);
  // The first sentence is truncated to fit rather than dropped.
  ASSERT_TRUE(encodeDocument(doc, t, v, 4, 8, 0, row, error)) << error;
  EXPECT_EQ(row.ids, (std::vector<int32_t>{2, 5, 6, 3}));
  EXPECT_EQ(row.labels, (std::vector<int32_t>{0})); // No oracle asked for.
  SummaryDocument bad{{"ok", "bad \xFF byte"}, "", "d:7"};
  EXPECT_FALSE(encodeDocument(bad, t, v, 64, 8, 0, row, error));
  EXPECT_EQ(error, "d:7: sentence 2: invalid UTF-8 at byte 4");
}

TEST(SummaryData, LeadAndScores) {
  std::vector<SummaryDocument> docs = {{{"the cat sat", "dogs bark"}, "the cat sat", "d:1"},
                                       {{"dogs bark", "the cat sat"}, "the cat sat", "d:2"}};
  std::vector<RougeScores> each;
  RougeMeans lead = scoreSelections(docs, leadSelections(docs, 1), &each);
  EXPECT_EQ(lead.documents, 2);
  EXPECT_DOUBLE_EQ(lead.rouge1, 0.5); // 1 and 0.
  ASSERT_EQ(each.size(), 2u);
  EXPECT_DOUBLE_EQ(each[0].rouge1, 1);
  EXPECT_DOUBLE_EQ(each[1].rouge1, 0);
  // Any order of the chosen indices reads in document order.
  EXPECT_EQ(selectionText(docs[0], {1, 0}), "the cat sat dogs bark");
  RougeMeans both = scoreSelections(docs, {{1, 0}, {1}});
  EXPECT_DOUBLE_EQ(both.rouge1, (2 * 0.6 * 1 / 1.6 + 1) / 2);
}
