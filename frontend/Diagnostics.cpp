//===- Diagnostics.cpp - Source files and file:line:col errors ------------===//
#include "frontend/Diagnostics.h"

#include <fstream>
#include <sstream>

namespace bertc::frontend {

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
  lineStarts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n')
      lineStarts_.push_back(i + 1);
}

bool SourceFile::load(const std::string &path, SourceFile &out, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "'";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    error = "cannot read '" + path + "'";
    return false;
  }
  out = SourceFile(path, ss.str());
  return true;
}

std::string_view SourceFile::line(uint32_t line) const {
  if (line == 0 || line > lineStarts_.size())
    return {};
  size_t begin = lineStarts_[line - 1];
  size_t end = text_.find('\n', begin);
  if (end == std::string::npos)
    end = text_.size();
  if (end > begin && text_[end - 1] == '\r')
    --end;
  return std::string_view(text_).substr(begin, end - begin);
}

void Diagnostics::error(SourceLoc loc, const std::string &message) {
  ++errors_;
  print(loc, "error", message);
}

void Diagnostics::note(SourceLoc loc, const std::string &message) { print(loc, "note", message); }

void Diagnostics::print(SourceLoc loc, const char *kind, const std::string &message) {
  if (loc.line == 0) {
    os_ << file_.path() << ": " << kind << ": " << message << "\n";
    return;
  }
  os_ << file_.path() << ":" << loc.line << ":" << loc.col << ": " << kind << ": " << message
      << "\n";
  std::string_view text = file_.line(loc.line);
  os_ << text << "\n";
  // Keep tabs so the caret lines up under the same column.
  std::string caret;
  for (uint32_t i = 1; i < loc.col && i <= text.size(); ++i)
    caret += text[i - 1] == '\t' ? '\t' : ' ';
  os_ << caret << "^\n";
}

} // namespace bertc::frontend
