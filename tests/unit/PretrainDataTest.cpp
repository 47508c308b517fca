//===- PretrainDataTest.cpp - Corpus reading, instances, shards -----------===//
#include "runtime/train/PretrainData.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace {

using namespace bertc::rt;

/// A vocabulary where word "wD_S_K" is token K of sentence S of document D.
struct Fixture {
  std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  std::map<int32_t, std::pair<int, int>> origin; ///< token id -> (document, sentence)
  std::vector<Document> documents;

  explicit Fixture(int docs = 12) {
    for (int d = 0; d < docs; ++d) {
      Document doc;
      for (int s = 0; s < 4 + d % 5; ++s) {
        std::vector<int32_t> sentence;
        for (int k = 0; k < 5 + (d + s) % 9; ++k) {
          origin[static_cast<int32_t>(tokens.size())] = {d, s};
          sentence.push_back(static_cast<int32_t>(tokens.size()));
          tokens.push_back("w" + std::to_string(d) + "_" + std::to_string(s) + "_" +
                           std::to_string(k));
        }
        doc.sentences.push_back(sentence);
      }
      documents.push_back(doc);
    }
  }
};

PretrainOptions small() {
  PretrainOptions o;
  o.seq = 32;
  o.maxPredictions = 5;
  o.dupeFactor = 3;
  o.seed = 7;
  return o;
}

std::vector<int32_t> original(const Instance &inst) {
  std::vector<int32_t> t = inst.tokens;
  for (size_t k = 0; k < inst.positions.size(); ++k)
    t[inst.positions[k]] = inst.labels[k];
  return t;
}

TEST(PretrainData, SameSeedSameInstances) {
  Fixture f;
  Vocab vocab = Vocab::fromTokens(f.tokens);
  auto docs1 = f.documents, docs2 = f.documents, docs3 = f.documents;
  auto a = createInstances(docs1, vocab, small());
  auto b = createInstances(docs2, vocab, small());
  PretrainOptions other = small();
  other.seed = 8;
  auto c = createInstances(docs3, vocab, other);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].tokens, b[i].tokens);
    EXPECT_EQ(a[i].positions, b[i].positions);
  }
  bool differs = a.size() != c.size();
  for (size_t i = 0; !differs && i < a.size(); ++i)
    differs = a[i].tokens != c[i].tokens;
  EXPECT_TRUE(differs);
}

TEST(PretrainData, InstancesFollowTheRecipe) {
  Fixture f;
  Vocab vocab = Vocab::fromTokens(f.tokens);
  PretrainOptions o = small();
  o.dupeFactor = 40;
  auto docs = f.documents;
  auto instances = createInstances(docs, vocab, o);
  ASSERT_GT(instances.size(), 500u);
  int randomNext = 0, masks = 0, kept = 0, replaced = 0, predicted = 0;
  for (const Instance &inst : instances) {
    const auto &t = inst.tokens;
    ASSERT_LE(t.size(), static_cast<size_t>(o.seq));
    ASSERT_EQ(t.front(), vocab.cls);
    ASSERT_EQ(t[inst.segmentA - 1], vocab.sep);
    ASSERT_EQ(t.back(), vocab.sep);
    ASSERT_GE(inst.segmentA, 3);                          // A has a token
    ASSERT_GE(static_cast<int>(t.size()) - inst.segmentA, 2); // and so has B
    // round(15%) of the tokens, at least one, at most maxPredictions.
    size_t expected = std::min<size_t>(
        o.maxPredictions, std::max<size_t>(1, static_cast<size_t>(std::nearbyint(t.size() * o.maskProbability))));
    ASSERT_EQ(inst.positions.size(), expected);
    ASSERT_TRUE(std::is_sorted(inst.positions.begin(), inst.positions.end()));
    ASSERT_EQ(std::set<int32_t>(inst.positions.begin(), inst.positions.end()).size(),
              inst.positions.size());
    std::vector<int32_t> orig = original(inst);
    for (size_t k = 0; k < inst.positions.size(); ++k) {
      int32_t pos = inst.positions[k];
      ASSERT_NE(orig[pos], vocab.cls);
      ASSERT_NE(orig[pos], vocab.sep);
      ++predicted;
      if (t[pos] == vocab.mask)
        ++masks;
      else if (t[pos] == orig[pos])
        ++kept;
      else
        ++replaced;
    }
    // Segment A comes from one document; B from the same one, right after
    // A, unless it is the random next segment.
    std::set<int> docsA, docsB;
    std::vector<std::pair<int, int>> sentencesA, sentencesB;
    for (int i = 1; i < inst.segmentA - 1; ++i) {
      docsA.insert(f.origin.at(orig[i]).first);
      sentencesA.push_back(f.origin.at(orig[i]));
    }
    for (size_t i = inst.segmentA; i + 1 < t.size(); ++i) {
      docsB.insert(f.origin.at(orig[i]).first);
      sentencesB.push_back(f.origin.at(orig[i]));
    }
    ASSERT_EQ(docsA.size(), 1u);
    ASSERT_EQ(docsB.size(), 1u);
    if (inst.nextSentenceLabel == 1) {
      ++randomNext;
      EXPECT_NE(*docsA.begin(), *docsB.begin());
    } else {
      EXPECT_EQ(*docsA.begin(), *docsB.begin());
      EXPECT_LE(sentencesA.back().second, sentencesB.front().second);
    }
  }
  double n = static_cast<double>(instances.size());
  std::printf("%zu instances: %.3f random next; of %d predictions %.3f [MASK], %.3f kept, "
              "%.3f random\n",
              instances.size(), randomNext / n, predicted, masks / double(predicted),
              kept / double(predicted), replaced / double(predicted));
  // A chunk of one sentence (short documents, ends of documents) always
  // takes a random next segment, so more than half do; the masking split is
  // 80/10/10 within sampling error.
  EXPECT_GT(randomNext / n, 0.45);
  EXPECT_LT(randomNext / n, 0.75);
  EXPECT_NEAR(masks / double(predicted), 0.8, 0.03);
  EXPECT_NEAR(kept / double(predicted), 0.1, 0.03);
  EXPECT_NEAR(replaced / double(predicted), 0.1, 0.03);
}

/// Whole-word masking: a word (a token and the "##" pieces after it) is
/// predicted whole or not at all; token masking splits words.
TEST(PretrainData, WholeWordMaskingMasksWordsWhole) {
  std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  const int32_t first = static_cast<int32_t>(tokens.size());
  for (int w = 0; w < 40; ++w) {
    tokens.push_back("w" + std::to_string(w));
    tokens.push_back("##p" + std::to_string(w));
  }
  Vocab vocab = Vocab::fromTokens(tokens);
  // Words of one to three pieces: a head "wN", then "##pM" pieces.
  std::vector<Document> documents;
  int counter = 0;
  for (int d = 0; d < 10; ++d) {
    Document doc;
    for (int s = 0; s < 6; ++s) {
      std::vector<int32_t> sentence;
      for (int w = 0; w < 6; ++w, ++counter) {
        sentence.push_back(first + 2 * (counter % 40));
        for (int piece = 0; piece < counter % 3; ++piece)
          sentence.push_back(first + 2 * ((counter + piece) % 40) + 1);
      }
      doc.sentences.push_back(sentence);
    }
    documents.push_back(doc);
  }
  auto isPiece = [&](int32_t id) { return vocab.token(id).rfind("##", 0) == 0; };
  // The words that are split: some but not all of their positions predicted.
  auto splitWords = [&](bool whole, size_t &multiPieceMasked) {
    PretrainOptions o = small();
    o.wholeWordMask = whole;
    o.dupeFactor = 10;
    auto docs = documents;
    int split = 0;
    multiPieceMasked = 0;
    for (const Instance &inst : createInstances(docs, vocab, o)) {
      std::vector<int32_t> orig = original(inst);
      std::set<int32_t> predicted(inst.positions.begin(), inst.positions.end());
      size_t expected = std::min<size_t>(
          o.maxPredictions,
          std::max<size_t>(1, static_cast<size_t>(std::nearbyint(orig.size() * o.maskProbability))));
      EXPECT_LE(inst.positions.size(), expected);
      EXPECT_GE(inst.positions.size(), 1u);
      // Truncation may leave a segment starting with pieces: they are a
      // word of their own.
      for (size_t i = 1; i < orig.size();) {
        if (orig[i] == vocab.sep) {
          ++i;
          continue;
        }
        size_t end = i + 1; // The word is [i, end).
        while (end < orig.size() && isPiece(orig[end]))
          ++end;
        size_t inside = 0;
        for (size_t k = i; k < end; ++k)
          inside += predicted.count(static_cast<int32_t>(k));
        split += inside > 0 && inside < end - i;
        multiPieceMasked += inside > 1;
        i = end;
      }
    }
    return split;
  };
  size_t multi = 0;
  EXPECT_EQ(splitWords(true, multi), 0);
  EXPECT_GT(multi, 50u);
  size_t ignored = 0;
  EXPECT_GT(splitWords(false, ignored), 50);
}

TEST(Shards, RoundTripAndDamage) {
  Fixture f;
  Vocab vocab = Vocab::fromTokens(f.tokens);
  auto docs = f.documents;
  auto instances = createInstances(docs, vocab, small());
  std::string path = testing::TempDir() + "/bertc-shard.bin", error;
  ShardHeader h;
  h.seq = 32;
  h.maxPredictions = 5;
  h.vocabSize = static_cast<uint32_t>(vocab.size());
  h.seed = 7;
  h.dupeFactor = 3;
  h.wholeWordMask = 1;
  ASSERT_TRUE(writeShard(path, h, instances, 0, instances.size(), error)) << error;
  auto reader = ShardReader::open(path, error);
  ASSERT_TRUE(reader) << error;
  ASSERT_EQ(reader->size(), instances.size());
  EXPECT_EQ(reader->header().dupeFactor, 3u);
  EXPECT_EQ(reader->header().wholeWordMask, 1u);
  Instance got;
  for (size_t i = 0; i < instances.size(); ++i) {
    ASSERT_TRUE(reader->read(i, got, error)) << error;
    EXPECT_EQ(got.tokens, instances[i].tokens);
    EXPECT_EQ(got.segmentA, instances[i].segmentA);
    EXPECT_EQ(got.positions, instances[i].positions);
    EXPECT_EQ(got.labels, instances[i].labels);
    EXPECT_EQ(got.nextSentenceLabel, instances[i].nextSentenceLabel);
  }
  EXPECT_FALSE(reader->read(instances.size(), got, error));
  reader.reset();
  // Truncated.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  EXPECT_FALSE(ShardReader::open(path, error));
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  // Not a shard.
  std::ofstream(path) << "hello";
  EXPECT_FALSE(ShardReader::open(path, error));
  EXPECT_EQ(error, path + ": not a bertc shard");
  // A damaged record: a token id past the vocabulary.
  ASSERT_TRUE(writeShard(path, h, instances, 0, 2, error));
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(64 + 8);
    char bad[2] = {'\xFF', '\x7F'};
    file.write(bad, 2);
  }
  reader = ShardReader::open(path, error);
  ASSERT_TRUE(reader) << error;
  EXPECT_FALSE(reader->read(0, got, error));
  EXPECT_EQ(error, path + ": record 0: token id 32767 outside the vocabulary");
}

TEST(Corpus, DocumentsSentencesAndErrors) {
  std::string dir = testing::TempDir() + "/bertc-corpus";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/sub");
  std::ofstream(dir + "/a.txt") << "Hello world. Second sentence here!\n\nNew document.\n";
  std::ofstream(dir + "/sub/b.txt") << "Mr. smith stays one. \"Quoted\" next.\n";
  Vocab vocab = Vocab::fromTokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world",
                                   "."});
  Tokenizer tokenizer(vocab);
  std::vector<Document> docs;
  CorpusStats stats;
  std::string error;
  ASSERT_TRUE(readCorpus({dir}, tokenizer, docs, stats, error)) << error;
  EXPECT_EQ(stats.files, 2);
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].sentences.size(), 2u);
  EXPECT_EQ(docs[0].sentences[0], (std::vector<int32_t>{5, 6, 7}));
  EXPECT_EQ(docs[1].sentences.size(), 1u);
  EXPECT_EQ(docs[2].sentences.size(), 2u);
  EXPECT_EQ(splitSentences("Mr. smith stays one. \"Quoted\" next."),
            (std::vector<std::string>{"Mr. smith stays one.", "\"Quoted\" next."}));
  // Initials and short forms do not end a sentence before a capital.
  EXPECT_EQ(splitSentences("The U.S. And Japan met Mr. Smith of Acme Co. On Jan. Tuesday. J. Doe came."),
            (std::vector<std::string>{"The U.S. And Japan met Mr. Smith of Acme Co. On Jan. Tuesday.",
                                      "J. Doe came."}));

  docs.clear();
  EXPECT_FALSE(readCorpus({dir + "/missing"}, tokenizer, docs, stats, error));
  EXPECT_EQ(error, dir + "/missing: no such file or folder");
  std::ofstream(dir + "/sub/b.txt") << "fine\nbad \xC3 byte\n";
  EXPECT_FALSE(readCorpus({dir}, tokenizer, docs, stats, error));
  EXPECT_EQ(error, dir + "/sub/b.txt:2: invalid UTF-8 at byte 4 of the line");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/empty.txt") << "\n  \n";
  docs.clear();
  EXPECT_FALSE(readCorpus({dir}, tokenizer, docs, stats, error));
  EXPECT_EQ(error, "the corpus has no text (1 files read)");
}

} // namespace
