//===- Corpus.cpp - Plain-text corpora, tokenized -------------------------===//
#include "runtime/train/Corpus.h"

#include "runtime/train/Unicode.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace bertc::rt {

namespace fs = std::filesystem;

bool listCorpusFiles(const std::vector<std::string> &paths, std::vector<std::string> &files,
                     std::string &error) {
  for (const std::string &path : paths) {
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      error = path + ": no such file or folder";
      return false;
    }
    if (fs::is_regular_file(status)) {
      files.push_back(path);
      continue;
    }
    if (!fs::is_directory(status)) {
      error = path + ": not a file or a folder";
      return false;
    }
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file(ec))
        found.push_back(it->path().string());
    if (ec) {
      error = path + ": " + ec.message();
      return false;
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return true;
}

namespace {

/// Whether the period at `dot` ends an abbreviation rather than a
/// sentence: initials ("U.S.", "J."), or a title or short form that is
/// followed by a capital ("Mr.", "Co.", "Jan.").
bool endsAbbreviation(const std::string &line, size_t dot) {
  size_t begin = line.rfind(' ', dot);
  begin = begin == std::string::npos ? 0 : begin + 1;
  std::string word = line.substr(begin, dot - begin);
  bool initials = !word.empty();
  for (size_t i = 0; i < word.size(); ++i)
    initials = initials && (i % 2 == 0 ? (word[i] >= 'A' && word[i] <= 'Z') : word[i] == '.');
  if (initials)
    return true;
  static const char *const kShortForms[] = {
      "Mr",  "Mrs", "Ms",  "Dr",  "Prof", "St",  "Jr",  "Sr",  "Co",  "Corp", "Inc", "Ltd",
      "No",  "Gen", "Gov", "Sen", "Rep",  "Rev", "vs",  "Jan", "Feb", "Mar",  "Apr", "Jun",
      "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec"};
  for (const char *f : kShortForms)
    if (word == f)
      return true;
  return false;
}

} // namespace

std::vector<std::string> splitSentences(const std::string &line) {
  std::vector<std::string> out;
  size_t start = 0, n = line.size();
  auto isClosing = [](char c) { return c == '"' || c == '\'' || c == ')' || c == ']'; };
  for (size_t i = 0; i < n; ++i) {
    if (line[i] != '.' && line[i] != '!' && line[i] != '?')
      continue;
    if (line[i] == '.' && endsAbbreviation(line, i))
      continue;
    size_t end = i + 1;
    while (end < n && isClosing(line[end]))
      ++end;
    if (end + 1 >= n || line[end] != ' ')
      continue;
    char next = line[end + 1];
    if (!(next >= 'A' && next <= 'Z') && next != '"' && next != '\'')
      continue;
    out.push_back(line.substr(start, end - start));
    start = end + 1;
    i = end;
  }
  if (start < n)
    out.push_back(line.substr(start));
  return out;
}

uint64_t corpusFingerprint(const std::vector<std::string> &files) {
  uint64_t hash = 1469598103934665603ull; // FNV-1a
  auto mix = [&](const std::string &s) {
    for (unsigned char c : s) {
      hash ^= c;
      hash *= 1099511628211ull;
    }
    hash ^= 0xFF;
    hash *= 1099511628211ull;
  };
  for (const std::string &f : files) {
    std::error_code ec;
    auto size = fs::file_size(f, ec);
    mix(f);
    mix(ec ? std::string("?") : std::to_string(size));
  }
  return hash;
}

bool readCorpus(const std::vector<std::string> &paths, const Tokenizer &tokenizer,
                std::vector<Document> &documents, CorpusStats &stats, std::string &error) {
  std::vector<std::string> files;
  if (!listCorpusFiles(paths, files, error))
    return false;
  std::vector<int32_t> ids;
  std::u32string decoded;
  for (const std::string &file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      error = file + ": cannot open";
      return false;
    }
    ++stats.files;
    documents.emplace_back();
    std::string line;
    for (int64_t lineNo = 1; std::getline(in, line); ++lineNo) {
      stats.bytes += static_cast<int64_t>(line.size()) + 1;
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) {
        if (!documents.back().sentences.empty())
          documents.emplace_back();
        continue;
      }
      decoded.clear();
      size_t bad = 0;
      if (!unicode::decodeUtf8(line, decoded, &bad)) {
        error = file + ":" + std::to_string(lineNo) + ": invalid UTF-8 at byte " +
                std::to_string(bad) + " of the line";
        return false;
      }
      for (const std::string &sentence : splitSentences(line)) {
        ids.clear();
        if (!tokenizer.encode(sentence, ids, error))
          return false; // Not reached: the line is valid UTF-8.
        if (ids.empty())
          continue;
        stats.tokens += static_cast<int64_t>(ids.size());
        ++stats.sentences;
        documents.back().sentences.push_back(ids);
      }
    }
    if (in.bad()) {
      error = file + ": read error";
      return false;
    }
    if (documents.back().sentences.empty())
      documents.pop_back();
  }
  stats.documents = static_cast<int64_t>(documents.size());
  stats.fingerprint = corpusFingerprint(files);
  if (documents.empty()) {
    error = "the corpus has no text (" + std::to_string(files.size()) + " files read)";
    return false;
  }
  return true;
}

} // namespace bertc::rt
