//===- Unicode.cpp - The Unicode facts WordPiece needs --------------------===//
#include "runtime/train/Unicode.h"

#include <algorithm>
#include <cstdint>

namespace bertc::rt::unicode {

namespace {

struct CharRange {
  uint32_t first, last;
  int kind;
};

struct Fold {
  uint32_t c;
  uint32_t start, length; ///< Into kFoldPool.
};

#include "runtime/train/UnicodeTables.inc"

template <size_t N> const CharRange *findRange(const CharRange (&table)[N], char32_t c) {
  auto it = std::upper_bound(std::begin(table), std::end(table), static_cast<uint32_t>(c),
                             [](uint32_t v, const CharRange &r) { return v < r.first; });
  if (it == std::begin(table))
    return nullptr;
  --it;
  return c <= it->last ? it : nullptr;
}

} // namespace

CharClass classify(char32_t c) {
  const CharRange *r = findRange(kCharClasses, c);
  return r ? static_cast<CharClass>(r->kind) : CharClass::Other;
}

bool isCjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool isCased(char32_t c) { return findRange(kCased, c) != nullptr; }

void appendFolded(char32_t c, std::u32string &out) {
  if (c < 0x80) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    return;
  }
  if (c >= 0xAC00 && c <= 0xD7A3) { // Hangul syllable: L V (T) jamo.
    char32_t s = c - 0xAC00;
    out.push_back(0x1100 + s / (21 * 28));
    out.push_back(0x1161 + (s % (21 * 28)) / 28);
    if (s % 28)
      out.push_back(0x11A7 + s % 28);
    return;
  }
  auto it = std::lower_bound(std::begin(kFolds), std::end(kFolds), static_cast<uint32_t>(c),
                             [](const Fold &f, uint32_t v) { return f.c < v; });
  if (it == std::end(kFolds) || it->c != c) {
    out.push_back(c);
    return;
  }
  for (uint32_t k = 0; k < it->length; ++k)
    out.push_back(static_cast<char32_t>(kFoldPool[it->start + k]));
}

bool decodeUtf8(std::string_view bytes, std::u32string &out, size_t *badOffset) {
  size_t i = 0, n = bytes.size();
  auto fail = [&] {
    if (badOffset)
      *badOffset = i;
    return false;
  };
  while (i < n) {
    auto b = static_cast<unsigned char>(bytes[i]);
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    int len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
    if (len == 0 || b > 0xF4 || i + len > n)
      return fail();
    char32_t c = b & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      auto cont = static_cast<unsigned char>(bytes[i + k]);
      if ((cont & 0xC0) != 0x80)
        return fail();
      c = (c << 6) | (cont & 0x3F);
    }
    static const char32_t minimum[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < minimum[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
      return fail();
    out.push_back(c);
    i += len;
  }
  return true;
}

void appendUtf8(char32_t c, std::string &out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

} // namespace bertc::rt::unicode
