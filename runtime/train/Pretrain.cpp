//===- Pretrain.cpp - The pretraining loop of a compiled program ----------===//
#include "runtime/train/Pretrain.h"

#include "runtime/Contract.h"
#include "runtime/Json.h"
#include "runtime/train/Batch.h"
#include "runtime/train/ModelDirectory.h"
#include "runtime/train/PretrainData.h"
#include "runtime/train/Progress.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

namespace bertc::rt {

namespace fs = std::filesystem;

double linearSchedule(double peak, int64_t t, int64_t warmup, int64_t steps) {
  if (t <= warmup)
    return peak * static_cast<double>(t) / static_cast<double>(warmup);
  return peak * static_cast<double>(steps - t) / static_cast<double>(steps - warmup);
}

namespace {

constexpr int64_t kShardInstances = 100000;

/// The instances of all shards, in order, read one at a time.
struct InstanceStream {
  std::vector<std::unique_ptr<ShardReader>> shards;
  uint64_t total = 0;

  bool read(uint64_t index, Instance &out, std::string &error) {
    index %= total;
    for (auto &s : shards) {
      if (index < s->size())
        return s->read(index, out, error);
      index -= s->size();
    }
    error = "instance index out of range";
    return false;
  }
};

/// Where a run's instances come from: the corpus, the folder of its
/// shards and how they are made.
struct DataSource {
  std::vector<std::string> corpus;
  std::string dir;
  int dupeFactor = 1;
  bool mustExist = false; ///< A resumed run's training data: never rebuilt.
  bool announce = true;   ///< Print what was read or built.
};

/// Reuses the source's folder when its manifest matches the corpus and
/// options; otherwise builds it.
bool prepareData(const DataSource &c, const Tokenizer &tokenizer, const Vocab &vocab,
                 const ShardHeader &want, InstanceStream &stream, std::string &error) {
  const std::string &dir = c.dir;
  std::string manifestPath = dir + "/manifest.json";
  std::vector<std::string> files;
  if (!listCorpusFiles(c.corpus, files, error))
    return false;
  uint64_t fingerprint = corpusFingerprint(files);
  auto matches = [&](const Json &m) {
    auto num = [&](const char *k) { return m.find(k) ? m.find(k)->number() : -1; };
    return m.find("fingerprint") &&
           m.find("fingerprint")->string() == std::to_string(fingerprint) &&
           num("seq") == want.seq && num("max_predictions") == want.maxPredictions &&
           num("vocab_size") == want.vocabSize && num("dupe_factor") == want.dupeFactor &&
           (m.find("whole_word_mask") ? num("whole_word_mask") : 0) == want.wholeWordMask &&
           m.find("seed") && m.find("seed")->string() == std::to_string(want.seed);
  };
  Json manifest;
  {
    std::ifstream in(manifestPath);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string parseError;
    if (in && Json::parse(text, manifest, parseError) && matches(manifest)) {
      for (const Json &shard : manifest.find("shards")->items()) {
        auto reader = ShardReader::open(dir + "/" + shard.string(), error);
        if (!reader)
          return false;
        stream.total += reader->size();
        stream.shards.push_back(std::move(reader));
      }
      if (c.announce)
        std::fprintf(stderr, "pretrain: %llu instances from %s\n",
                     static_cast<unsigned long long>(stream.total), dir.c_str());
      return stream.total > 0 || (error = dir + ": no instances", false);
    }
  }
  if (c.mustExist) {
    error = manifestPath + ": missing or made from another corpus or settings; cannot resume";
    return false;
  }
  auto start = std::chrono::steady_clock::now();
  std::vector<Document> documents;
  CorpusStats stats;
  if (!readCorpus(c.corpus, tokenizer, documents, stats, error))
    return false;
  PretrainOptions options;
  options.seq = static_cast<int>(want.seq);
  options.maxPredictions = static_cast<int>(want.maxPredictions);
  options.dupeFactor = c.dupeFactor;
  options.wholeWordMask = want.wholeWordMask != 0;
  options.seed = want.seed;
  std::vector<Instance> instances = createInstances(documents, vocab, options);
  if (instances.empty()) {
    error = "the corpus gives no training instance (documents need two sentences' worth of text)";
    return false;
  }
  fs::create_directories(dir);
  ShardHeader header = want;
  header.fingerprint = fingerprint;
  Json shards = Json::array();
  for (size_t begin = 0; begin < instances.size(); begin += kShardInstances) {
    size_t end = std::min(instances.size(), begin + static_cast<size_t>(kShardInstances));
    char name[32];
    std::snprintf(name, sizeof name, "shard-%05zu.bin", begin / kShardInstances);
    if (!writeShard(dir + "/" + name, header, instances, begin, end, error))
      return false;
    shards.push(Json(name));
  }
  manifest = Json::object();
  manifest["fingerprint"] = std::to_string(fingerprint);
  manifest["seed"] = std::to_string(want.seed);
  manifest["seq"] = Json(static_cast<int64_t>(want.seq));
  manifest["max_predictions"] = Json(static_cast<int64_t>(want.maxPredictions));
  manifest["vocab_size"] = Json(static_cast<int64_t>(want.vocabSize));
  manifest["dupe_factor"] = Json(static_cast<int64_t>(want.dupeFactor));
  manifest["whole_word_mask"] = Json(static_cast<int64_t>(want.wholeWordMask));
  manifest["instances"] = Json(static_cast<int64_t>(instances.size()));
  manifest["shards"] = std::move(shards);
  {
    std::ofstream out(manifestPath + ".tmp");
    out << manifest.dump() << "\n";
    if (!out) {
      error = manifestPath + ": cannot write";
      return false;
    }
  }
  fs::rename(manifestPath + ".tmp", manifestPath);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr,
               "pretrain: %s: corpus of %lld files, %lld documents, %lld sentences, %lld tokens -> "
               "%zu instances (dupe factor %d) in %.1f s\n",
               dir.c_str(), static_cast<long long>(stats.files),
               static_cast<long long>(stats.documents),
               static_cast<long long>(stats.sentences), static_cast<long long>(stats.tokens),
               instances.size(), c.dupeFactor, seconds);
  instances.clear();
  return prepareData(c, tokenizer, vocab, want, stream, error); // Now reads the shards.
}

struct Inputs {
  int ids = -1, types = -1, mask = -1, positions = -1, labels = -1, nsp = -1;
};

template <typename T> T *buffer(Session &s, int id) { return static_cast<T *>(s.data(id)); }

/// Writes `batch` instances from the stream at `position` into the inputs.
bool fillInstances(Session &s, const Inputs &in, InstanceStream &stream, uint64_t position,
                   int64_t batch, int64_t seq, int64_t maxPredictions, std::string &error) {
  Instance inst;
  for (int64_t r = 0; r < batch; ++r) {
    if (!stream.read(position + r, inst, error))
      return false;
    for (int64_t t = 0; t < seq; ++t) {
      bool token = t < static_cast<int64_t>(inst.tokens.size());
      buffer<int32_t>(s, in.ids)[r * seq + t] = token ? inst.tokens[t] : 0;
      buffer<int32_t>(s, in.types)[r * seq + t] = token && t >= inst.segmentA ? 1 : 0;
      buffer<float>(s, in.mask)[r * seq + t] = token ? 1.0f : 0.0f;
    }
    for (int64_t k = 0; k < maxPredictions; ++k) {
      bool used = k < static_cast<int64_t>(inst.positions.size());
      buffer<int32_t>(s, in.positions)[r * maxPredictions + k] = used ? inst.positions[k] : 0;
      buffer<int32_t>(s, in.labels)[r * maxPredictions + k] = used ? inst.labels[k] : -100;
    }
    buffer<int32_t>(s, in.nsp)[r] = inst.nextSentenceLabel;
  }
  return true;
}

/// Masked-LM loss and accuracy of the first `batches` batches of `held`
/// (or all of them, when fewer), forward passes with dropout off: the
/// loss's mean over every predicted token, weighted by each batch's count.
bool evaluateHeldOut(Session &s, const Inputs &in, InstanceStream &held, int64_t batches,
                     int64_t step, double &loss, double &accuracy, std::string &error) {
  const Program &p = s.program();
  const int64_t batch = p.tensors[in.ids].shape[0], seq = p.tensors[in.ids].shape[1];
  const int64_t maxPredictions = p.tensors[in.positions].shape[1];
  const int mlmLoss = p.outputId("mlm_loss"), mlmPred = p.outputId("mlm_predictions");
  int64_t count = static_cast<int64_t>(std::min<uint64_t>(
      static_cast<uint64_t>(batches), (held.total + static_cast<uint64_t>(batch) - 1) /
                                          static_cast<uint64_t>(batch)));
  double lossSum = 0, predicted = 0, hits = 0;
  for (int64_t b = 0; b < count; ++b) {
    // The last batch's rows past the end are padding: no prediction.
    int64_t rows = std::min<int64_t>(batch, static_cast<int64_t>(held.total) - b * batch);
    if (!fillInstances(s, in, held, static_cast<uint64_t>(b * batch), batch, seq,
                       maxPredictions, error))
      return false;
    for (int64_t r = rows; r < batch; ++r)
      for (int64_t k = 0; k < maxPredictions; ++k)
        buffer<int32_t>(s, in.labels)[r * maxPredictions + k] = -100;
    // The labels, kept: the run reuses the inputs' bytes.
    std::vector<int32_t> labels(buffer<int32_t>(s, in.labels),
                                buffer<int32_t>(s, in.labels) + batch * maxPredictions);
    setStepInputs(s, {0.0, step, 0, 0.0});
    s.runForward();
    double labelled = 0;
    for (int64_t k = 0; k < batch * maxPredictions; ++k) {
      int32_t label = labels[static_cast<size_t>(k)];
      if (label == -100)
        continue;
      labelled += 1;
      hits += buffer<int32_t>(s, mlmPred)[k] == label;
    }
    lossSum += scalarOutput(s, mlmLoss) * labelled;
    predicted += labelled;
  }
  loss = predicted > 0 ? lossSum / predicted : 0;
  accuracy = predicted > 0 ? hits / predicted : 0;
  return true;
}

} // namespace

bool pretrain(const CompiledProgram &compiled, const PretrainConfig &c, std::string &error) {
  const Program &program = compiled.program();
  Inputs in;
  in.ids = program.inputId("input_ids");
  in.types = program.inputId("token_type_ids");
  in.mask = program.inputId("attention_mask");
  in.positions = program.inputId("masked_lm_positions");
  in.labels = program.inputId("masked_lm_labels");
  in.nsp = program.inputId("next_sentence_label");
  if (in.ids < 0 || in.types < 0 || in.mask < 0 || in.positions < 0 || in.labels < 0 ||
      in.nsp < 0 || !program.input(std::string(contract::kLearningRateInput))) {
    error = "this program is not a pretraining step (it needs BERT's pretrain inputs and "
            "--step=train)";
    return false;
  }
  if (program.tensors[in.mask].dtype != DType::F32) {
    error = "pretrain needs a float32 program";
    return false;
  }
  const int64_t batch = program.tensors[in.ids].shape[0], seq = program.tensors[in.ids].shape[1];
  const int64_t maxPredictions = program.tensors[in.positions].shape[1];
  if (c.steps < 1 || c.warmup < 0 || c.warmup >= c.steps) {
    error = "--warmup must be at least 0 and less than --steps";
    return false;
  }
  Vocab vocab;
  if (!Vocab::load(c.vocab, vocab, error))
    return false;
  int64_t modelVocab = program.configInt("vocab_size", -1);
  if (modelVocab != vocab.size()) {
    error = c.vocab + ": " + std::to_string(vocab.size()) + " tokens, the model's vocab_size is " +
            std::to_string(modelVocab);
    return false;
  }
  std::error_code ec;
  if (!c.resume && !findDirectory(c.saveDir + "/checkpoint").empty()) {
    error = c.saveDir + "/checkpoint exists: pass --resume to continue it, or choose "
                        "another --save directory";
    return false;
  }
  fs::create_directories(c.saveDir, ec);
  if (ec) {
    error = c.saveDir + ": cannot create: " + ec.message();
    return false;
  }
  Tokenizer tokenizer(vocab);
  ShardHeader want;
  want.seq = static_cast<uint32_t>(seq);
  want.maxPredictions = static_cast<uint32_t>(maxPredictions);
  want.vocabSize = static_cast<uint32_t>(vocab.size());
  want.seed = c.seed;
  want.dupeFactor = static_cast<uint32_t>(c.dupeFactor);
  want.wholeWordMask = c.wholeWordMask ? 1 : 0;
  std::unique_ptr<Communicator> alone = singleProcess();
  Communicator &comm = c.comm ? *c.comm : *alone;
  const bool first = comm.rank() == 0;
  const int64_t ranks = comm.size(), parts = c.accumulate;
  if (parts < 1) {
    error = "--accumulate must be at least 1";
    return false;
  }
  // Every rank runs the same program with the same settings (checked before
  // any rank touches the data), then rank 0 builds the shards and the
  // others read them once it is done.
  {
    std::string identity = compiled.program().toJson().dump();
    for (const std::string &s :
         {std::to_string(c.seed), std::to_string(c.steps), std::to_string(c.warmup),
          Json(c.lr).dump(), Json(c.dropout).dump(), std::to_string(c.accumulate),
          std::to_string(c.dupeFactor), std::to_string(c.resume), std::to_string(c.saveEvery),
          std::to_string(c.stopAfter), std::to_string(c.checkRanks),
          std::to_string(c.bucketBytes), std::to_string(c.wholeWordMask)})
      identity += "\n" + s;
    if (!sameOnAllRanks(comm, std::hash<std::string>()(identity), "program or settings", error))
      return false;
  }
  InstanceStream stream;
  DataSource source{c.corpus, c.saveDir + "/data", c.dupeFactor, c.resume, first};
  bool ready = !first || prepareData(source, tokenizer, vocab, want, stream, error);
  if (!allRanksOk(comm, ready, error) ||
      !allRanksOk(comm, first || prepareData(source, tokenizer, vocab, want, stream, error), error))
    return false;
  // Held-out instances, on rank 0 alone: one pass over the evaluation
  // corpus (never trained on), rebuilt when missing; tokens masked one by
  // one whatever the training data does, so runs with and without
  // whole-word masking score alike.
  InstanceStream held;
  ShardHeader wantHeld = want;
  wantHeld.wholeWordMask = 0;
  if (!allRanksOk(comm,
                  !first || c.evalEvery == 0 ||
                      prepareData({c.evalCorpus, c.saveDir + "/eval-data", 1, false, true},
                                  tokenizer, vocab, wantHeld, held, error),
                  error))
    return false;
  if (!sameOnAllRanks(comm, stream.total, "data (" + c.saveDir + "/data)", error))
    return false;
  const int64_t global = batch * parts * ranks;
  if (stream.total < static_cast<uint64_t>(global)) {
    error = first ? c.saveDir + "/data: " + std::to_string(stream.total) +
                        " instances, fewer than one step's batch of " + std::to_string(batch) +
                        " x " + std::to_string(parts) + " micro-batches x " +
                        std::to_string(ranks) + " ranks"
                  : std::string();
    return false;
  }

  std::unique_ptr<Session> opened = compiled.open(c.device, error);
  if (!allRanksOk(comm, opened != nullptr, error))
    return false;
  Session &session = *opened;
  if (parts > 1 || ranks > 1) {
    if (session.program().gradientBuffers.empty()) {
      error = first ? "--accumulate and mpirun need a program compiled with "
                      "--accumulate-gradients"
                    : std::string();
      return false;
    }
  }
  const Program &p = session.program();
  const DataParallel parallel = dataParallel(comm, p, c.bucketBytes);
  // The checkpoint: a HuggingFace model directory (model.safetensors,
  // config.json, vocab.txt, tokenizer_config.json) plus the optimizer's
  // moments and the run's position in training-state.safetensors.
  const std::string checkpointDir = c.saveDir + "/checkpoint";
  std::string checkpoint = checkpointDir + "/training-state.safetensors";
  int64_t done = 0;
  uint64_t position = 0;
  std::map<std::string, std::string> settings = {{"task", p.task},
                                                 {"seed", std::to_string(c.seed)},
                                                 {"steps", std::to_string(c.steps)},
                                                 {"warmup", std::to_string(c.warmup)},
                                                 {"lr", Json(c.lr).dump()},
                                                 {"dropout", Json(c.dropout).dump()},
                                                 {"batch", std::to_string(batch)},
                                                 {"seq", std::to_string(seq)},
                                                 {"accumulate", std::to_string(parts)}};
  if (first && (parts > 1 || ranks > 1))
    std::fprintf(stderr,
                 "pretrain: effective batch %lld = batch %lld x %lld micro-batches x %lld ranks\n",
                 static_cast<long long>(global), static_cast<long long>(batch),
                 static_cast<long long>(parts), static_cast<long long>(ranks));
  if (c.resume) {
    std::string found = findDirectory(checkpointDir);
    if (found.empty()) {
      error = checkpointDir + ": no checkpoint to resume";
      return false;
    }
    checkpoint = found + "/training-state.safetensors";
    std::map<std::string, std::string> meta, modelMeta;
    if (!session.loadState(checkpoint, error, &meta) ||
        !session.loadParameters(found + "/model.safetensors", error, nullptr, &modelMeta))
      return false;
    if (modelMeta["step"] != meta["step"]) {
      error = found + ": model.safetensors is from step " + modelMeta["step"] +
              ", training-state.safetensors from step " + meta["step"];
      return false;
    }
    // Checkpoints from before accumulation and ranks existed ran one of each.
    for (const char *k : {"accumulate", "world_size"})
      if (!meta.count(k))
        meta[k] = "1";
    if (meta["world_size"] != std::to_string(ranks)) {
      error = first ? checkpoint + ": written by a run of " + meta["world_size"] +
                          " ranks, this one has " + std::to_string(ranks) + ": resume it with " +
                          (meta["world_size"] == "1" ? std::string("one process")
                                                     : "mpirun -np " + meta["world_size"]) +
                          " (each rank's data position belongs to that world size)"
                    : std::string();
      return false;
    }
    for (const auto &[k, v] : settings)
      if (meta[k] != v) {
        error = checkpoint + ": made with " + k + " " + meta[k] + ", this run has " + v +
                " (resume with the same settings)";
        return false;
      }
    done = std::stoll(meta["step"]);
    position = std::stoull(meta["data_position"]);
    if (first)
      std::fprintf(stderr, "pretrain: resuming after step %lld from %s\n",
                   static_cast<long long>(done), checkpoint.c_str());
  } else {
    session.initParameters(c.seed);
    if (!c.init.empty()) {
      if (!initFromCheckpoint(session, c.init, "pretrain", first, error))
        return false;
    }
  }
  auto save = [&](int64_t step) {
    std::map<std::string, std::string> meta = settings;
    meta["step"] = std::to_string(step);
    meta["data_position"] = std::to_string(position);
    meta["world_size"] = std::to_string(ranks);
    Json positions = Json::array();
    for (int64_t r = 0; r < ranks; ++r)
      positions.push(Json(static_cast<int64_t>((position + r * parts * batch) % stream.total)));
    meta["data_positions"] = positions.dump();
    std::string staged = checkpointDir + ".tmp";
    std::error_code ec;
    fs::remove_all(staged, ec);
    fs::create_directories(staged, ec);
    if (ec) {
      error = staged + ": cannot create: " + ec.message();
      return false;
    }
    return session.saveParameters(staged + "/model.safetensors", error, false,
                                  {{"task", p.task}, {"step", meta["step"]}}) &&
           session.saveState(staged + "/training-state.safetensors", error, meta) &&
           writeModelDescription(staged, p, vocab, {}, error) &&
           replaceDirectory(staged, checkpointDir, error);
  };

  int lossId = p.outputId("loss"), mlmId = p.outputId("mlm_loss"), nspId = p.outputId("nsp_loss"),
      mlmPred = p.outputId("mlm_predictions"), nspPred = p.outputId("nsp_predictions");
  Progress progress("pretrain", done + 1, c.steps, c.saveDir + "/metrics.jsonl", first);
  // Rank 0 keeps its first micro-batch's labels for the accuracies (the
  // inputs' bytes are reused during the step).
  std::vector<int32_t> labels(batch * maxPredictions), nspLabels(batch);
  int64_t last = c.stopAfter > 0 ? std::min(c.steps, c.stopAfter) : c.steps;
  std::vector<double> scalars;
  for (int64_t step = done + 1; step <= last; ++step) {
    double lr = linearSchedule(c.lr, step, c.warmup, c.steps);
    auto fill = [&](int64_t j, std::string &err) {
      int64_t part = comm.rank() * parts + j;
      if (!fillInstances(session, in, stream, position + part * batch, batch, seq, maxPredictions,
                         err))
        return false;
      if (j == 0) {
        std::copy_n(buffer<int32_t>(session, in.labels), labels.size(), labels.begin());
        std::copy_n(buffer<int32_t>(session, in.nsp), batch, nspLabels.begin());
      }
      // Each part's own dropout masks: the seed moves with the part.
      setStepInputs(session,
                    {lr, step, c.seed + static_cast<uint64_t>(part) * 0x9E3779B1u, c.dropout});
      return true;
    };
    auto start = std::chrono::steady_clock::now();
    StepTimes times;
    if (!runStep(session, parts, fill, scalars, error, parallel, &times))
      return false;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    position = (position + global) % stream.total;
    auto scalar = [&](int id) {
      for (size_t i = 0; i < p.outputs.size(); ++i)
        if (p.outputs[i].tensor == id)
          return scalars[i];
      return 0.0;
    };
    std::vector<std::pair<std::string, double>> values = {
        {"loss", scalar(lossId)}, {"mlm_loss", scalar(mlmId)}, {"nsp_loss", scalar(nspId)}};
    // The accuracies: of the last micro-batch's predictions on rank 0,
    // against its labels, when that is the first micro-batch too.
    if (mlmPred >= 0 && nspPred >= 0 && parts == 1) {
      // Hits and counts of all ranks: [mlm hits, mlm predictions, nsp hits].
      double counts[3] = {0, 0, 0};
      for (size_t k = 0; k < labels.size(); ++k)
        if (labels[k] != -100) {
          counts[1] += 1;
          counts[0] += buffer<int32_t>(session, mlmPred)[k] == labels[k];
        }
      for (int64_t r = 0; r < batch; ++r)
        counts[2] += buffer<int32_t>(session, nspPred)[r] == nspLabels[r];
      comm.sum(counts, 3);
      values.push_back({"mlm_accuracy", counts[1] > 0 ? counts[0] / counts[1] : 0.0});
      values.push_back({"nsp_accuracy", counts[2] / static_cast<double>(batch * ranks)});
    }
    if (c.checkRanks) {
      // FNV-1a over every parameter's bytes.
      uint64_t hash = 1469598103934665603ull;
      for (const ParameterDesc &d : p.parameters) {
        const auto *bytes = static_cast<const unsigned char *>(session.data(d.tensor));
        for (int64_t i = 0, n = p.tensors[d.tensor].bytes(); i < n; ++i)
          hash = (hash ^ bytes[i]) * 1099511628211ull;
      }
      if (!sameOnAllRanks(comm, hash,
                          "set of parameters after step " + std::to_string(step) +
                              " (they must stay bit-identical)",
                          error))
        return false;
    }
    if (first && c.evalEvery > 0 && (step % c.evalEvery == 0 || step == c.steps)) {
      double evalLoss = 0, evalAccuracy = 0;
      if (!evaluateHeldOut(session, in, held, c.evalBatches, step, evalLoss, evalAccuracy, error))
        return false;
      values.push_back({"eval_mlm_loss", evalLoss});
      values.push_back({"eval_mlm_accuracy", evalAccuracy});
    }
    values.push_back({"lr", lr});
    if (ranks > 1)
      communicationMetrics(parallel, times, values);
    progress.step(step, values, static_cast<double>(global * seq) / seconds);
    if (first && ((c.saveEvery > 0 && step % c.saveEvery == 0) || step == c.steps)) {
      if (!save(step))
        return false;
    }
  }
  if (last < c.steps) {
    progress.note("pretrain: stopped after step " + std::to_string(last) + " (--stop-after)");
    return true;
  }
  if (!progress.finish(c.saveDir + "/loss.svg", {"loss", "mlm_loss", "eval_mlm_loss"}, error))
    return false;
  progress.note("pretrain: " + std::to_string(c.steps) + " steps done; " + checkpointDir +
                ", metrics.jsonl and loss.svg in " + c.saveDir);
  return true;
}

} // namespace bertc::rt
