//===- Checkpoint.h - Checkpoints as published, brought to a program --*- C++ -*-===//
//
// Published BERT checkpoints differ from the tensors a program names:
// Google-converted ones spell LayerNorm parameters `gamma`/`beta`; a
// `BertModel` file has no `bert.` prefix; files carry PyTorch's
// `position_ids` buffer, a copy of the tied word embeddings as
// `cls.predictions.decoder.weight` and of the MLM bias as
// `cls.predictions.decoder.bias`; weights come as F32, F16, BF16 or F64. A
// checkpoint argument may also name a HuggingFace model directory.
// readCheckpoint reads any of these and hands back the program's names and
// element types, with a report of what it did, following
// transformers' `from_pretrained` for BERT.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_CHECKPOINT_H
#define BERTC_RUNTIME_CHECKPOINT_H

#include "runtime/Program.h"
#include "runtime/Safetensors.h"

#include <map>
#include <string>
#include <vector>

namespace bertc::rt {

/// What a load did, group by group.
struct LoadReport {
  std::string file;                     ///< The safetensors file read.
  int loaded = 0;                       ///< Parameters taken from the file.
  std::vector<std::string> renamed;     ///< "stored name -> parameter name".
  std::map<std::string, int> converted; ///< Stored dtype -> tensors widened from it.
  std::vector<std::string> ignored;     ///< "stored name (why)".
  std::vector<std::string> initialised; ///< Parameters the file lacks, left as they were.

  /// True when the file held the program's tensors under their own names and
  /// types and nothing else: a load worth no report.
  bool plain() const;
  /// One line per group that is not empty ("loaded" always), e.g.
  /// "renamed 10: bert.embeddings.LayerNorm.gamma -> ...weight, ...".
  std::vector<std::string> lines() const;
};

/// The safetensors file behind a checkpoint argument: `path` itself, or
/// `path`/model.safetensors when `path` is a directory. A directory with
/// only PyTorch's pickled pytorch_model.bin, or none, is an error saying so.
bool checkpointFile(const std::string &path, std::string &file, std::string &error);

/// The HuggingFace model directory a checkpoint argument names, or "" when
/// it names a file.
std::string checkpointDirectory(const std::string &path);

/// Reads the checkpoint `path` names (checkpointFile) and renames, converts
/// and drops its tensors so that `out` holds `program`'s parameters and
/// training state under their names and dtypes (what else it holds is
/// reported as ignored and left out):
///   - `X.gamma` / `X.beta` -> `X.weight` / `X.bias`;
///   - a name the program has only under the base model's prefix `bert.`
///     (a BertModel checkpoint) gets that prefix;
///   - `cls.predictions.decoder.bias` is the MLM bias: it becomes
///     `cls.predictions.bias` when the file lacks that, else is compared;
///   - `cls.predictions.decoder.weight`, when the program ties the decoder to
///     the word embeddings, is compared with them (a difference reported);
///   - `*.position_ids` (an index buffer) is ignored;
///   - F16, BF16 and F64 tensors of float parameters are widened or narrowed
///     to the parameter's type (F32).
/// Two stored tensors naming one parameter, or an integer tensor where a
/// float parameter is, is an error naming the file and the tensors. Shapes
/// are left for the caller to check. `report` gets loaded = 0 and no
/// initialised entries: the caller fills those.
bool readCheckpoint(const std::string &path, const Program &program, SafetensorsFile &out,
                    LoadReport &report, std::string &error);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_CHECKPOINT_H
