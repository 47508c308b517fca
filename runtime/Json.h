//===- Json.h - A small JSON value, parser and writer -----------*- C++ -*-===//
//
// Enough JSON for the runtime's own formats: the compiled program, the
// safetensors header and JSONL inputs. Parse errors name the byte offset.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_JSON_H
#define BERTC_RUNTIME_JSON_H

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bertc::rt {

class Json {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Json() = default;
  Json(bool b) : kind_(Kind::Bool), bool_(b) {}
  Json(double d) : kind_(Kind::Number), number_(d) {}
  Json(int64_t i) : kind_(Kind::Number), number_(static_cast<double>(i)) {}
  Json(int i) : kind_(Kind::Number), number_(i) {}
  Json(std::string s) : kind_(Kind::String), string_(std::move(s)) {}
  Json(const char *s) : kind_(Kind::String), string_(s) {}
  static Json array() {
    Json j;
    j.kind_ = Kind::Array;
    return j;
  }
  static Json object() {
    Json j;
    j.kind_ = Kind::Object;
    return j;
  }

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::Null; }
  bool isNumber() const { return kind_ == Kind::Number; }
  bool isString() const { return kind_ == Kind::String; }
  bool isArray() const { return kind_ == Kind::Array; }
  bool isObject() const { return kind_ == Kind::Object; }
  bool isBool() const { return kind_ == Kind::Bool; }

  double number() const { return number_; }
  bool boolean() const { return bool_; }
  const std::string &string() const { return string_; }
  /// True when the number is an integer that fits in int64.
  bool isInteger() const;
  int64_t integer() const { return static_cast<int64_t>(number_); }

  std::vector<Json> &items() { return items_; }
  const std::vector<Json> &items() const { return items_; }
  /// Object members in key order.
  const std::vector<std::pair<std::string, Json>> &members() const { return members_; }

  void push(Json v) { items_.push_back(std::move(v)); }
  Json &operator[](const std::string &key);
  /// Removes the member `key` if there is one.
  void erase(const std::string &key);
  /// The member `key`, or null when absent (or this is not an object).
  const Json *find(const std::string &key) const;

  std::string dump() const;

  /// Parses `text` (one value, surrounded by whitespace only). On failure
  /// returns false and sets `error` to the reason and byte offset.
  static bool parse(std::string_view text, Json &out, std::string &error);
  /// Reads and parses the file `path` as a JSON object; errors name the
  /// path and the reason (cannot open, not JSON, not an object).
  static bool readObject(const std::string &path, Json &out, std::string &error);

private:
  void dumpTo(std::string &out) const;

  Kind kind_ = Kind::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

} // namespace bertc::rt

#endif // BERTC_RUNTIME_JSON_H
