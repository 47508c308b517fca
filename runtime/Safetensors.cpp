//===- Safetensors.cpp - Reading and writing .safetensors files -----------===//
#include "runtime/Safetensors.h"

#include "runtime/AtomicFile.h"

#include "runtime/Json.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

namespace bertc::rt {

namespace {

/// Header sizes past this are refused before anything is allocated.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

bool fail(std::string &error, const std::string &path, const std::string &reason) {
  error = path + ": " + reason;
  return false;
}

} // namespace

bool readSafetensors(const std::string &path, SafetensorsFile &out, std::string &error) {
  out = SafetensorsFile();
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return fail(error, path, std::string("cannot open: ") + std::strerror(errno));
  struct Closer {
    FILE *f;
    ~Closer() { std::fclose(f); }
  } closer{f};
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
    return fail(error, path, "not a regular file");
  uint64_t fileSize = static_cast<uint64_t>(st.st_size);
  unsigned char lenBytes[8];
  if (fileSize < 8 || std::fread(lenBytes, 1, 8, f) != 8)
    return fail(error, path, "truncated: no 8-byte header length");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = (headerLen << 8) | lenBytes[i];
  if (headerLen > kMaxHeaderBytes)
    return fail(error, path, "header length " + std::to_string(headerLen) + " is implausible");
  if (headerLen > fileSize - 8)
    return fail(error, path,
                "header length " + std::to_string(headerLen) + " runs past the end of the file (" +
                    std::to_string(fileSize) + " bytes)");
  std::string header(headerLen, '\0');
  if (std::fread(header.data(), 1, headerLen, f) != headerLen)
    return fail(error, path, "cannot read the header");
  Json json;
  std::string jsonError;
  if (!Json::parse(header, json, jsonError))
    return fail(error, path, "header is not valid JSON: " + jsonError);
  if (!json.isObject())
    return fail(error, path, "header is not a JSON object");
  uint64_t dataSize = fileSize - 8 - headerLen;

  struct Range {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Range> ranges;
  for (const auto &[name, entry] : json.members()) {
    if (name == "__metadata__") {
      if (!entry.isObject())
        return fail(error, path, "__metadata__ is not an object");
      for (const auto &[k, v] : entry.members()) {
        if (!v.isString())
          return fail(error, path, "__metadata__ value '" + k + "' is not a string");
        out.metadata[k] = v.string();
      }
      continue;
    }
    std::string where = "tensor '" + name + "': ";
    if (!entry.isObject())
      return fail(error, path, where + "entry is not an object");
    const Json *dtype = entry.find("dtype");
    const Json *shape = entry.find("shape");
    const Json *offsets = entry.find("data_offsets");
    if (!dtype || !dtype->isString() || !shape || !shape->isArray() || !offsets ||
        !offsets->isArray() || offsets->items().size() != 2)
      return fail(error, path, where + "needs dtype, shape and data_offsets [begin, end]");
    StoredTensor t;
    if (!parseDType(dtype->string(), t.dtype))
      return fail(error, path, where + "unsupported dtype " + dtype->string());
    uint64_t elements = 1;
    for (const Json &d : shape->items()) {
      if (!d.isInteger() || d.integer() < 0)
        return fail(error, path, where + "shape entries must be non-negative integers");
      t.shape.push_back(d.integer());
      if (d.integer() != 0 && elements > (uint64_t(1) << 48) / d.integer())
        return fail(error, path, where + "shape is too large");
      elements *= d.integer();
    }
    const Json &b = offsets->items()[0], &e = offsets->items()[1];
    if (!b.isInteger() || !e.isInteger() || b.integer() < 0 || e.integer() < b.integer())
      return fail(error, path, where + "data_offsets must be integers with begin <= end");
    uint64_t begin = b.integer(), end = e.integer();
    if (end > dataSize)
      return fail(error, path,
                  where + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                      "] run past the data (" + std::to_string(dataSize) + " bytes)");
    if (end - begin != elements * dtypeSize(t.dtype))
      return fail(error, path,
                  where + "data_offsets span " + std::to_string(end - begin) +
                      " bytes but the shape needs " +
                      std::to_string(elements * dtypeSize(t.dtype)));
    ranges.push_back({begin, end, name});
    out.tensors[name] = std::move(t);
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const Range &a, const Range &b) { return a.begin < b.begin; });
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].begin < ranges[i - 1].end)
      return fail(error, path,
                  "tensors '" + ranges[i - 1].name + "' and '" + ranges[i].name + "' overlap");
  for (const Range &r : ranges) {
    StoredTensor &t = out.tensors[r.name];
    t.data.resize(r.end - r.begin);
    if (std::fseek(f, static_cast<long>(8 + headerLen + r.begin), SEEK_SET) != 0 ||
        std::fread(t.data.data(), 1, t.data.size(), f) != t.data.size())
      return fail(error, path, "tensor '" + r.name + "': cannot read its data");
  }
  return true;
}

bool writeSafetensors(const std::string &path, const std::vector<TensorView> &tensors,
                      const std::map<std::string, std::string> &metadata, std::string &error) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json meta = Json::object();
    for (const auto &[k, v] : metadata)
      meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const TensorView &t : tensors) {
    uint64_t bytes = dtypeSize(t.dtype);
    Json shape = Json::array();
    for (int64_t d : t.shape) {
      shape.push(Json(d));
      bytes *= d;
    }
    Json entry = Json::object();
    entry["dtype"] = dtypeName(t.dtype);
    entry["shape"] = std::move(shape);
    Json offsets = Json::array();
    offsets.push(Json(static_cast<int64_t>(offset)));
    offsets.push(Json(static_cast<int64_t>(offset + bytes)));
    entry["data_offsets"] = std::move(offsets);
    header[t.name] = std::move(entry);
    offset += bytes;
  }
  std::string text = header.dump();
  // Pad with spaces so the data starts 8-byte aligned, as writers commonly do.
  while ((8 + text.size()) % 8 != 0)
    text.push_back(' ');

  unsigned char len[8];
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i)
    len[i] = static_cast<unsigned char>(n >> (8 * i));
  std::vector<std::string_view> parts = {
      std::string_view(reinterpret_cast<const char *>(len), 8), text};
  for (const TensorView &t : tensors) {
    uint64_t bytes = dtypeSize(t.dtype);
    for (int64_t d : t.shape)
      bytes *= d;
    parts.emplace_back(static_cast<const char *>(t.data), bytes);
  }
  return writeFileAtomically(path, parts, error);
}

} // namespace bertc::rt
