//===- Progress.cpp - Training progress, metrics and the loss curve -------===//
#include "runtime/train/Progress.h"

#include "runtime/Json.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace bertc::rt {

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string duration(double seconds) {
  char buf[32];
  auto s = static_cast<long long>(seconds);
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s / 60 % 60);
  else
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  return buf;
}

/// Six significant digits, for people.
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/// Nine: a float32 loss exactly, so that runs can be compared to the last
/// bit from their metrics files.
std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

} // namespace

Progress::Progress(std::string label, int64_t firstStep, int64_t lastStep, std::string metricsPath,
                   bool enabled)
    : label_(std::move(label)), metricsPath_(std::move(metricsPath)), first_(firstStep),
      last_(lastStep), terminal_(::isatty(STDERR_FILENO) == 1), enabled_(enabled), start_(now()) {
  if (!enabled_)
    return;
  // Keep the lines of steps already done; drop any later ones.
  std::vector<std::string> kept;
  {
    std::ifstream in(metricsPath_);
    std::string line;
    while (std::getline(in, line)) {
      Json j;
      std::string error;
      if (Json::parse(line, j, error) && j.find("step") && j.find("step")->number() < firstStep)
        kept.push_back(line);
    }
  }
  metrics_ = std::fopen(metricsPath_.c_str(), "w");
  if (metrics_)
    for (const std::string &line : kept)
      std::fprintf(metrics_, "%s\n", line.c_str());
}

Progress::~Progress() {
  if (metrics_)
    std::fclose(metrics_);
}

void Progress::step(int64_t step, const std::vector<std::pair<std::string, double>> &values,
                    double tokensPerSecond) {
  if (!enabled_)
    return;
  if (metrics_) {
    std::string line = "{\"step\": " + std::to_string(step);
    for (const auto &[k, v] : values)
      line += ", \"" + k + "\": " + (std::isfinite(v) ? exact(v) : "null");
    line += ", \"tokens_per_s\": " + number(tokensPerSecond) + "}";
    std::fprintf(metrics_, "%s\n", line.c_str());
    std::fflush(metrics_);
  }
  double t = now();
  double done = static_cast<double>(step - first_ + 1),
         total = static_cast<double>(last_ - first_ + 1);
  double eta = done > 0 ? (t - start_) / done * (total - done) : 0;
  std::string text = label_ + " step " + std::to_string(step) + "/" + std::to_string(last_);
  for (const auto &[k, v] : values)
    text += "  " + k + " " + number(v);
  char rate[64];
  std::snprintf(rate, sizeof rate, "  %.0f tok/s  ETA %s", tokensPerSecond, duration(eta).c_str());
  text += rate;
  if (terminal_) {
    int width = 24;
    int filled = static_cast<int>(width * std::min(1.0, done / total));
    std::fprintf(stderr, "\r\033[K[%s%s] %s", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), text.c_str());
    std::fflush(stderr);
    barOpen_ = true;
  } else if (t - lastPrint_ >= 10 || step == last_ || step == first_) {
    std::fprintf(stderr, "%s\n", text.c_str());
    lastPrint_ = t;
  }
}

void Progress::note(const std::string &message) {
  if (!enabled_)
    return;
  if (barOpen_)
    std::fprintf(stderr, "\n");
  barOpen_ = false;
  std::fprintf(stderr, "%s\n", message.c_str());
}

bool Progress::finish(const std::string &svgPath, const std::vector<std::string> &keys,
                      std::string &error) {
  if (!enabled_)
    return true;
  if (barOpen_)
    std::fprintf(stderr, "\n");
  barOpen_ = false;
  if (metrics_) {
    std::fclose(metrics_);
    metrics_ = nullptr;
  }
  std::vector<ChartSeries> series;
  for (const std::string &key : keys)
    series.push_back({key, {}});
  std::ifstream in(metricsPath_);
  std::string line;
  while (std::getline(in, line)) {
    Json j;
    std::string parseError;
    if (!Json::parse(line, j, parseError) || !j.find("step"))
      continue;
    for (ChartSeries &s : series)
      if (const Json *v = j.find(s.name); v && v->isNumber())
        s.points.push_back({j.find("step")->number(), v->number()});
  }
  series.erase(std::remove_if(series.begin(), series.end(),
                              [](const ChartSeries &s) { return s.points.empty(); }),
               series.end());
  return writeLineChart(svgPath, label_, "step", "loss", series, error);
}

bool writeLineChart(const std::string &path, const std::string &title, const std::string &xLabel,
                    const std::string &yLabel, const std::vector<ChartSeries> &series,
                    std::string &error) {
  const double W = 720, H = 420, left = 70, right = 20, top = 40, bottom = 50;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  bool any = false;
  for (const ChartSeries &s : series)
    for (auto [x, y] : s.points) {
      if (!any)
        x0 = x1 = x, y0 = y1 = y, any = true;
      x0 = std::min(x0, x), x1 = std::max(x1, x);
      y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  if (x1 == x0)
    x1 = x0 + 1;
  if (y1 == y0)
    y1 = y0 + 1;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (W - left - right); };
  auto py = [&](double y) { return H - bottom - (y - y0) / (y1 - y0) * (H - top - bottom); };
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << W / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" << title
      << "</text>\n";
  svg << "<line x1=\"" << left << "\" y1=\"" << H - bottom << "\" x2=\"" << W - right << "\" y2=\""
      << H - bottom << "\" stroke=\"black\"/>\n<line x1=\"" << left << "\" y1=\"" << top
      << "\" x2=\"" << left << "\" y2=\"" << H - bottom << "\" stroke=\"black\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    double xv = x0 + (x1 - x0) * i / 4, yv = y0 + (y1 - y0) * i / 4;
    svg << "<text x=\"" << px(xv) << "\" y=\"" << H - bottom + 18 << "\" text-anchor=\"middle\">"
        << number(std::round(xv)) << "</text>\n<text x=\"" << left - 6 << "\" y=\"" << py(yv) + 4
        << "\" text-anchor=\"end\">" << number(std::round(yv * 1000) / 1000) << "</text>\n";
  }
  svg << "<text x=\"" << (left + W - right) / 2 << "\" y=\"" << H - 10
      << "\" text-anchor=\"middle\">" << xLabel << "</text>\n<text x=\"16\" y=\""
      << (top + H - bottom) / 2 << "\" transform=\"rotate(-90 16 " << (top + H - bottom) / 2
      << ")\" text-anchor=\"middle\">" << yLabel << "</text>\n";
  const char *colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
  for (size_t k = 0; k < series.size(); ++k) {
    const auto &points = series[k].points;
    const char *colour = colours[k % 4];
    auto polyline = [&](const std::vector<std::pair<double, double>> &line, const char *style) {
      svg << "<polyline fill=\"none\" stroke=\"" << colour << "\" " << style << " points=\"";
      for (auto [x, y] : line)
        svg << px(x) << "," << py(y) << " ";
      svg << "\"/>\n";
    };
    // The centred moving average over a 25th of the points.
    size_t half = points.size() / 50;
    std::vector<std::pair<double, double>> smooth;
    for (size_t i = 0; i < points.size(); ++i) {
      size_t a = i >= half ? i - half : 0, b = std::min(points.size(), i + half + 1);
      double sum = 0;
      for (size_t j = a; j < b; ++j)
        sum += points[j].second;
      smooth.push_back({points[i].first, sum / static_cast<double>(b - a)});
    }
    if (half > 0)
      polyline(points, "stroke-width=\"1\" stroke-opacity=\"0.3\"");
    polyline(smooth, "stroke-width=\"1.8\"");
    svg << "<text x=\"" << W - right - 4 << "\" y=\"" << top + 14 * (k + 1)
        << "\" text-anchor=\"end\" fill=\"" << colour << "\">" << series[k].name
        << (half > 0 ? " (moving average of " + std::to_string(2 * half + 1) + ")" : "")
        << "</text>\n";
  }
  svg << "</svg>\n";
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << svg.str();
    if (!out) {
      error = path + ": cannot write";
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = path + ": cannot write";
    return false;
  }
  return true;
}

} // namespace bertc::rt
