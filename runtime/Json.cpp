//===- Json.cpp - A small JSON value, parser and writer -------------------===//
#include "runtime/Json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace bertc::rt {

bool Json::isInteger() const {
  return kind_ == Kind::Number && std::isfinite(number_) && std::floor(number_) == number_ &&
         std::fabs(number_) < 9.2e18;
}

Json &Json::operator[](const std::string &key) {
  if (kind_ != Kind::Object)
    *this = object();
  for (auto &[k, v] : members_)
    if (k == key)
      return v;
  members_.emplace_back(key, Json());
  return members_.back().second;
}

void Json::erase(const std::string &key) {
  for (auto it = members_.begin(); it != members_.end(); ++it)
    if (it->first == key) {
      members_.erase(it);
      return;
    }
}

const Json *Json::find(const std::string &key) const {
  if (kind_ != Kind::Object)
    return nullptr;
  for (const auto &[k, v] : members_)
    if (k == key)
      return &v;
  return nullptr;
}

static void dumpString(const std::string &s, std::string &out) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  out += '"';
}

void Json::dumpTo(std::string &out) const {
  switch (kind_) {
  case Kind::Null:
    out += "null";
    return;
  case Kind::Bool:
    out += bool_ ? "true" : "false";
    return;
  case Kind::Number: {
    char buf[32];
    if (isInteger())
      std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(number_));
    else // The shortest spelling that reads back as the same double.
      for (int digits = 15; digits <= 17; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, number_);
        if (std::strtod(buf, nullptr) == number_)
          break;
      }
    out += buf;
    return;
  }
  case Kind::String:
    dumpString(string_, out);
    return;
  case Kind::Array:
    out += '[';
    for (size_t i = 0; i < items_.size(); ++i) {
      if (i)
        out += ',';
      items_[i].dumpTo(out);
    }
    out += ']';
    return;
  case Kind::Object:
    out += '{';
    for (size_t i = 0; i < members_.size(); ++i) {
      if (i)
        out += ',';
      dumpString(members_[i].first, out);
      out += ':';
      members_[i].second.dumpTo(out);
    }
    out += '}';
    return;
  }
}

std::string Json::dump() const {
  std::string out;
  dumpTo(out);
  return out;
}

namespace {

class Parser {
public:
  explicit Parser(std::string_view text) : s_(text) {}

  bool parseDocument(Json &out, std::string &error) {
    skip();
    if (!value(out, 0)) {
      error = error_;
      return false;
    }
    skip();
    if (pos_ != s_.size()) {
      error = "unexpected text after the JSON value at byte " + std::to_string(pos_);
      return false;
    }
    return true;
  }

private:
  bool fail(const std::string &what) {
    error_ = what + " at byte " + std::to_string(pos_);
    return false;
  }
  void skip() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word)
      return false;
    pos_ += word.size();
    return true;
  }

  bool value(Json &out, int depth) {
    if (depth > 64)
      return fail("JSON nested too deeply");
    if (pos_ >= s_.size())
      return fail("unexpected end of JSON");
    char c = s_[pos_];
    if (c == '{')
      return object(out, depth);
    if (c == '[')
      return array(out, depth);
    if (c == '"') {
      std::string str;
      if (!string(str))
        return false;
      out = Json(std::move(str));
      return true;
    }
    if (literal("true")) {
      out = Json(true);
      return true;
    }
    if (literal("false")) {
      out = Json(false);
      return true;
    }
    if (literal("null")) {
      out = Json();
      return true;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
      return number(out);
    return fail(std::string("unexpected character '") + c + "'");
  }

  bool number(Json &out) {
    size_t start = pos_;
    if (s_[pos_] == '-')
      ++pos_;
    auto digits = [&] {
      size_t b = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
        ++pos_;
      return pos_ > b;
    };
    size_t first = pos_;
    if (!digits())
      return fail("malformed number");
    if (pos_ - first > 1 && s_[first] == '0')
      return fail("malformed number (leading zero)");
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!digits())
        return fail("malformed number");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-'))
        ++pos_;
      if (!digits())
        return fail("malformed number");
    }
    std::string text(s_.substr(start, pos_ - start));
    out = Json(std::strtod(text.c_str(), nullptr));
    return true;
  }

  static void appendUtf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool hex4(uint32_t &v) {
    if (pos_ + 4 > s_.size())
      return fail("truncated \\u escape");
    v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        return fail("bad \\u escape");
    }
    return true;
  }

  bool string(std::string &out) {
    ++pos_; // opening quote
    for (;;) {
      if (pos_ >= s_.size())
        return fail("unterminated string");
      char c = s_[pos_++];
      if (c == '"')
        return true;
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size())
        return fail("unterminated string");
      char e = s_[pos_++];
      switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t cp;
        if (!hex4(cp))
          return false;
        if (cp >= 0xD800 && cp < 0xDC00) {
          uint32_t lo;
          if (!literal("\\u") || !hex4(lo) || lo < 0xDC00 || lo >= 0xE000)
            return fail("unpaired surrogate in \\u escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        appendUtf8(out, cp);
        break;
      }
      default:
        return fail(std::string("bad escape '\\") + e + "'");
      }
    }
  }

  bool array(Json &out, int depth) {
    ++pos_;
    out = Json::array();
    skip();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip();
      Json item;
      if (!value(item, depth + 1))
        return false;
      out.push(std::move(item));
      skip();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool object(Json &out, int depth) {
    ++pos_;
    out = Json::object();
    skip();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip();
      if (pos_ >= s_.size() || s_[pos_] != '"')
        return fail("expected a member name");
      std::string key;
      if (!string(key))
        return false;
      if (out.find(key))
        return fail("duplicate member '" + key + "'");
      skip();
      if (pos_ >= s_.size() || s_[pos_] != ':')
        return fail("expected ':'");
      ++pos_;
      skip();
      Json v;
      if (!value(v, depth + 1))
        return false;
      out[key] = std::move(v);
      skip();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

} // namespace

bool Json::parse(std::string_view text, Json &out, std::string &error) {
  return Parser(text).parseDocument(out, error);
}

bool Json::readObject(const std::string &path, Json &out, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open";
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string parseError;
  if (!parse(text.str(), out, parseError)) {
    error = path + ": not JSON: " + parseError;
    return false;
  }
  if (!out.isObject()) {
    error = path + ": not a JSON object";
    return false;
  }
  return true;
}

} // namespace bertc::rt
