//===- Tokenizer.cpp - BERT's WordPiece tokenizer -------------------------===//
#include "runtime/train/Tokenizer.h"

#include "runtime/Json.h"
#include "runtime/train/Unicode.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace bertc::rt {

using unicode::CharClass;

bool Vocab::load(const std::string &path, Vocab &out, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open the vocabulary";
    return false;
  }
  std::vector<std::string> tokens;
  std::string line;
  std::u32string scratch;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    size_t bad = 0;
    scratch.clear();
    if (!unicode::decodeUtf8(line, scratch, &bad)) {
      error = path + ":" + std::to_string(tokens.size() + 1) + ": invalid UTF-8 at byte " +
              std::to_string(bad);
      return false;
    }
    tokens.push_back(line);
  }
  if (tokens.empty()) {
    error = path + ": the vocabulary is empty";
    return false;
  }
  Vocab v = fromTokens(std::move(tokens));
  if (v.ids_.size() != v.tokens_.size()) {
    error = path + ": a token appears twice";
    return false;
  }
  for (const char *special : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
    if (v.id(special) < 0) {
      error = path + ": no " + special + " token";
      return false;
    }
  out = std::move(v);
  return true;
}

bool Vocab::loadFromModelDirectory(const std::string &dir, Vocab &out, std::string &error) {
  std::filesystem::path d(dir);
  std::error_code ec;
  if (!std::filesystem::exists(d / "vocab.txt", ec)) {
    error = dir + ": no vocab.txt in the model directory (give --vocab FILE)";
    return false;
  }
  if (!load((d / "vocab.txt").string(), out, error))
    return false;
  std::string configPath = (d / "tokenizer_config.json").string();
  if (!std::filesystem::exists(configPath, ec))
    return true;
  Json config;
  if (!Json::readObject(configPath, config, error))
    return false;
  if (const Json *lower = config.find("do_lower_case")) {
    if (!lower->isBool()) {
      error = configPath + ": \"do_lower_case\" must be true or false";
      return false;
    }
    out.lowerCase = lower->boolean();
  }
  return true;
}

Vocab Vocab::fromTokens(std::vector<std::string> tokens) {
  Vocab v;
  v.tokens_ = std::move(tokens);
  for (size_t i = 0; i < v.tokens_.size(); ++i)
    v.ids_.emplace(v.tokens_[i], static_cast<int32_t>(i));
  v.pad = v.id("[PAD]");
  v.unk = v.id("[UNK]");
  v.cls = v.id("[CLS]");
  v.sep = v.id("[SEP]");
  v.mask = v.id("[MASK]");
  return v;
}

int32_t Vocab::id(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  return it == ids_.end() ? -1 : it->second;
}

std::vector<std::u32string> Tokenizer::words(std::u32string_view text) const {
  // Clean, space out CJK, split on whitespace.
  std::vector<std::u32string> raw(1);
  for (char32_t c : text) {
    CharClass k = unicode::classify(c);
    if (c == 0 || c == 0xFFFD || k == CharClass::Control)
      continue;
    bool cjk = unicode::isCjk(c);
    if (k == CharClass::Whitespace || cjk) {
      if (!raw.back().empty())
        raw.emplace_back();
      if (cjk) {
        raw.back().push_back(c);
        raw.emplace_back();
      }
      continue;
    }
    raw.back().push_back(c);
  }
  // Fold each word, then split off punctuation.
  std::vector<std::u32string> out;
  std::u32string folded;
  for (const std::u32string &word : raw) {
    if (word.empty())
      continue;
    folded.clear();
    for (size_t i = 0; i < word.size(); ++i) {
      if (word[i] == 0x3A3 && vocab_.lowerCase) { // Capital sigma: final form at a word's end.
        bool after = i > 0 && unicode::isCased(word[i - 1]);
        bool before = i + 1 < word.size() && unicode::isCased(word[i + 1]);
        folded.push_back(after && !before ? 0x3C2 : 0x3C3);
        continue;
      }
      if (vocab_.lowerCase)
        unicode::appendFolded(word[i], folded);
      else
        folded.push_back(word[i]);
    }
    bool open = false;
    for (char32_t c : folded) {
      if (unicode::classify(c) == CharClass::Punctuation) {
        out.emplace_back(1, c);
        open = false;
        continue;
      }
      if (!open)
        out.emplace_back();
      out.back().push_back(c);
      open = true;
    }
  }
  return out;
}

void Tokenizer::wordPieces(const std::u32string &word, std::vector<int32_t> &ids) const {
  if (word.size() > kMaxWordChars) {
    ids.push_back(vocab_.unk);
    return;
  }
  std::vector<int32_t> pieces;
  std::string piece;
  for (size_t start = 0; start < word.size();) {
    int32_t found = -1;
    size_t end = word.size();
    for (; end > start; --end) {
      piece = start > 0 ? "##" : "";
      for (size_t i = start; i < end; ++i)
        unicode::appendUtf8(word[i], piece);
      found = vocab_.id(piece);
      if (found >= 0)
        break;
    }
    if (found < 0) {
      ids.push_back(vocab_.unk);
      return;
    }
    pieces.push_back(found);
    start = end;
  }
  ids.insert(ids.end(), pieces.begin(), pieces.end());
}

bool Tokenizer::encode(std::string_view text, std::vector<int32_t> &ids, std::string &error) const {
  std::u32string decoded;
  size_t bad = 0;
  if (!unicode::decodeUtf8(text, decoded, &bad)) {
    error = "invalid UTF-8 at byte " + std::to_string(bad);
    return false;
  }
  for (const std::u32string &word : words(decoded))
    wordPieces(word, ids);
  return true;
}

bool Tokenizer::tokenize(std::string_view text, std::vector<std::string> &tokens,
                         std::string &error) const {
  std::vector<int32_t> ids;
  if (!encode(text, ids, error))
    return false;
  for (int32_t id : ids)
    tokens.push_back(vocab_.token(id));
  return true;
}

} // namespace bertc::rt
