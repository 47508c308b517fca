//===- PretrainData.h - BERT's pretraining instances and shards -*- C++ -*-===//
//
// Google's create_pretraining_data recipe: for each of `dupeFactor` passes
// over the (shuffled) documents, sentences are packed into segments A and B
// up to a target length (seq - 3, or with probability shortSeqProb a random
// shorter one); half the time B continues A, otherwise it is taken from a
// random other document (next_sentence_label 1) and the unused sentences
// are put back; the longer segment is truncated from a random end; then
// 15% of the tokens (never [CLS]/[SEP], at most maxPredictions) are
// predicted: 80% become [MASK], 10% a random token, 10% stay (each token
// decided alone). With whole-word masking (Google's option) the candidates
// are words, a token and the "##" pieces after it in the same segment, and
// a word is masked whole or not at all (one that would pass the count is
// skipped). All instances are shuffled. Every random choice comes from one
// seeded generator, so the same corpus and options give the same instances.
//
// Shards: a 64-byte header ("BERTCSH1", version, seq, maxPredictions,
// vocabulary size, count, corpus fingerprint, seed, dupe factor, whole-word
// masking 0/1; the rest zero) and
// fixed-size little-endian records (lengths, NSP label, uint16 tokens,
// positions and labels), read one record at a time, never loaded whole.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_PRETRAINDATA_H
#define BERTC_RUNTIME_TRAIN_PRETRAINDATA_H

#include "runtime/train/Corpus.h"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace bertc::rt {

struct PretrainOptions {
  int seq = 128;
  int maxPredictions = 20;
  double maskProbability = 0.15;
  double shortSeqProbability = 0.1;
  int dupeFactor = 10;
  bool wholeWordMask = false;
  uint64_t seed = 12345;
};

/// One pretraining example: [CLS] A [SEP] B [SEP].
struct Instance {
  std::vector<int32_t> tokens;    ///< Masked already; at most seq.
  int32_t segmentA = 0;           ///< Tokens of type 0: [CLS], A and the first [SEP].
  std::vector<int32_t> positions; ///< Sorted masked positions.
  std::vector<int32_t> labels;    ///< The original tokens there.
  int32_t nextSentenceLabel = 0;  ///< 1: B is a random segment.
};

/// Builds the shuffled instances of a corpus (documents are shuffled in place).
std::vector<Instance> createInstances(std::vector<Document> &documents, const Vocab &vocab,
                                      const PretrainOptions &options);

struct ShardHeader {
  uint32_t seq = 0, maxPredictions = 0, vocabSize = 0;
  uint64_t count = 0, fingerprint = 0, seed = 0;
  uint32_t dupeFactor = 0;
  uint32_t wholeWordMask = 0;
};

/// Writes instances as one shard, atomically (temporary file, fsync, rename).
bool writeShard(const std::string &path, const ShardHeader &header,
                const std::vector<Instance> &instances, size_t begin, size_t end,
                std::string &error);

/// A shard opened for streaming: records are read on demand.
class ShardReader {
public:
  ~ShardReader();
  /// Opens and checks `path` (magic, version, sizes, length). Errors name
  /// the file and the reason.
  static std::unique_ptr<ShardReader> open(const std::string &path, std::string &error);

  const ShardHeader &header() const { return header_; }
  uint64_t size() const { return header_.count; }
  /// Reads record `index`, checking its fields against the header.
  bool read(uint64_t index, Instance &out, std::string &error);

private:
  ShardReader() = default;
  std::string path_;
  std::FILE *file_ = nullptr;
  ShardHeader header_;
  size_t recordBytes_ = 0;
  std::vector<unsigned char> buffer_;
};

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_PRETRAINDATA_H
