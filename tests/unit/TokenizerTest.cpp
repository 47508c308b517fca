//===- TokenizerTest.cpp - WordPiece on hand-checked cases ----------------===//
//
// The cases of google-research/bert's tokenization tests (whitespace, accents,
// CJK, punctuation, greedy WordPiece, [UNK]) on a small vocabulary, UTF-8
// validation, and, with the real bert-base-uncased vocabulary installed by
// scripts/install-data.sh, sentences whose tokens were checked by hand.
//
//===----------------------------------------------------------------------===//
#include "runtime/train/Tokenizer.h"
#include "runtime/train/Unicode.h"

#include <filesystem>
#include <gtest/gtest.h>

#include <fstream>

namespace {

using bertc::rt::Tokenizer;
using bertc::rt::Vocab;
namespace unicode = bertc::rt::unicode;

std::u32string u32(const std::string &s) {
  std::u32string out;
  EXPECT_TRUE(unicode::decodeUtf8(s, out));
  return out;
}

std::vector<std::string> words(const std::string &text, bool lowerCase = true) {
  Vocab v = Vocab::fromTokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"});
  v.lowerCase = lowerCase;
  Tokenizer t(v);
  std::vector<std::string> out;
  for (const std::u32string &w : t.words(u32(text))) {
    std::string s;
    for (char32_t c : w)
      unicode::appendUtf8(c, s);
    out.push_back(s);
  }
  return out;
}

using Words = std::vector<std::string>;

TEST(BasicTokenizer, LowerCasesAndSplitsPunctuation) {
  EXPECT_EQ(words(" \tHeLLo!how  \n Are yoU?  "), (Words{"hello", "!", "how", "are", "you", "?"}));
}

TEST(BasicTokenizer, StripsAccents) {
  EXPECT_EQ(words("H\xC3\xA9llo"), (Words{"hello"}));           // é
  EXPECT_EQ(words("Cr\xC3\xA8me BR\xC3\x9BL\xC3\x89" "E"), (Words{"creme", "brulee"}));
}

TEST(BasicTokenizer, CasedKeepsCaseAndAccents) {
  // do_lower_case false (bert-base-cased): no lower-casing, no NFD, no
  // accent stripping; punctuation still splits.
  EXPECT_EQ(words(" HeLLo!how Cr\xC3\xA8me \xCE\x9F\xCE\xA3", false),
            (Words{"HeLLo", "!", "how", "Cr\xC3\xA8me", "\xCE\x9F\xCE\xA3"}));
}

TEST(BasicTokenizer, SpacesOutCjk) {
  EXPECT_EQ(words("ah\xE5\x8D\x9A\xE6\x8E\xA8zz"), (Words{"ah", "\xE5\x8D\x9A", "\xE6\x8E\xA8", "zz"}));
}

TEST(BasicTokenizer, DropsControlsAndKeepsUnicodeWhitespace) {
  // U+0005 is a control; U+00A0 (no-break space) separates words; NUL and
  // U+FFFD disappear.
  EXPECT_EQ(words("a\x05" "b\xC2\xA0" "c\xEF\xBF\xBD" "d"), (Words{"ab", "cd"}));
}

TEST(BasicTokenizer, UnicodePunctuationAndSymbols) {
  // ASCII symbols such as $ and ` count as punctuation; so does U+2014
  // (em dash, Pd); U+00A9 (copyright, So) does not.
  EXPECT_EQ(words("a$b`c\xE2\x80\x94" "d\xC2\xA9"), (Words{"a", "$", "b", "`", "c", "\xE2\x80\x94", "d\xC2\xA9"}));
}

TEST(BasicTokenizer, FinalSigma) {
  // ΟΔΟΣ -> οδος with a final sigma; Σ alone stays medial σ.
  EXPECT_EQ(words("\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3 \xCE\xA3"),
            (Words{"\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82", "\xCF\x83"}));
}

TEST(BasicTokenizer, HangulBecomesJamo) {
  // 한 = U+1112 U+1161 U+11AB after NFD.
  EXPECT_EQ(words("\xED\x95\x9C"), (Words{"\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB"}));
}

TEST(WordPiece, GreedyLongestMatchFirst) {
  Vocab v = Vocab::fromTokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "want", "##want",
                               "##ed", "wa", "un", "runn", "##ing"});
  Tokenizer t(v);
  std::vector<std::string> tokens;
  std::string error;
  ASSERT_TRUE(t.tokenize("UNwant\xC3\xA9" "d,running", tokens, error)) << error;
  EXPECT_EQ(tokens, (Words{"un", "##want", "##ed", "[UNK]", "runn", "##ing"}));
  tokens.clear();
  ASSERT_TRUE(t.tokenize("unwantedX running", tokens, error));
  EXPECT_EQ(tokens, (Words{"[UNK]", "runn", "##ing"}));
  tokens.clear();
  ASSERT_TRUE(t.tokenize("", tokens, error));
  EXPECT_TRUE(tokens.empty());
}

TEST(WordPiece, LongWordsAreUnknown) {
  Vocab v = Vocab::fromTokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "##a"});
  Tokenizer t(v);
  std::vector<int32_t> ids;
  std::string error;
  ASSERT_TRUE(t.encode(std::string(200, 'a'), ids, error));
  EXPECT_EQ(ids.size(), 200u);
  ids.clear();
  ASSERT_TRUE(t.encode(std::string(201, 'a'), ids, error));
  EXPECT_EQ(ids, (std::vector<int32_t>{v.unk}));
}

TEST(Utf8, RejectsInvalidBytesWithTheirOffset) {
  Vocab v = Vocab::fromTokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"});
  Tokenizer t(v);
  std::vector<int32_t> ids;
  std::string error;
  EXPECT_FALSE(t.encode("ok \xFF no", ids, error));
  EXPECT_EQ(error, "invalid UTF-8 at byte 3");
  std::u32string out;
  size_t bad = 0;
  EXPECT_FALSE(unicode::decodeUtf8("ab\xC0\xAF", out, &bad)); // overlong '/'
  EXPECT_EQ(bad, 2u);
  EXPECT_FALSE(unicode::decodeUtf8("\xED\xA0\x80", out, &bad)); // a surrogate
  EXPECT_FALSE(unicode::decodeUtf8("\xE2\x82", out, &bad));     // truncated
  out.clear();
  EXPECT_TRUE(unicode::decodeUtf8("\xF0\x9F\x92\xA9", out)); // U+1F4A9
  EXPECT_EQ(out, std::u32string(1, 0x1F4A9));
}

TEST(Vocab, LoadErrorsNameTheFile) {
  Vocab v;
  std::string error;
  EXPECT_FALSE(Vocab::load("/nonexistent/vocab.txt", v, error));
  EXPECT_EQ(error, "/nonexistent/vocab.txt: cannot open the vocabulary");
  std::string path = testing::TempDir() + "/bertc-vocab-nounk.txt";
  std::ofstream(path) << "[PAD]\n[CLS]\n[SEP]\n[MASK]\nhello\n";
  EXPECT_FALSE(Vocab::load(path, v, error));
  EXPECT_EQ(error, path + ": no [UNK] token");
  std::ofstream(path) << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nhello\n";
  EXPECT_FALSE(Vocab::load(path, v, error));
  EXPECT_EQ(error, path + ": a token appears twice");
}

TEST(Vocab, FromAModelDirectory) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(testing::TempDir()) / "bertc-vocab-dir";
  fs::remove_all(dir);
  fs::create_directories(dir);
  Vocab v;
  std::string error;
  EXPECT_FALSE(Vocab::loadFromModelDirectory(dir.string(), v, error));
  EXPECT_EQ(error, dir.string() + ": no vocab.txt in the model directory (give --vocab FILE)");
  std::ofstream(dir / "vocab.txt") << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nHello\n";
  ASSERT_TRUE(Vocab::loadFromModelDirectory(dir.string(), v, error)) << error;
  EXPECT_TRUE(v.lowerCase); // BertTokenizer's default without a config.
  std::ofstream(dir / "tokenizer_config.json") << R"({"do_lower_case": false, "model_max_length": 512})";
  ASSERT_TRUE(Vocab::loadFromModelDirectory(dir.string(), v, error)) << error;
  EXPECT_FALSE(v.lowerCase);
  std::vector<std::string> tokens;
  ASSERT_TRUE(Tokenizer(v).tokenize("Hello hello", tokens, error)) << error;
  EXPECT_EQ(tokens, (std::vector<std::string>{"Hello", "[UNK]"}));
  std::ofstream(dir / "tokenizer_config.json") << R"({"do_lower_case": "yes"})";
  EXPECT_FALSE(Vocab::loadFromModelDirectory(dir.string(), v, error));
  EXPECT_EQ(error, (dir / "tokenizer_config.json").string() +
                       ": \"do_lower_case\" must be true or false");
  std::ofstream(dir / "tokenizer_config.json") << "{";
  EXPECT_FALSE(Vocab::loadFromModelDirectory(dir.string(), v, error));
  EXPECT_EQ(error.find((dir / "tokenizer_config.json").string() + ": not JSON: "), 0u)
      << error;
}

/// bert-base-uncased, as scripts/install-data.sh installs it.
class RealVocab : public ::testing::Test {
protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(Vocab::load(BERTC_DATA_DIR "/vocab.txt", vocab, error))
        << error << " (scripts/install-data.sh " BERTC_DATA_DIR " installs it)";
  }
  Words tokens(const std::string &text) {
    Tokenizer t(vocab);
    Words out;
    std::string error;
    EXPECT_TRUE(t.tokenize(text, out, error)) << error;
    return out;
  }
  Vocab vocab;
};

TEST_F(RealVocab, SpecialIds) {
  EXPECT_EQ(vocab.size(), 30522);
  EXPECT_EQ(vocab.pad, 0);
  EXPECT_EQ(vocab.unk, 100);
  EXPECT_EQ(vocab.cls, 101);
  EXPECT_EQ(vocab.sep, 102);
  EXPECT_EQ(vocab.mask, 103);
}

TEST_F(RealVocab, HandCheckedSentences) {
  // google-research/bert's README examples, and text from the corpus; each
  // piece checked against the vocabulary by hand ("ish" and "##hmael" are
  // not in it, so greedy matching gives "is ##hma ##el").
  EXPECT_EQ(tokens("John Johanson's house"), (Words{"john", "johan", "##son", "'", "s", "house"}));
  EXPECT_EQ(tokens("unaffable"), (Words{"una", "##ffa", "##ble"}));
  EXPECT_EQ(tokens("Call me Ishmael. Some years ago\xE2\x80\x94never mind how long"),
            (Words{"call", "me", "is", "##hma", "##el", ".", "some", "years", "ago", "\xE2\x80\x94",
                   "never", "mind", "how", "long"}));
  EXPECT_EQ(tokens("The caf\xC3\xA9 costs $3.50!"),
            (Words{"the", "cafe", "costs", "$", "3", ".", "50", "!"}));
}

} // namespace
