//===- Table.h - Labelled text from CSV, TSV, JSONL or ARFF files -*- C++ -*-===//
//
// The format comes from the extension: .csv (RFC 4180: quoted fields may
// hold commas, doubled quotes and newlines; a UTF-8 byte-order mark is
// skipped), .tsv (fields split at tabs, no quoting) or .jsonl (one object
// per line). A column is a header name, or a 0-based index for CSV/TSV files
// without a header (when both columns are indices, the first line is data),
// or .arff (Weka's ARFF: the columns are attributes, by name or 0-based
// index; quoted values with backslash escapes; a nominal label must be one
// of its declared values; Latin-1, as Weka writes it, unless the file is
// valid UTF-8; sparse records and relational attributes are refused).
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_TABLE_H
#define BERTC_RUNTIME_TRAIN_TABLE_H

#include <cstdint>
#include <string>
#include <vector>

namespace bertc::rt {

struct LabelledText {
  std::string text;
  std::string label; ///< As spelled in the file ("" when no label column).
  int64_t line = 0;  ///< Where the row starts, for messages.
};

/// Reads `path`. `labelColumn` may be empty (texts only). Errors name the
/// file, the line and the reason (unknown column, short row, unterminated
/// quote, invalid UTF-8, a label that is not a string or number; for ARFF a
/// damaged record, an undeclared label, a byte of another encoding).
bool readLabelledTable(const std::string &path, const std::string &textColumn,
                       const std::string &labelColumn, std::vector<LabelledText> &rows,
                       std::string &error);

/// The distinct labels in class-id order: numerically when every label is a
/// number, otherwise as strings.
std::vector<std::string> sortedLabels(const std::vector<LabelledText> &rows);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_TABLE_H
