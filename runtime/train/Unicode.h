//===- Unicode.h - The Unicode facts WordPiece needs ------------*- C++ -*-===//
//
// UTF-8 decoding and encoding, and the character classes and case/accent
// folding of BERT's basic tokenizer, from tables generated out of Python's
// unicodedata by scripts/gen-unicode-tables.py (no Unicode library needed).
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_UNICODE_H
#define BERTC_RUNTIME_TRAIN_UNICODE_H

#include <cstddef>
#include <string>
#include <string_view>

namespace bertc::rt::unicode {

enum class CharClass {
  Other,
  Whitespace,  ///< Space, tab, newline, return, or category Zs.
  Control,     ///< Any other C* category (unassigned included).
  Punctuation, ///< ASCII symbols or a P* category.
};

CharClass classify(char32_t c);
/// A CJK ideograph (the blocks BERT's tokenizer splits around).
bool isCjk(char32_t c);
/// Lu, Ll, Lt or changed by a case mapping.
bool isCased(char32_t c);

/// Appends `c` lower-cased, decomposed (NFD) and without nonspacing marks.
/// A capital sigma is folded by the caller, which knows its neighbours.
void appendFolded(char32_t c, std::u32string &out);

/// Decodes `bytes`; on invalid UTF-8 (bad sequence, overlong form,
/// surrogate, past U+10FFFF) returns false with its byte offset.
bool decodeUtf8(std::string_view bytes, std::u32string &out, size_t *badOffset = nullptr);
void appendUtf8(char32_t c, std::string &out);

} // namespace bertc::rt::unicode

#endif // BERTC_RUNTIME_TRAIN_UNICODE_H
