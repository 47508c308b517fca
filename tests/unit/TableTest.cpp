//===- TableTest.cpp - CSV, TSV, JSONL and ARFF labelled text -------------===//
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
  EXPECT_EQ(error, path + ": unknown format (the extension must be .csv, .tsv, .jsonl or .arff)");
  path = write("bad.jsonl", "{\"text\": [1], \"label\": 1}\n");
  EXPECT_FALSE(readLabelledTable(path, "text", "label", rows, error));
  EXPECT_EQ(error, path + ":1: \"text\" must be a string or a number");
  path = write("nolabel.jsonl", "{\"text\": \"a\"}\n");
  EXPECT_FALSE(readLabelledTable(path, "text", "label", rows, error));
  EXPECT_EQ(error, path + ":1: no field \"label\"");
  EXPECT_FALSE(readLabelledTable("/nonexistent.csv", "0", "1", rows, error));
  EXPECT_EQ(error, "/nonexistent.csv: cannot open");
}

TEST(Table, ArffAsWekaWritesIt) {
  // The layout of Weka's Reuters files: a string and a nominal class,
  // backslash escapes, comments, Latin-1 text.
  std::string path = write("r.arff", "% Reuters\n@relation 'Reuters Grain'\n\n"
                                     "@attribute Text string\n@ATTRIBUTE class-att {0,1}\n\n"
                                     "@data\n\n'WHEAT \\'UP\\'\\nin Caf\xE9',1\n"
                                     "% a comment\n\"corn, \\\"maize\\\"\" , 0\r\n");
  std::vector<LabelledText> rows;
  std::string error;
  ASSERT_TRUE(readLabelledTable(path, "Text", "class-att", rows, error)) << error;
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].text, "WHEAT 'UP'\nin Caf\xC3\xA9"); // Latin-1 e-acute as UTF-8.
  EXPECT_EQ(rows[0].label, "1");
  EXPECT_EQ(rows[0].line, 9);
  EXPECT_EQ(rows[1].text, "corn, \"maize\"");
  EXPECT_EQ(rows[1].label, "0");
  // Columns by index; a file that is valid UTF-8 stays UTF-8.
  rows.clear();
  path = write("u.arff", "@attribute t string\n@attribute c {a,b}\n@data\n'Caf\xC3\xA9',b\n");
  ASSERT_TRUE(readLabelledTable(path, "0", "1", rows, error)) << error;
  EXPECT_EQ(rows[0].text, "Caf\xC3\xA9");
}

TEST(Table, ArffErrorsNameTheFileLineAndReason) {
  std::vector<LabelledText> rows;
  std::string error;
  const std::string header = "@attribute Text string\n@attribute class {0,1}\n@data\n";
  auto fails = [&](const std::string &name, const std::string &text, const std::string &want) {
    std::string path = write(name, text);
    EXPECT_FALSE(readLabelledTable(path, "Text", "class", rows, error)) << name;
    EXPECT_EQ(error, path + want);
  };
  fails("open.arff", header + "'fine',0\n'never closed,1\n", ":5: unterminated quoted value (value 1)");
  fails("count.arff", header + "'one value'\n", ":4: 1 values, the header declares 2 attributes");
  fails("label.arff", header + "'text',2\n", ":4: class \"2\" is none of its declared values {0,1}");
  fails("missing.arff", header + "'text',?\n", ":4: the label (class) is missing");
  fails("after.arff", header + "'text' junk,1\n", ":4: unexpected text after a value (value 1)");
  fails("sparse.arff", header + "{0 'text', 1 1}\n", ":4: sparse records are not supported");
  fails("nodata.arff", header.substr(0, header.size() - 6), ": no @data section");
  fails("column.arff", "@attribute body string\n@attribute class {0,1}\n@data\n",
        ": no attribute \"Text\" (attributes: \"body\" \"class\")");
  fails("keyword.arff", "@atribute Text string\n", ":1: expected @relation, @attribute or @data");
  // Windows-1252's curly quote is a C1 control in Latin-1: another encoding.
  fails("cp1252.arff", header + "'\x93quoted\x94',1\n",
        ":4: byte 0x93 is neither UTF-8 nor Latin-1 text (a C1 control; another encoding such as "
        "Windows-1252?): convert the file to UTF-8");
}

} // namespace
