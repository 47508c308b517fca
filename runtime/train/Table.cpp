//===- Table.cpp - Labelled text from CSV, TSV or JSONL files -------------===//
#include "runtime/train/Table.h"

#include "runtime/Json.h"
#include "runtime/train/Unicode.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
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


/// Latin-1 bytes as UTF-8; a C1 control byte (0x80-0x9F) is no Latin-1 text
/// but the mark of another encoding (Windows-1252's quotes, UTF-16).
bool latin1ToUtf8(const std::string &path, const std::string &in, std::string &out,
                  std::string &error) {
  out.clear();
  int64_t line = 1;
  for (unsigned char c : in) {
    if (c == '\n')
      ++line;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (c < 0xA0) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", c);
      error = path + ":" + std::to_string(line) + ": byte " + hex +
              " is neither UTF-8 nor Latin-1 text (a C1 control; another encoding such as "
              "Windows-1252?): convert the file to UTF-8";
      return false;
    }
    unicode::appendUtf8(c, out);
  }
  return true;
}

/// One ARFF attribute: its name and, when nominal, its values.
struct ArffAttribute {
  std::string name, type;
  std::vector<std::string> values; ///< Nominal values; empty for other types.
};

/// Reads the value starting at `i` of `line` (quoted with ' or " and
/// backslash escapes, or bare up to the next comma), skipping blanks around
/// it. `quoted` tells a quoted "?" from the missing value.
bool arffValue(const std::string &line, size_t &i, std::string &out, bool &quoted,
               std::string &why) {
  out.clear();
  quoted = false;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
    ++i;
  if (i < line.size() && (line[i] == '\'' || line[i] == '"')) {
    char q = line[i++];
    quoted = true;
    for (; i < line.size() && line[i] != q; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        char e = line[++i];
        out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e);
      } else {
        out.push_back(line[i]);
      }
    }
    if (i == line.size()) {
      why = "unterminated quoted value";
      return false;
    }
    ++i;
  } else {
    size_t end = line.find(',', i);
    if (end == std::string::npos)
      end = line.size();
    out = line.substr(i, end - i);
    while (!out.empty() && (out.back() == ' ' || out.back() == '\t' || out.back() == '\r'))
      out.pop_back();
    i = end;
  }
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
    ++i;
  if (i < line.size() && line[i] != ',') {
    why = "unexpected text after a value";
    return false;
  }
  return true;
}

std::string lower(std::string s) {
  for (char &c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Weka's ARFF: `@attribute NAME TYPE` lines, then `@data` and one record
/// per line, values in the attributes' order; `%` starts a comment line.
bool readArff(const std::string &path, const std::string &text, const std::string &textColumn,
              const std::string &labelColumn, std::vector<LabelledText> &rows,
              std::string &error) {
  std::vector<ArffAttribute> attributes;
  std::istringstream lines(text);
  std::string line;
  bool data = false;
  size_t textIndex = 0, labelIndex = 0;
  const bool wantLabel = !labelColumn.empty();
  auto column = [&](const std::string &spec, size_t &out) {
    for (size_t a = 0; a < attributes.size(); ++a)
      if (attributes[a].name == spec || (isIndex(spec) && std::to_string(a) == spec)) {
        out = a;
        return true;
      }
    error = path + ": no attribute \"" + spec + "\" (attributes:";
    for (const ArffAttribute &a : attributes)
      error += " \"" + a.name + "\"";
    error += ")";
    return false;
  };
  for (int64_t lineNo = 1; std::getline(lines, line); ++lineNo) {
    std::string where = path + ":" + std::to_string(lineNo) + ": ";
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '%')
      continue;
    if (!data) {
      std::istringstream words(line.substr(first));
      std::string keyword;
      words >> keyword;
      keyword = lower(keyword);
      if (keyword == "@relation")
        continue;
      if (keyword == "@data") {
        if (!column(textColumn, textIndex) || (wantLabel && !column(labelColumn, labelIndex)))
          return false;
        data = true;
        continue;
      }
      if (keyword != "@attribute") {
        error = where + "expected @relation, @attribute or @data";
        return false;
      }
      std::string rest = line.substr(first + keyword.size());
      size_t i = 0;
      ArffAttribute a;
      bool quoted = false;
      std::string why;
      // The name ends at a blank unless quoted.
      while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t'))
        ++i;
      if (i < rest.size() && (rest[i] == '\'' || rest[i] == '"')) {
        size_t end = rest.find(rest[i], i + 1);
        if (end == std::string::npos) {
          error = where + "unterminated attribute name";
          return false;
        }
        a.name = rest.substr(i + 1, end - i - 1);
        i = end + 1;
      } else {
        size_t end = rest.find_first_of(" \t", i);
        a.name = rest.substr(i, end == std::string::npos ? std::string::npos : end - i);
        i = end == std::string::npos ? rest.size() : end;
      }
      std::string type = rest.substr(i);
      type.erase(0, type.find_first_not_of(" \t"));
      type.erase(type.find_last_not_of(" \t\r") + 1);
      if (a.name.empty() || type.empty()) {
        error = where + "an attribute needs a name and a type";
        return false;
      }
      if (type.front() == '{') {
        if (type.back() != '}') {
          error = where + "unterminated list of nominal values";
          return false;
        }
        std::string list = type.substr(1, type.size() - 2);
        for (size_t k = 0; k <= list.size();) {
          std::string v;
          if (!arffValue(list, k, v, quoted, why)) {
            error = where + why;
            return false;
          }
          a.values.push_back(v);
          ++k; // Past the comma.
        }
        a.type = "nominal";
      } else {
        a.type = lower(type.substr(0, type.find_first_of(" \t")));
        if (a.type == "relational") {
          error = where + "relational attributes are not supported";
          return false;
        }
      }
      attributes.push_back(std::move(a));
      continue;
    }
    if (line[first] == '{') {
      error = where + "sparse records are not supported";
      return false;
    }
    std::vector<std::string> values;
    std::vector<bool> missing;
    for (size_t i = first; i <= line.size();) {
      std::string v, why;
      bool quoted = false;
      if (!arffValue(line, i, v, quoted, why)) {
        error = where + why + " (value " + std::to_string(values.size() + 1) + ")";
        return false;
      }
      missing.push_back(!quoted && v == "?");
      values.push_back(std::move(v));
      ++i; // Past the comma.
    }
    if (values.size() != attributes.size()) {
      error = where + std::to_string(values.size()) + " values, the header declares " +
              std::to_string(attributes.size()) + " attributes";
      return false;
    }
    LabelledText row;
    row.line = lineNo;
    row.text = values[textIndex];
    if (missing[textIndex]) {
      error = where + "the text (" + attributes[textIndex].name + ") is missing";
      return false;
    }
    if (wantLabel) {
      const ArffAttribute &a = attributes[labelIndex];
      row.label = values[labelIndex];
      if (missing[labelIndex]) {
        error = where + "the label (" + a.name + ") is missing";
        return false;
      }
      if (!a.values.empty() &&
          std::find(a.values.begin(), a.values.end(), row.label) == a.values.end()) {
        error = where + a.name + " \"" + row.label + "\" is none of its declared values {";
        for (size_t k = 0; k < a.values.size(); ++k)
          error += (k ? "," : "") + a.values[k];
        error += "}";
        return false;
      }
    }
    rows.push_back(std::move(row));
  }
  if (!data) {
    error = path + ": no @data section";
    return false;
  }
  return true;
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
  if (endsWith(path, ".arff")) {
    // Weka writes Latin-1; a file that is valid UTF-8 is read as UTF-8.
    std::u32string scratch;
    size_t bad = 0;
    std::string utf8;
    if (!unicode::decodeUtf8(text, scratch, &bad)) {
      if (!latin1ToUtf8(path, text, utf8, error))
        return false;
      text = std::move(utf8);
    }
    return readArff(path, text, textColumn, labelColumn, rows, error);
  }
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
    error = path + ": unknown format (the extension must be .csv, .tsv, .jsonl or .arff)";
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
