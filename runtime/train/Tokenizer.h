//===- Tokenizer.h - BERT's WordPiece tokenizer -----------------*- C++ -*-===//
//
// The tokenizer of google-research/bert (tokenization.py):
//   basic: drop NUL, U+FFFD and control characters, turn whitespace into
//   spaces, put spaces around CJK ideographs, split on whitespace; per word,
//   for an uncased vocabulary (do_lower_case, the default) lower-case,
//   decompose (NFD) and drop nonspacing marks (accents), then split
//   punctuation characters into words of their own;
//   WordPiece: greedy longest match first against the vocabulary, pieces
//   after the first prefixed "##"; a word longer than 200 characters, or one
//   with a part no piece matches, becomes [UNK].
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_TOKENIZER_H
#define BERTC_RUNTIME_TRAIN_TOKENIZER_H

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bertc::rt {

/// A WordPiece vocabulary: one token per line, the id is the line number.
class Vocab {
public:
  /// Reads `path`; errors name the file and the reason (unreadable, empty,
  /// not UTF-8, a duplicate token, a missing special token).
  static bool load(const std::string &path, Vocab &out, std::string &error);
  /// A HuggingFace model directory's vocabulary: DIR/vocab.txt, and
  /// lowerCase from DIR/tokenizer_config.json's "do_lower_case" (true when
  /// the file or the key is absent, as BertTokenizer's default).
  static bool loadFromModelDirectory(const std::string &dir, Vocab &out, std::string &error);
  /// Builds a vocabulary from tokens in id order (for tests).
  static Vocab fromTokens(std::vector<std::string> tokens);

  /// The id of `token`, or -1.
  int32_t id(std::string_view token) const;
  const std::string &token(int32_t id) const { return tokens_[id]; }
  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }

  int32_t pad = -1, unk = -1, cls = -1, sep = -1, mask = -1;
  /// Lower-case and strip accents before WordPiece (an uncased model).
  bool lowerCase = true;

private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> ids_;
};

class Tokenizer {
public:
  explicit Tokenizer(const Vocab &vocab) : vocab_(vocab) {}

  /// Appends the ids of `text` (UTF-8). Invalid UTF-8 is an error giving
  /// the byte offset.
  bool encode(std::string_view text, std::vector<int32_t> &ids, std::string &error) const;
  /// The basic tokenizer's words (lower-cased and accents removed when the
  /// vocabulary is uncased), for tests.
  std::vector<std::u32string> words(std::u32string_view text) const;
  /// Appends the WordPiece ids of one word.
  void wordPieces(const std::u32string &word, std::vector<int32_t> &ids) const;
  /// encode() as token strings, for tests and debugging.
  bool tokenize(std::string_view text, std::vector<std::string> &tokens, std::string &error) const;

  static constexpr size_t kMaxWordChars = 200;

private:
  const Vocab &vocab_;
};

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_TOKENIZER_H
