//===- Safetensors.h - Reading and writing .safetensors files ---*- C++ -*-===//
//
// Format: 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
// {...}}, then the tensor bytes; offsets count from the byte after the header.
// The reader validates everything before any tensor is used; the writer
// writes a temporary file, fsyncs it and renames it over the target, so a
// crash leaves either the old file or the new one.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_SAFETENSORS_H
#define BERTC_RUNTIME_SAFETENSORS_H

#include "runtime/Program.h"

#include <map>
#include <string>
#include <vector>

namespace bertc::rt {

struct StoredTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<char> data;
};

struct SafetensorsFile {
  std::map<std::string, StoredTensor> tensors;
  std::map<std::string, std::string> metadata;
};

/// Reads and validates `path`. On failure returns false with `error` naming
/// the file, the tensor (when one is at fault) and the reason.
bool readSafetensors(const std::string &path, SafetensorsFile &out, std::string &error);

/// A tensor to write: `data` points at `shape`'s elements of `dtype`.
struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void *data;
};

/// Writes atomically (temporary file, fsync, rename).
bool writeSafetensors(const std::string &path, const std::vector<TensorView> &tensors,
                      const std::map<std::string, std::string> &metadata, std::string &error);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_SAFETENSORS_H
