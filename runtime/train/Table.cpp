//===- Table.cpp - Labelled text from CSV, TSV or JSONL files -------------===//
#include "runtime/train/Table.h"

#include "runtime/Json.h"
#include "runtime/train/Unicode.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace bertc::rt {

namespace {

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool isIndex(const std::string &s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct Record {
  std::vector<std::string> fields;
  int64_t line;
};

/// Splits CSV text into records (quotes per RFC 4180) or TSV text at tabs.
bool splitRecords(const std::string &path, const std::string &text, bool csv,
                  std::vector<Record> &records, std::string &error) {
  size_t i = 0, n = text.size();
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0)
    i = 3;
  int64_t line = 1;
  while (i < n) {
    Record r{{}, line};
    std::string field;
    bool quoted = false, any = false;
    for (; i < n; ++i) {
      char c = text[i];
      if (quoted) {
        if (c == '"' && i + 1 < n && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else if (c == '"') {
          quoted = false;
        } else {
          if (c == '\n')
            ++line;
          field.push_back(c);
        }
        continue;
      }
      if (csv && c == '"' && field.empty()) {
        quoted = any = true;
        continue;
      }
      if (c == (csv ? ',' : '\t')) {
        r.fields.push_back(std::move(field));
        field.clear();
        any = true;
        continue;
      }
      if (c == '\r' && i + 1 < n && text[i + 1] == '\n')
        continue;
      if (c == '\n') {
        ++i;
        ++line;
        break;
      }
      field.push_back(c);
      any = true;
    }
    if (quoted) {
      error = path + ":" + std::to_string(r.line) + ": unterminated quoted field";
      return false;
    }
    if (!any && field.empty() && r.fields.empty())
      continue; // A blank line.
    r.fields.push_back(std::move(field));
    records.push_back(std::move(r));
  }
  return true;
}

bool checkUtf8(const std::string &path, int64_t line, const std::string &s, std::string &error) {
  std::u32string scratch;
  size_t bad = 0;
  if (unicode::decodeUtf8(s, scratch, &bad))
    return true;
  error = path + ":" + std::to_string(line) + ": invalid UTF-8";
  return false;
}

} // namespace

bool readLabelledTable(const std::string &path, const std::string &textColumn,
                       const std::string &labelColumn, std::vector<LabelledText> &rows,
                       std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open";
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bool wantLabel = !labelColumn.empty();
  if (endsWith(path, ".jsonl") || endsWith(path, ".json")) {
    std::istringstream lines(text);
    std::string line;
    for (int64_t lineNo = 1; std::getline(lines, line); ++lineNo) {
      if (line.find_first_not_of(" \t\r") == std::string::npos)
        continue;
      Json j;
      std::string parseError;
      std::string where = path + ":" + std::to_string(lineNo) + ": ";
      if (!Json::parse(line, j, parseError) || !j.isObject()) {
        error = where + (parseError.empty() ? "not a JSON object" : parseError);
        return false;
      }
      auto field = [&](const std::string &key, std::string &out) {
        const Json *v = j.find(key);
        if (!v) {
          error = where + "no field \"" + key + "\"";
          return false;
        }
        if (v->isString())
          out = v->string();
        else if (v->isNumber())
          out = v->isInteger() ? std::to_string(v->integer()) : v->dump();
        else {
          error = where + "\"" + key + "\" must be a string or a number";
          return false;
        }
        return true;
      };
      LabelledText row;
      row.line = lineNo;
      if (!field(textColumn, row.text) || (wantLabel && !field(labelColumn, row.label)))
        return false;
      rows.push_back(std::move(row));
    }
    return true;
  }
  bool csv = endsWith(path, ".csv");
  if (!csv && !endsWith(path, ".tsv")) {
    error = path + ": unknown format (the extension must be .csv, .tsv or .jsonl)";
    return false;
  }
  std::vector<Record> records;
  if (!splitRecords(path, text, csv, records, error))
    return false;
  bool header = !isIndex(textColumn) || (wantLabel && !isIndex(labelColumn));
  auto columnIndex = [&](const std::string &spec, size_t &out) {
    if (isIndex(spec)) {
      out = static_cast<size_t>(std::strtoull(spec.c_str(), nullptr, 10));
      return true;
    }
    if (records.empty()) {
      error = path + ": empty, no header with column \"" + spec + "\"";
      return false;
    }
    const auto &names = records.front().fields;
    auto it = std::find(names.begin(), names.end(), spec);
    if (it == names.end()) {
      error = path + ": no column \"" + spec + "\" (columns:";
      for (const std::string &name : names)
        error += " \"" + name + "\"";
      error += ")";
      return false;
    }
    out = static_cast<size_t>(it - names.begin());
    return true;
  };
  size_t textIndex = 0, labelIndex = 0;
  if (!columnIndex(textColumn, textIndex) || (wantLabel && !columnIndex(labelColumn, labelIndex)))
    return false;
  size_t need = std::max(textIndex, wantLabel ? labelIndex : 0) + 1;
  for (size_t r = header ? 1 : 0; r < records.size(); ++r) {
    const Record &rec = records[r];
    if (rec.fields.size() < need) {
      error = path + ":" + std::to_string(rec.line) + ": " + std::to_string(rec.fields.size()) +
              " fields, column " + std::to_string(need - 1) + " is needed";
      return false;
    }
    LabelledText row;
    row.line = rec.line;
    row.text = rec.fields[textIndex];
    if (wantLabel)
      row.label = rec.fields[labelIndex];
    if (!checkUtf8(path, rec.line, row.text, error) || !checkUtf8(path, rec.line, row.label, error))
      return false;
    rows.push_back(std::move(row));
  }
  return true;
}

std::vector<std::string> sortedLabels(const std::vector<LabelledText> &rows) {
  std::set<std::string> distinct;
  for (const LabelledText &r : rows)
    distinct.insert(r.label);
  std::vector<std::string> labels(distinct.begin(), distinct.end());
  auto number = [](const std::string &s, double &v) {
    char *end = nullptr;
    v = std::strtod(s.c_str(), &end);
    return !s.empty() && *end == '\0';
  };
  double a, b;
  bool numeric =
      std::all_of(labels.begin(), labels.end(), [&](const std::string &s) { return number(s, a); });
  if (numeric)
    std::sort(labels.begin(), labels.end(), [&](const std::string &x, const std::string &y) {
      number(x, a);
      number(y, b);
      return a < b;
    });
  return labels;
}

} // namespace bertc::rt
