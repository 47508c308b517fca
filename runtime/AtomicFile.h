//===- AtomicFile.h - Files written whole or not at all ---------*- C++ -*-===//
//
// A crash while saving must leave the old file or the new one, never a
// torn one: the bytes go to a temporary file beside the target, which is
// fsynced and renamed over it, and the directory is fsynced so that the
// rename lasts.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_ATOMICFILE_H
#define BERTC_RUNTIME_ATOMICFILE_H

#include <string>
#include <string_view>
#include <vector>

namespace bertc::rt {

/// Writes the concatenation of `parts` to `path` atomically. On failure
/// returns false with `error` naming the path and the reason.
bool writeFileAtomically(const std::string &path, const std::vector<std::string_view> &parts,
                         std::string &error);

/// fsyncs the directory `dir` (after renames in it); failures are ignored.
void syncDirectory(const std::string &dir);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_ATOMICFILE_H
