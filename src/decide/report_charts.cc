#include "decide/report_charts.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "decide/report_svg.h"

namespace ragft::decide::render {

namespace {

constexpr std::string_view kBudget = "#c92a2a";

std::string wrap_note(double x, double y, std::string_view text, std::size_t width, double line_h, double& used) {
  std::string out;
  used = 0;
  for (const auto& line : wrap(text, width)) {
    out += svg_text(x, y + used, line, "note");
    used += line_h;
  }
  return out;
}

// A vertical CI whisker with caps, class "whisker" on the stem.
std::string whisker(double x, double y_lo, double y_hi, std::string_view colour) {
  std::string s = svg_line(x, y_lo, x, y_hi, "whisker", stroke(colour, 1.5));
  s += svg_line(x - 4, y_lo, x + 4, y_lo, "whisker-cap", stroke(colour, 1.5));
  s += svg_line(x - 4, y_hi, x + 4, y_hi, "whisker-cap", stroke(colour, 1.5));
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Quality vs latency

std::string quality_latency_svg(const Json& report) {
  auto arms = arm_views(report);
  if (arms.empty()) return {};
  struct Point {
    const ArmView* arm;
    double latency, quality;
    std::optional<double> lo, hi;
  };
  std::vector<Point> points;
  std::vector<std::string> skipped;
  for (const auto& a : arms) {
    auto q = num(a.json, {"quality", "value"});
    auto lat = num(a.json, {"latency_ms", "p95"});
    if (!q) {
      skipped.push_back(a.id + " (no quality)");
    } else if (!lat || *lat <= 0) {
      skipped.push_back(a.id + (lat ? " (p95 not positive)" : " (no p95 latency)"));
    } else {
      points.push_back({&a, *lat, *q, num(a.json, {"quality", "ci_low"}), num(a.json, {"quality", "ci_high"})});
    }
  }
  auto budget = num(&report, {"requirements", "latency_p95_ms", "value"});
  auto target = num(&report, {"requirements", "quality_target", "value"});
  std::string metric = str_or(&report, {"metric", "label"}, str_or(&report, {"metric", "name"}, "quality"));

  constexpr double kW = 880, kLeft = 64, kRight = 24, kTop = 18, kPlotH = 320;
  double plot_r = kW - kRight, plot_b = kTop + kPlotH;
  std::string note = skipped.empty() ? std::string() : "Not plotted: ";
  for (std::size_t i = 0; i < skipped.size(); ++i) note += (i ? ", " : "") + skipped[i];
  std::size_t note_lines = note.empty() ? 0 : wrap(note, 110).size();
  double height = plot_b + 48 + 16 * static_cast<double>(note_lines);
  std::string body;

  if (points.empty()) {
    body += svg_text(kW / 2, kTop + kPlotH / 2, "No arm has both a quality value and a positive p95 latency.", "note",
                     "middle");
  } else {
    double lat_lo = points[0].latency, lat_hi = lat_lo, q_lo = points[0].quality, q_hi = q_lo;
    for (const auto& p : points) {
      lat_lo = std::min(lat_lo, p.latency);
      lat_hi = std::max(lat_hi, p.latency);
      for (auto v : {std::optional<double>(p.quality), p.lo, p.hi}) {
        if (!v) continue;
        q_lo = std::min(q_lo, *v);
        q_hi = std::max(q_hi, *v);
      }
    }
    if (budget && *budget > 0) {
      lat_lo = std::min(lat_lo, *budget);
      lat_hi = std::max(lat_hi, *budget);
    }
    if (target) {
      q_lo = std::min(q_lo, *target);
      q_hi = std::max(q_hi, *target);
    }
    bool unit = q_lo >= 0 && q_hi <= 1;
    double pad = std::max(0.02, 0.08 * (q_hi - q_lo));
    q_lo -= pad;
    q_hi += pad;
    for (int round = 0; round < 2; ++round) {  // clamp, round outwards, clamp again
      if (unit) {
        q_lo = std::max(0.0, q_lo);
        q_hi = std::min(1.0, q_hi);
      }
      if (round == 0) nice_range(q_lo, q_hi, 5);
    }
    // Whole decades around the data, with a little room so no point sits on the frame.
    double x_lo = std::pow(10.0, std::floor(std::log10(lat_lo) - 0.05));
    double x_hi = std::pow(10.0, std::ceil(std::log10(lat_hi) + 0.05));
    Scale sx{x_lo, x_hi, kLeft, plot_r, true};
    Scale sy{q_lo, q_hi, plot_b, kTop};

    for (double t : linear_ticks(q_lo, q_hi, 5)) {
      body += svg_line(kLeft, sy(t), plot_r, sy(t), "grid");
      body += svg_text(kLeft - 6, sy(t) + 4, format_sig(t, 3), "tick", "end");
    }
    for (double t : log_ticks(sx.d0, sx.d1)) {
      body += svg_line(sx(t), kTop, sx(t), plot_b, "grid");
      body += svg_text(sx(t), plot_b + 16, format_sig(t, 3), "tick", "middle");
    }
    body += svg_line(kLeft, plot_b, plot_r, plot_b, "axis") + svg_line(kLeft, kTop, kLeft, plot_b, "axis");
    if (budget && *budget > 0) {
      double x = sx(*budget);
      body += svg_line(x, kTop, x, plot_b, "budget", stroke(kBudget, 1.5) + " stroke-dasharray=\"6 4\"");
      body += svg_text(x - 4, kTop + 12, "p95 budget " + format_ms(budget) + " ms", "budget-label", "end",
                       fill(kBudget));
    }
    if (target) {
      double y = sy(*target);
      body += svg_line(kLeft, y, plot_r, y, "target", stroke(kBudget, 1.5) + " stroke-dasharray=\"6 4\"");
      body += svg_text(plot_r - 4, y - 5, "target " + format_quality(target), "target-label", "end", fill(kBudget));
    }
    // Marks first (the recommended arm last, on top), then labels placed clear of every mark and
    // of each other (the recommended arm's label first).
    std::stable_sort(points.begin(), points.end(),
                     [](const Point& a, const Point& b) { return !a.arm->recommended && b.arm->recommended; });
    std::vector<Box> taken;
    for (const auto& p : points) {
      double x = sx(p.latency), y = sy(p.quality);
      std::string_view colour = p.arm->recommended ? kHighlight : p.arm->excluded ? kMuted : kSeries;
      if (p.lo && p.hi) {
        body += whisker(x, sy(*p.lo), sy(*p.hi), colour);
        taken.push_back(Box{x - 5, sy(*p.hi) - 1, x + 5, sy(*p.lo) + 1});
      }
      std::string cls = "point";
      if (p.arm->recommended) cls += " recommended";
      if (p.arm->excluded) cls += " excluded";
      std::string tip = fmt::format("{}: {} {}, p95 {} ms{}", p.arm->name, metric,
                                    format_quality_ci(get(p.arm->json, {"quality"})), format_ms(p.latency),
                                    p.arm->excluded ? " (excluded)" : "");
      double r = p.arm->recommended ? 7 : 5;
      body += fmt::format("<g data-arm=\"{}\">", html_escape(p.arm->id));
      body += svg_circle(x, y, r, cls, fill(colour) + " stroke=\"#fff\" stroke-width=\"1.5\"", tip);
      body += "</g>";
      taken.push_back(Box{x - r, y - r, x + r, y + r});
    }
    Box bounds{kLeft + 2, kTop, plot_r - 2, plot_b - 2};
    for (auto it = points.rbegin(); it != points.rend(); ++it) {
      const Point& p = *it;
      double x = sx(p.latency), y = sy(p.quality);
      std::string label = truncate(p.arm->id, 20) + " " + format_quality(p.quality);
      std::vector<Spot> spots;
      for (double dy : {4.0, -8.0, 16.0, -20.0, 28.0, -32.0}) {
        spots.push_back({x + 10, y + dy, "start"});
        spots.push_back({x - 10, y + dy, "end"});
      }
      Spot at = place_label(label, 12, spots, bounds, taken);
      body += svg_text(at.x, at.y, label, p.arm->recommended ? "point-label recommended" : "point-label", at.anchor);
    }
  }
  body += svg_text((kLeft + plot_r) / 2, plot_b + 36, "latency p95 (ms, log scale)", "axis-label", "middle");
  body += svg_text(16, (kTop + plot_b) / 2, metric, "axis-label", "middle",
                   fmt::format("transform=\"rotate(-90 16 {})\"", px((kTop + plot_b) / 2)));
  if (!note.empty()) {
    double used = 0;
    body += wrap_note(kLeft, plot_b + 60, note, 110, 16, used);
  }
  return svg_open("chart-quality-latency", kW, height, metric + " vs p95 latency per arm",
                  "One point per arm with its 95% interval; the recommended arm is highlighted.") +
         body + "</svg>";
}

// ---------------------------------------------------------------------------------------------
// Cost

std::string cost_svg(const Json& report) {
  auto arms = arm_views(report);
  if (arms.empty()) return {};
  std::vector<Bar> build, peak, disk;
  for (const auto& a : arms) {
    auto secs = num(a.json, {"build", "seconds"});
    auto mb = num(a.json, {"build", "peak_mb"});
    auto bytes = num(a.json, {"build", "disk_bytes"});
    build.push_back({a.id, secs, format_duration(secs), a.recommended, a.name + ": build " + format_duration(secs)});
    peak.push_back({a.id, mb, mb ? format_sig(*mb, 3) + " MB" : std::string(kDash), a.recommended, {}});
    disk.push_back({a.id, bytes, format_bytes(bytes), a.recommended, {}});
  }
  constexpr double kPanel = 300, kGap = 30;
  std::string body;
  double h = 0;
  h = std::max(h, hbar_panel(body, 0, 4, kPanel, "Build time", build, "cost-build"));
  h = std::max(h, hbar_panel(body, kPanel + kGap, 4, kPanel, "Peak memory", peak, "cost-peak"));
  h = std::max(h, hbar_panel(body, 2 * (kPanel + kGap), 4, kPanel, "Disk", disk, "cost-disk"));
  return svg_open("chart-cost", 3 * kPanel + 2 * kGap, h + 8, "Build cost per arm: time, peak memory and disk") +
         body + "</svg>";
}

// ---------------------------------------------------------------------------------------------
// Freshness

std::string freshness_svg(const Json& report) {
  const Json* fr = get(report, {"freshness"});
  auto farms = objects(get(fr, {"arms"}));
  if (farms.empty()) return {};
  std::string rec = str_or(&report, {"recommendation", "arm"}, "");
  constexpr double kGroup = 170, kLeft = 56, kTop = 40, kPlotH = 200, kBar = 34;
  double width = std::max(600.0, kLeft + kGroup * static_cast<double>(farms.size()) + 20);
  double plot_b = kTop + kPlotH;

  double hi = 0;
  for (const Json* f : farms) {
    for (const char* k : {"before", "after"}) {
      for (const char* v : {"value", "ci_high"}) hi = std::max(hi, num(f, {k, v}).value_or(0));
    }
  }
  double lo = 0;
  bool unit = hi <= 1;
  hi = std::max(hi * 1.1, 0.1);
  nice_range(lo, hi, 5);
  if (unit) hi = std::min(hi, 1.0);
  Scale sy{0, hi, plot_b, kTop};

  std::string body;
  body += svg_rect(kLeft, 8, 12, 12, "legend", fill(kSeriesLight)) +
          svg_text(kLeft + 18, 18, "before the update", "legend-label");
  body += svg_rect(kLeft + 160, 8, 12, 12, "legend", fill(kSeries)) +
          svg_text(kLeft + 178, 18, "after the update", "legend-label");
  for (double t : linear_ticks(0, hi, 5)) {
    body += svg_line(kLeft, sy(t), width - 10, sy(t), "grid");
    body += svg_text(kLeft - 6, sy(t) + 4, format_sig(t, 3), "tick", "end");
  }
  body += svg_line(kLeft, plot_b, width - 10, plot_b, "axis");
  std::vector<Bar> times;
  for (std::size_t i = 0; i < farms.size(); ++i) {
    const Json* f = farms[i];
    std::string id = str_or(f, {"id"}, fmt::format("arm {}", i + 1));
    bool recommended = !rec.empty() && id == rec;
    double gx = kLeft + kGroup * static_cast<double>(i) + 30;
    for (int k = 0; k < 2; ++k) {
      const char* key = k == 0 ? "before" : "after";
      const Json* q = get(f, {key});
      auto v = num(q, {"value"});
      double x = gx + k * (kBar + 8);
      std::string_view colour = k == 0 ? kSeriesLight : recommended ? kHighlight : kSeries;
      if (!v) {
        body += svg_text(x + kBar / 2, plot_b - 4, std::string(kDash), "value", "middle");
        continue;
      }
      double top = sy(std::max(0.0, *v));
      body += svg_rect(x, top, kBar, std::max(1.0, plot_b - top),
                       std::string("bar ") + (k == 0 ? "fresh-before" : "fresh-after"), fill(colour),
                       fmt::format("{} {}: {}", id, key, format_quality_ci(q)));
      auto lo_v = num(q, {"ci_low"}), hi_v = num(q, {"ci_high"});
      double label_y = top - 5;
      if (lo_v && hi_v) {
        body += whisker(x + kBar / 2, sy(*lo_v), sy(*hi_v), kInk);
        label_y = std::min(label_y, sy(*hi_v) - 5);
      }
      body += svg_text(x + kBar / 2, label_y, format_quality(v), "value", "middle");
    }
    double cx = gx + kBar + 4;
    auto t = num(f, {"time_to_fresh_s"});
    body += svg_text(cx, plot_b + 16, fit_text(id, 13, kGroup - 10),
                     recommended ? "group-label recommended" : "group-label", "middle");
    std::string update = str_or(f, {"update"}, std::string(kDash));
    body += svg_text(cx, plot_b + 31, fit_text(update, 11, kGroup - 10), "tick", "middle");
    body += svg_text(cx, plot_b + 46, "fresh in " + format_duration(t), "tick", "middle");
    times.push_back({id, t, format_duration(t), recommended, id + ": fresh in " + format_duration(t)});
  }
  double h = hbar_panel(body, 0, plot_b + 62, std::min(width, 600.0), "Time to fresh (log scale)", times,
                        "fresh-time", /*log_scale=*/true);
  std::string metric = str_or(&report, {"metric", "label"}, "quality");
  return svg_open("chart-freshness", width, plot_b + 62 + h + 6,
                  metric + " on the new slice before and after each arm's update, and time to fresh") +
         body + "</svg>";
}

// ---------------------------------------------------------------------------------------------
// Profile charts

std::string length_histogram_svg(const Json* doc_tokens) {
  auto bins = objects(get(doc_tokens, {"histogram"}));
  if (bins.empty()) return {};
  constexpr double kW = 520, kLeft = 62, kRight = 24, kTop = 12, kPlotH = 130;
  double plot_b = kTop + kPlotH;
  double max_count = 0;
  for (const Json* b : bins) max_count = std::max(max_count, num(b, {"count"}).value_or(0));
  double hi = std::max(1.0, max_count), lo = 0;
  nice_range(lo, hi, 4);
  Scale sy{0, hi, plot_b, kTop};
  double bw = (kW - kLeft - kRight) / static_cast<double>(bins.size());
  std::string body;
  for (double t : linear_ticks(0, hi, 4)) {
    body += svg_line(kLeft, sy(t), kW - kRight, sy(t), "grid");
    body += svg_text(kLeft - 6, sy(t) + 4, format_number(t), "tick", "end");
  }
  std::size_t every = (bins.size() + 7) / 8;
  for (std::size_t i = 0; i < bins.size(); ++i) {
    auto c = num(bins[i], {"count"});
    auto blo = num(bins[i], {"lo"}), bhi = num(bins[i], {"hi"});
    double x = kLeft + bw * static_cast<double>(i);
    if (c && *c > 0) {
      body += svg_rect(x + 1, sy(*c), std::max(1.0, bw - 2), plot_b - sy(*c), "bar hist", fill(kSeries),
                       fmt::format("{}\u2013{} tokens: {} documents", format_number(blo), format_number(bhi),
                                   format_number(c)));
    }
    if (i % every == 0) body += svg_text(x, plot_b + 14, format_number(blo), "tick", "middle");
    if (i + 1 == bins.size()) body += svg_text(x + bw, plot_b + 14, format_number(bhi), "tick", "middle");
  }
  body += svg_line(kLeft, plot_b, kW - kRight, plot_b, "axis");
  body += svg_text((kLeft + kW - kRight) / 2, plot_b + 32, "document length (tokens)", "axis-label", "middle");
  body += svg_text(12, (kTop + plot_b) / 2, "documents", "axis-label", "middle",
                   fmt::format("transform=\"rotate(-90 12 {})\"", px((kTop + plot_b) / 2)));
  return svg_open("chart-doc-length", kW, plot_b + 40, "Documents by length in tokens") + body + "</svg>";
}

std::string label_counts_svg(const Json* labeled) {
  const Json* lc = get(labeled, {"label_counts"});
  if (!lc || !lc->is_object() || lc->empty()) return {};
  std::vector<std::pair<std::string, double>> counts;
  for (auto it = lc->begin(); it != lc->end(); ++it) {
    auto v = num(&it.value());
    counts.emplace_back(it.key(), v.value_or(0));
  }
  std::stable_sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  auto rare_list = strings(get(labeled, {"rare_labels"}));
  std::set<std::string> rare(rare_list.begin(), rare_list.end());
  constexpr std::size_t kMax = 40;
  std::vector<Bar> bars;
  double rest_n = 0, rest = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (i >= kMax) {
      ++rest_n;
      rest += counts[i].second;
      continue;
    }
    const auto& [label, n] = counts[i];
    bars.push_back({label, n, format_number(n) + (rare.count(label) ? " (rare)" : ""), false, {}});
  }
  std::string body;
  double h = hbar_panel(body, 4, 0, 516, "Training examples per label", bars, "label");
  if (rest_n > 0) {
    body += svg_text(0, h + 12, fmt::format("\u2026 and {} more labels with {} examples", format_number(rest_n),
                                            format_number(rest)),
                     "note");
    h += 20;
  }
  return svg_open("chart-labels", 520, h + 4, "Training examples per label") + body + "</svg>";
}

}  // namespace ragft::decide::render
