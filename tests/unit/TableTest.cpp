//===- TableTest.cpp - CSV, TSV and JSONL labelled text -------------------===//
#include "runtime/train/Table.h"

#include <gtest/gtest.h>

#include <fstream>

namespace {

using namespace bertc::rt;

std::string write(const std::string &name, const std::string &text) {
  std::string path = testing::TempDir() + "/bertc-table-" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(Table, CsvQuotesNewlinesAndByteOrderMark) {
  // Pang & Lee's layout: no header, "label","text", quoted text with
  // doubled quotes and a newline inside.
  std::string path = write("pl.csv", "\xEF\xBB\xBF\"1\",\"the \"\"rock\"\" , again \n\"\n"
                                     "\"-1\",\"dull\"\r\n\n\"1\",plain, extra\n");
  std::vector<LabelledText> rows;
  std::string error;
  ASSERT_TRUE(readLabelledTable(path, "1", "0", rows, error)) << error;
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].text, "the \"rock\" , again \n");
  EXPECT_EQ(rows[0].label, "1");
  EXPECT_EQ(rows[0].line, 1);
  EXPECT_EQ(rows[1].text, "dull");
  EXPECT_EQ(rows[1].label, "-1");
  EXPECT_EQ(rows[1].line, 3);
  EXPECT_EQ(rows[2].text, "plain");
  EXPECT_EQ(rows[2].line, 5);
  EXPECT_EQ(sortedLabels(rows), (std::vector<std::string>{"-1", "1"}));
}

TEST(Table, HeaderNamesTsvAndJsonl) {
  std::vector<LabelledText> rows;
  std::string error;
  ASSERT_TRUE(readLabelledTable(write("h.csv", "id,sentence,label\n7,good,pos\n8,bad,neg\n"),
                                "sentence", "label", rows, error))
      << error;
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].text, "bad");
  EXPECT_EQ(sortedLabels(rows), (std::vector<std::string>{"neg", "pos"}));
  rows.clear();
  ASSERT_TRUE(readLabelledTable(write("t.tsv", "sentence\tlabel\nit \"works\"\t1\n"), "sentence",
                                "label", rows, error))
      << error;
  EXPECT_EQ(rows[0].text, "it \"works\"");
  rows.clear();
  ASSERT_TRUE(readLabelledTable(write("j.jsonl", "{\"text\": \"hi\", \"label\": 10}\n\n"
                                                 "{\"text\": \"yo\", \"label\": 9}\n"),
                                "text", "label", rows, error))
      << error;
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].line, 3);
  // Numeric labels sort as numbers: 9 before 10.
  EXPECT_EQ(sortedLabels(rows), (std::vector<std::string>{"9", "10"}));
}

TEST(Table, ErrorsNameTheFileLineAndReason) {
  std::vector<LabelledText> rows;
  std::string error;
  std::string path = write("open.csv", "1,\"never closed\n2,x\n");
  EXPECT_FALSE(readLabelledTable(path, "1", "0", rows, error));
  EXPECT_EQ(error, path + ":1: unterminated quoted field");
  path = write("short.csv", "1,fine\n2\n");
  EXPECT_FALSE(readLabelledTable(path, "1", "0", rows, error));
  EXPECT_EQ(error, path + ":2: 1 fields, column 1 is needed");
  path = write("cols.csv", "a,b\n1,2\n");
  EXPECT_FALSE(readLabelledTable(path, "text", "b", rows, error));
  EXPECT_EQ(error, path + ": no column \"text\" (columns: \"a\" \"b\")");
  path = write("bytes.csv", "1,caf\xE9\n");
  EXPECT_FALSE(readLabelledTable(path, "1", "0", rows, error));
  EXPECT_EQ(error, path + ":1: invalid UTF-8");
  path = write("x.txt", "hello\n");
  EXPECT_FALSE(readLabelledTable(path, "0", "1", rows, error));
  EXPECT_EQ(error, path + ": unknown format (the extension must be .csv, .tsv or .jsonl)");
  path = write("bad.jsonl", "{\"text\": [1], \"label\": 1}\n");
  EXPECT_FALSE(readLabelledTable(path, "text", "label", rows, error));
  EXPECT_EQ(error, path + ":1: \"text\" must be a string or a number");
  path = write("nolabel.jsonl", "{\"text\": \"a\"}\n");
  EXPECT_FALSE(readLabelledTable(path, "text", "label", rows, error));
  EXPECT_EQ(error, path + ":1: no field \"label\"");
  EXPECT_FALSE(readLabelledTable("/nonexistent.csv", "0", "1", rows, error));
  EXPECT_EQ(error, "/nonexistent.csv: cannot open");
}

} // namespace
