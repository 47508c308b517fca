//===- Diagnostics.h - Source files and file:line:col errors ----*- C++ -*-===//
//
// The front end reports problems in model files as
//   file:line:col: error: message
//   <the source line>
//          ^
// This header has no MLIR dependency; MLIRGen routes MLIR's diagnostics to the
// same format through llvm::SourceMgr.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_FRONTEND_DIAGNOSTICS_H
#define BERTC_FRONTEND_DIAGNOSTICS_H

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace bertc::frontend {

/// A 1-based line and column in a model file. Line 0 means "no location".
struct SourceLoc {
  uint32_t line = 0;
  uint32_t col = 0;
};

/// The text of one model file and its line table.
class SourceFile {
public:
  SourceFile(std::string path, std::string text);

  /// Reads `path`; returns false and sets `error` to the reason on failure.
  static bool load(const std::string &path, SourceFile &out, std::string &error);
  SourceFile() = default;

  const std::string &path() const { return path_; }
  const std::string &text() const { return text_; }
  /// The text of 1-based line `line`, without its newline.
  std::string_view line(uint32_t line) const;

private:
  std::string path_;
  std::string text_;
  std::vector<size_t> lineStarts_;
};

/// Collects and prints errors for one source file.
class Diagnostics {
public:
  Diagnostics(const SourceFile &file, std::ostream &os) : file_(file), os_(os) {}

  void error(SourceLoc loc, const std::string &message);
  void note(SourceLoc loc, const std::string &message);
  unsigned errorCount() const { return errors_; }
  const SourceFile &file() const { return file_; }

private:
  void print(SourceLoc loc, const char *kind, const std::string &message);

  const SourceFile &file_;
  std::ostream &os_;
  unsigned errors_ = 0;
};

} // namespace bertc::frontend

#endif // BERTC_FRONTEND_DIAGNOSTICS_H
