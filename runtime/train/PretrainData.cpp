//===- PretrainData.cpp - BERT's pretraining instances and shards ---------===//
#include "runtime/train/PretrainData.h"

#include "runtime/AtomicFile.h"

#include "runtime/train/Random.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace bertc::rt {

namespace {

/// Drops tokens from the longer segment, at a random end, until both fit.
void truncatePair(std::vector<int32_t> &a, std::vector<int32_t> &b, size_t maxTokens, Random &rng) {
  while (a.size() + b.size() > maxTokens) {
    std::vector<int32_t> &longer = a.size() > b.size() ? a : b;
    if (rng.uniform() < 0.5)
      longer.erase(longer.begin());
    else
      longer.pop_back();
  }
}

void maskTokens(Instance &inst, const Vocab &vocab, const PretrainOptions &o, Random &rng) {
  // The candidates: single tokens, or with whole-word masking each word's
  // positions (a "##" piece joins the candidate before it).
  std::vector<std::vector<int32_t>> candidates;
  for (size_t i = 0; i < inst.tokens.size(); ++i) {
    int32_t t = inst.tokens[i];
    if (t == vocab.cls || t == vocab.sep)
      continue;
    if (o.wholeWordMask && !candidates.empty() && vocab.token(t).rfind("##", 0) == 0 &&
        static_cast<size_t>(candidates.back().back()) + 1 == i)
      candidates.back().push_back(static_cast<int32_t>(i));
    else
      candidates.push_back({static_cast<int32_t>(i)});
  }
  rng.shuffle(candidates);
  // Rounded half to even, as Python's round().
  auto wanted = static_cast<size_t>(std::nearbyint(inst.tokens.size() * o.maskProbability));
  size_t count = std::min<size_t>(o.maxPredictions, std::max<size_t>(1, wanted));
  std::vector<int32_t> chosen;
  std::vector<int32_t> masked = inst.tokens;
  // Decisions in shuffled order, as the reference draws them.
  for (const std::vector<int32_t> &word : candidates) {
    if (chosen.size() >= count)
      break;
    if (chosen.size() + word.size() > count)
      continue;
    for (int32_t pos : word) {
      chosen.push_back(pos);
      int32_t replacement;
      if (rng.uniform() < 0.8)
        replacement = vocab.mask;
      else if (rng.uniform() < 0.5)
        replacement = inst.tokens[pos];
      else
        replacement = static_cast<int32_t>(rng.between(0, vocab.size() - 1));
      masked[pos] = replacement;
    }
  }
  std::sort(chosen.begin(), chosen.end());
  for (int32_t pos : chosen) {
    inst.positions.push_back(pos);
    inst.labels.push_back(inst.tokens[pos]);
  }
  inst.tokens = std::move(masked);
}

void instancesOfDocument(const std::vector<Document> &docs, size_t index, const Vocab &vocab,
                         const PretrainOptions &o, Random &rng, std::vector<Instance> &out) {
  const auto &doc = docs[index].sentences;
  const size_t maxTokens = static_cast<size_t>(o.seq - 3);
  size_t target = maxTokens;
  if (rng.uniform() < o.shortSeqProbability)
    target = static_cast<size_t>(rng.between(2, static_cast<int64_t>(maxTokens)));
  std::vector<const std::vector<int32_t> *> chunk;
  size_t chunkLength = 0;
  for (size_t i = 0; i < doc.size(); ++i) {
    chunk.push_back(&doc[i]);
    chunkLength += doc[i].size();
    if (i + 1 != doc.size() && chunkLength < target)
      continue;
    size_t aEnd = chunk.size() >= 2 ? static_cast<size_t>(rng.between(1, chunk.size() - 1)) : 1;
    std::vector<int32_t> a, b;
    for (size_t j = 0; j < aEnd; ++j)
      a.insert(a.end(), chunk[j]->begin(), chunk[j]->end());
    bool randomNext = false;
    if (chunk.size() == 1 || rng.uniform() < 0.5) {
      randomNext = true;
      size_t targetB = target > a.size() ? target - a.size() : 1;
      size_t other = index;
      for (int attempt = 0; attempt < 10 && other == index; ++attempt)
        other = static_cast<size_t>(rng.between(0, static_cast<int64_t>(docs.size()) - 1));
      const auto &randomDoc = docs[other].sentences;
      size_t start =
          static_cast<size_t>(rng.between(0, static_cast<int64_t>(randomDoc.size()) - 1));
      for (size_t j = start; j < randomDoc.size() && b.size() < targetB; ++j)
        b.insert(b.end(), randomDoc[j].begin(), randomDoc[j].end());
      // The sentences not used for A go back to be read again.
      i -= chunk.size() - aEnd;
    } else {
      for (size_t j = aEnd; j < chunk.size(); ++j)
        b.insert(b.end(), chunk[j]->begin(), chunk[j]->end());
    }
    truncatePair(a, b, maxTokens, rng);
    chunk.clear();
    chunkLength = 0;
    if (a.empty() || b.empty())
      continue;
    Instance inst;
    inst.tokens.push_back(vocab.cls);
    inst.tokens.insert(inst.tokens.end(), a.begin(), a.end());
    inst.tokens.push_back(vocab.sep);
    inst.segmentA = static_cast<int32_t>(inst.tokens.size());
    inst.tokens.insert(inst.tokens.end(), b.begin(), b.end());
    inst.tokens.push_back(vocab.sep);
    inst.nextSentenceLabel = randomNext ? 1 : 0;
    maskTokens(inst, vocab, o, rng);
    out.push_back(std::move(inst));
  }
}

constexpr char kMagic[8] = {'B', 'E', 'R', 'T', 'C', 'S', 'H', '1'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 64;

size_t recordBytes(const ShardHeader &h) { return 8 + 2 * h.seq + 4 * h.maxPredictions; }

template <typename T> void put(unsigned char *&p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i)
    *p++ = static_cast<unsigned char>(static_cast<uint64_t>(v) >> (8 * i));
}

template <typename T> T get(const unsigned char *&p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<uint64_t>(*p++) << (8 * i);
  return static_cast<T>(v);
}

} // namespace

std::vector<Instance> createInstances(std::vector<Document> &documents, const Vocab &vocab,
                                      const PretrainOptions &options) {
  Random rng(options.seed);
  rng.shuffle(documents);
  std::vector<Instance> out;
  for (int pass = 0; pass < options.dupeFactor; ++pass)
    for (size_t d = 0; d < documents.size(); ++d)
      instancesOfDocument(documents, d, vocab, options, rng, out);
  rng.shuffle(out);
  return out;
}

bool writeShard(const std::string &path, const ShardHeader &header,
                const std::vector<Instance> &instances, size_t begin, size_t end,
                std::string &error) {
  if (header.vocabSize > 65536) {
    error = path + ": shards hold 16-bit token ids; the vocabulary has " +
            std::to_string(header.vocabSize) + " tokens";
    return false;
  }
  ShardHeader h = header;
  h.count = end - begin;
  std::vector<unsigned char> bytes(kHeaderBytes + h.count * recordBytes(h), 0);
  unsigned char *p = bytes.data();
  std::memcpy(p, kMagic, 8);
  p += 8;
  put<uint32_t>(p, kVersion);
  put<uint32_t>(p, h.seq);
  put<uint32_t>(p, h.maxPredictions);
  put<uint32_t>(p, h.vocabSize);
  put<uint64_t>(p, h.count);
  put<uint64_t>(p, h.fingerprint);
  put<uint64_t>(p, h.seed);
  put<uint32_t>(p, h.dupeFactor);
  put<uint32_t>(p, h.wholeWordMask);
  p = bytes.data() + kHeaderBytes;
  for (size_t i = begin; i < end; ++i) {
    const Instance &inst = instances[i];
    unsigned char *record = p;
    put<uint16_t>(p, inst.tokens.size());
    put<uint16_t>(p, inst.segmentA);
    put<uint16_t>(p, inst.positions.size());
    put<uint8_t>(p, inst.nextSentenceLabel);
    put<uint8_t>(p, 0);
    for (uint32_t t = 0; t < h.seq; ++t)
      put<uint16_t>(p, t < inst.tokens.size() ? inst.tokens[t] : 0);
    for (uint32_t k = 0; k < h.maxPredictions; ++k)
      put<uint16_t>(p, k < inst.positions.size() ? inst.positions[k] : 0);
    for (uint32_t k = 0; k < h.maxPredictions; ++k)
      put<uint16_t>(p, k < inst.labels.size() ? inst.labels[k] : 0);
    p = record + recordBytes(h);
  }
  return writeFileAtomically(
      path, {std::string_view(reinterpret_cast<const char *>(bytes.data()), bytes.size())}, error);
}

ShardReader::~ShardReader() {
  if (file_)
    std::fclose(file_);
}

std::unique_ptr<ShardReader> ShardReader::open(const std::string &path, std::string &error) {
  std::unique_ptr<ShardReader> r(new ShardReader());
  r->path_ = path;
  r->file_ = std::fopen(path.c_str(), "rb");
  if (!r->file_) {
    error = path + ": cannot open: " + std::strerror(errno);
    return nullptr;
  }
  unsigned char header[kHeaderBytes];
  if (std::fread(header, 1, kHeaderBytes, r->file_) != kHeaderBytes ||
      std::memcmp(header, kMagic, 8) != 0) {
    error = path + ": not a bertc shard";
    return nullptr;
  }
  const unsigned char *p = header + 8;
  uint32_t version = get<uint32_t>(p);
  if (version != kVersion) {
    error = path + ": shard version " + std::to_string(version) + ", this runtime reads " +
            std::to_string(kVersion);
    return nullptr;
  }
  ShardHeader &h = r->header_;
  h.seq = get<uint32_t>(p);
  h.maxPredictions = get<uint32_t>(p);
  h.vocabSize = get<uint32_t>(p);
  h.count = get<uint64_t>(p);
  h.fingerprint = get<uint64_t>(p);
  h.seed = get<uint64_t>(p);
  h.dupeFactor = get<uint32_t>(p);
  h.wholeWordMask = get<uint32_t>(p);
  if (h.seq < 4 || h.seq > 65535 || h.maxPredictions > h.seq || h.vocabSize == 0 ||
      h.wholeWordMask > 1) {
    error = path + ": damaged shard header";
    return nullptr;
  }
  r->recordBytes_ = recordBytes(h);
  std::fseek(r->file_, 0, SEEK_END);
  long size = std::ftell(r->file_);
  if (size < 0 || static_cast<uint64_t>(size) != kHeaderBytes + h.count * r->recordBytes_) {
    error = path + ": " + std::to_string(size) + " bytes, the header promises " +
            std::to_string(kHeaderBytes + h.count * r->recordBytes_) + " (truncated?)";
    return nullptr;
  }
  r->buffer_.resize(r->recordBytes_);
  return r;
}

bool ShardReader::read(uint64_t index, Instance &out, std::string &error) {
  const ShardHeader &h = header_;
  auto where = [&] { return path_ + ": record " + std::to_string(index) + ": "; };
  if (index >= h.count) {
    error = where() + "out of range";
    return false;
  }
  if (std::fseek(file_, static_cast<long>(kHeaderBytes + index * recordBytes_), SEEK_SET) != 0 ||
      std::fread(buffer_.data(), 1, recordBytes_, file_) != recordBytes_) {
    error = where() + "read failed";
    return false;
  }
  const unsigned char *p = buffer_.data();
  uint16_t length = get<uint16_t>(p), segmentA = get<uint16_t>(p), count = get<uint16_t>(p);
  uint8_t nsp = get<uint8_t>(p);
  p += 1;
  if (length > h.seq || segmentA > length || count > h.maxPredictions || nsp > 1) {
    error = where() + "damaged";
    return false;
  }
  out.tokens.assign(length, 0);
  for (uint32_t t = 0; t < h.seq; ++t) {
    uint16_t v = get<uint16_t>(p);
    if (t < length)
      out.tokens[t] = v;
    if (v >= h.vocabSize) {
      error = where() + "token id " + std::to_string(v) + " outside the vocabulary";
      return false;
    }
  }
  out.positions.assign(count, 0);
  out.labels.assign(count, 0);
  for (uint32_t k = 0; k < h.maxPredictions; ++k) {
    uint16_t v = get<uint16_t>(p);
    if (k < count)
      out.positions[k] = v;
  }
  for (uint32_t k = 0; k < h.maxPredictions; ++k) {
    uint16_t v = get<uint16_t>(p);
    if (k < count)
      out.labels[k] = v;
  }
  for (uint32_t k = 0; k < count; ++k)
    if (out.positions[k] >= length || out.labels[k] >= static_cast<int32_t>(h.vocabSize)) {
      error = where() + "damaged masked position";
      return false;
    }
  out.segmentA = segmentA;
  out.nextSentenceLabel = nsp;
  return true;
}

} // namespace bertc::rt
