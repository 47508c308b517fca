//===- FinetuneLoop.cpp - The loop every fine-tuning command shares -------===//
#include "runtime/train/FinetuneLoop.h"

#include "runtime/Json.h"
#include "runtime/train/Batch.h"
#include "runtime/train/ModelDirectory.h"
#include "runtime/train/Pretrain.h"
#include "runtime/train/Progress.h"

#include <chrono>
#include <cstdio>
#include <memory>

namespace bertc::rt {

std::string fourDecimals(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", value);
  return buf;
}

bool runFinetune(const CompiledProgram &compiled, const Vocab &vocab,
                 const FinetuneSettings &settings, const FinetuneTask &task, Random &rng,
                 std::string &error) {
  const Program &program = compiled.program();
  const std::string &command = task.command;
  std::unique_ptr<Communicator> alone = singleProcess();
  Communicator &comm = settings.comm ? *settings.comm : *alone;
  const bool first = comm.rank() == 0;
  const int64_t ranks = comm.size(), parts = settings.accumulate;
  const int64_t global = task.batch * parts * ranks;
  std::string identity = program.toJson().dump() + "\n" + Json(settings.lr).dump() + "\n" +
                         std::to_string(settings.epochs) + "\n" + std::to_string(settings.seed) +
                         "\n" + std::to_string(parts) + "\n" + Json(settings.dropout).dump() +
                         "\n" + std::to_string(settings.bucketBytes) + "\n" +
                         std::to_string(settings.patience) + "\n" +
                         Json(settings.warmupProportion).dump() + "\n" + task.identity;
  if (!sameOnAllRanks(comm, std::hash<std::string>()(identity), "program, settings or data",
                      error))
    return false;
  if (static_cast<int64_t>(task.rows) < ranks) {
    error = first ? settings.train + ": " + std::to_string(task.rows) + " training rows for " +
                        std::to_string(ranks) + " ranks (every rank needs at least one)"
                  : std::string();
    return false;
  }
  std::unique_ptr<Session> opened = compiled.open(settings.device, error);
  if (!allRanksOk(comm, opened != nullptr, error))
    return false;
  Session &session = *opened;
  if ((parts > 1 || ranks > 1) && program.gradientBuffers.empty()) {
    error = first ? "--accumulate and mpirun need a program compiled with --accumulate-gradients"
                  : std::string();
    return false;
  }
  const DataParallel parallel = dataParallel(comm, program, settings.bucketBytes);
  if (first && (parts > 1 || ranks > 1))
    std::fprintf(stderr, "%s: effective batch %lld = batch %lld x %lld micro-batches x %lld ranks\n",
                 command.c_str(), static_cast<long long>(global),
                 static_cast<long long>(task.batch), static_cast<long long>(parts),
                 static_cast<long long>(ranks));
  session.initParameters(settings.seed);
  if (!settings.init.empty() &&
      !initFromCheckpoint(session, settings.init, command, first, error))
    return false;
  // The directory HuggingFace opens: the description now, the weights of
  // each better epoch below.
  if (first && !writeModelDescription(settings.saveDir, program, vocab, task.labels, error))
    return false;

  const int64_t perEpoch = (static_cast<int64_t>(task.rows) + global - 1) / global;
  const int64_t total = perEpoch * settings.epochs;
  const int64_t warmup = static_cast<int64_t>(settings.warmupProportion * total);
  Progress progress(command, 1, total, settings.saveDir + "/metrics.jsonl", first);
  double best = -1;
  std::string bestReport;
  int64_t step = 0;
  int stale = 0;
  std::vector<size_t> order(task.rows);
  for (int64_t epoch = 1; epoch <= settings.epochs; ++epoch) {
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    rng.shuffle(order);
    for (size_t begin = 0; begin < order.size(); begin += static_cast<size_t>(global)) {
      ++step;
      double lr = linearSchedule(settings.lr, step, warmup, total);
      auto fill = [&](int64_t j, std::string &) {
        int64_t part = comm.rank() * parts + j;
        task.fill(session, order, begin + static_cast<size_t>(part * task.batch));
        setStepInputs(session, {lr, step, settings.seed + static_cast<uint64_t>(part) * 0x9E3779B1u,
                                settings.dropout});
        return true;
      };
      auto start = std::chrono::steady_clock::now();
      std::vector<double> scalars;
      StepTimes times;
      if (!runStep(session, parts, fill, scalars, error, parallel, &times))
        return false;
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      double loss = 0;
      for (size_t i = 0; i < program.outputs.size(); ++i)
        if (program.outputs[i].tensor == task.loss)
          loss = scalars[i];
      std::vector<std::pair<std::string, double>> values = {{"loss", loss}, {"lr", lr}};
      if (ranks > 1)
        communicationMetrics(parallel, times, values);
      progress.step(step, values, static_cast<double>(global * task.seq) / seconds);
    }
    EpochScore score = task.evaluate(session, epoch);
    bool better = score.value > best;
    progress.note(command + ": epoch " + std::to_string(epoch) + " " + score.text +
                  (better ? ", best so far: saved" : ""));
    if (better) {
      best = score.value;
      bestReport = score.report;
      stale = 0;
      std::map<std::string, std::string> metadata = score.metadata;
      metadata["task"] = program.task;
      metadata["epoch"] = std::to_string(epoch);
      if (first &&
          !session.saveParameters(settings.saveDir + "/model.safetensors", error, false, metadata))
        return false;
    } else if (++stale >= settings.patience) {
      progress.note(command + ": no better dev " + task.metric + " for " + std::to_string(stale) +
                    " epochs; stopping early");
      break;
    }
  }
  if (!progress.finish(settings.saveDir + "/loss.svg", {"loss"}, error))
    return false;
  if (first)
    std::printf("%s\n", bestReport.c_str());
  return true;
}

} // namespace bertc::rt
