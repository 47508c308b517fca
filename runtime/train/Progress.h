//===- Progress.h - Training progress, metrics and the loss curve -*- C++ -*-===//
//
// On a terminal, a live bar (step, loss, learning rate, tokens/s, ETA)
// redrawn in place; otherwise a plain line every few steps. Every step's
// metrics go to a JSONL file; at the end, the loss curve is drawn as SVG.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_PROGRESS_H
#define BERTC_RUNTIME_TRAIN_PROGRESS_H

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace bertc::rt {

class Progress {
public:
  /// `metricsPath`: the JSONL file; lines of steps after `firstStep - 1`
  /// (left by an interrupted run) are dropped, earlier ones kept.
  /// `enabled` false (a data-parallel run's ranks but the first): prints
  /// and writes nothing.
  Progress(std::string label, int64_t firstStep, int64_t lastStep, std::string metricsPath,
           bool enabled = true);
  ~Progress();

  /// One step: named values (loss first) printed and logged with the step.
  void step(int64_t step, const std::vector<std::pair<std::string, double>> &values,
            double tokensPerSecond);
  /// A message that must not be drawn over by the bar.
  void note(const std::string &message);
  /// Ends the bar and writes the curves of the whole metrics file to
  /// `svgPath`: each of `keys` (those logged) against the step.
  bool finish(const std::string &svgPath, const std::vector<std::string> &keys,
              std::string &error);

private:
  std::string label_, metricsPath_;
  int64_t first_, last_;
  bool terminal_;
  bool enabled_;
  bool barOpen_ = false;
  double start_;
  double lastPrint_ = -1e9;
  std::FILE *metrics_ = nullptr;
};

/// One named curve of (x, y) points.
struct ChartSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;
};

/// Writes a line chart as a standalone SVG file: each series raw (faint)
/// and smoothed (a centred moving average over a 25th of its points), in a
/// colour of its own, named in a legend.
bool writeLineChart(const std::string &path, const std::string &title, const std::string &xLabel,
                    const std::string &yLabel, const std::vector<ChartSeries> &series,
                    std::string &error);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_PROGRESS_H
