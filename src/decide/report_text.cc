#include "decide/report_text.h"

#include <algorithm>
#include <exception>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "decide/report_format.h"

namespace ragft::decide {

namespace {

using namespace render;  // NOLINT: the renderer's own helpers

constexpr std::size_t kWidth = 100;

// Report strings go to a terminal: no control characters (escape sequences) get through.
std::string clean(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n' || c == '\t' || c == '\r') out += ' ';
    else if (u < 0x20 || u == 0x7f) out += '?';
    else out += c;
  }
  return out;
}

std::string pad_right(std::string_view s, std::size_t width) {
  std::size_t n = code_points(s);
  return std::string(s) + std::string(n < width ? width - n : 0, ' ');
}

std::string pad_left(std::string_view s, std::size_t width) {
  std::size_t n = code_points(s);
  return std::string(n < width ? width - n : 0, ' ') + std::string(s);
}

class Out {
 public:
  explicit Out(bool color) : color_(color) {}
  std::string bold(std::string_view s) const { return color_ ? fmt::format("\x1b[1m{}\x1b[0m", s) : std::string(s); }
  std::string good(std::string_view s) const {
    return color_ ? fmt::format("\x1b[1;32m{}\x1b[0m", s) : std::string(s);
  }
  void line(std::string_view s) { text_ += std::string(s) + '\n'; }
  // `first` then `body` wrapped to kWidth; continuation lines indented to `indent` columns.
  void wrapped(std::string_view first, std::string_view body, std::size_t indent) {
    std::size_t room = kWidth > indent + 20 ? kWidth - indent : 20;
    auto lines = wrap(clean(body), room);
    if (lines.empty()) lines.emplace_back();
    std::string lead(first);
    lead = pad_right(lead, indent);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      line((i == 0 ? lead : std::string(indent, ' ')) + lines[i]);
    }
  }
  std::string take() { return std::move(text_); }

 private:
  bool color_;
  std::string text_;
};

std::string metric_label(const Json& r) {
  return str_or(&r, {"metric", "label"}, str_or(&r, {"metric", "name"}, "quality"));
}

void arms_table(Out& out, const Json& r) {
  auto arms = arm_views(r);
  if (arms.empty()) {
    out.line("No arms were run (no data in the project): the plan below comes from the requirements alone.");
    return;
  }
  std::size_t arm_w = 3;
  for (const auto& a : arms) arm_w = std::max(arm_w, code_points(clean(a.id)));
  arm_w = std::min<std::size_t>(arm_w, 16);
  constexpr std::size_t kQ = 22, kLat = 13, kBuild = 9, kPeak = 8;
  std::size_t note_w = kWidth - (arm_w + 1 + kQ + 1 + kLat + 1 + kBuild + 1 + kPeak + 2);
  out.line(out.bold(pad_right("arm", arm_w) + " " + pad_right(truncate(clean(metric_label(r)) + " [95% CI]", kQ), kQ) +
                    " " + pad_left("p50/p95 ms", kLat) + " " + pad_left("build", kBuild) + " " +
                    pad_left("peak MB", kPeak) + "  note"));
  for (const auto& a : arms) {
    const Json* j = a.json;
    auto p50 = num(j, {"latency_ms", "p50"}), p95 = num(j, {"latency_ms", "p95"});
    std::string lat = p50 || p95 ? format_ms(p50) + "/" + format_ms(p95) : std::string(kDash);
    auto peak = num(j, {"build", "peak_mb"});
    // Marks inline; when the details (why excluded, the arm's note) do not fit the column they
    // go on the lines below the row.
    std::vector<std::string> marks, details;
    if (a.recommended) marks.emplace_back("recommended");
    if (a.excluded) {
      marks.emplace_back("excluded");
      if (!a.excluded->empty()) details.push_back("excluded: " + *a.excluded);
    }
    if (boolean(j, {"cached"}).value_or(false)) marks.emplace_back("cached");
    if (auto n = str(j, {"note"})) details.push_back(*n);
    auto join = [](const std::vector<std::string>& parts) {
      std::string s;
      for (const auto& p : parts) s += (s.empty() ? "" : "; ") + p;
      return s;
    };
    std::vector<std::string> all = marks;
    for (const auto& d : details) {
      if (d.rfind("excluded: ", 0) == 0 && !all.empty() && all.back() == "excluded") all.pop_back();
      all.push_back(d);
    }
    std::string note = clean(join(all));
    bool fits = code_points(note) <= note_w;
    if (!fits) note = clean(join(marks));
    std::string row = pad_right(truncate(clean(a.id), arm_w), arm_w) + " " +
                      pad_right(format_quality_ci(get(j, {"quality"})), kQ) + " " + pad_left(lat, kLat) + " " +
                      pad_left(format_duration(num(j, {"build", "seconds"})), kBuild) + " " +
                      pad_left(peak ? format_sig(*peak, 3) : std::string(kDash), kPeak) + "  " +
                      truncate(note, note_w);
    while (!row.empty() && row.back() == ' ') row.pop_back();
    out.line(a.recommended ? out.good(row) : row);
    if (!fits) {
      for (const auto& d : details) out.wrapped(std::string(arm_w + 1, ' ') + "└ ", d, arm_w + 3);
    }
  }
}

void decision_block(Out& out, const Json& r) {
  const Json* rec = get(r, {"recommendation"});
  auto decision = str(rec, {"decision"});
  std::string head = "Decision: " + (decision ? clean(decision_label(*decision)) : "none");
  if (auto arm = str(rec, {"arm"})) head += " (arm " + clean(*arm) + ")";
  out.line(out.bold(head));
  if (auto h = str(rec, {"headline"})) out.wrapped("  ", *h, 2);

  auto reasons = objects(get(rec, {"reasons"}));
  if (!reasons.empty()) {
    out.line(out.bold("Why:"));
    for (const Json* x : reasons) {
      std::string tag = "[";
      tag += clean(str_or(x, {"evidence"}, "?"));
      tag += "] ";
      std::string body = str_or(x, {"text"}, std::string(kDash));
      if (auto ref = str(x, {"ref"})) body += " (" + *ref + ")";
      out.wrapped("  " + tag, body, 2 + code_points(tag));
    }
  }
  auto change = objects(get(rec, {"what_would_change"}));
  if (!change.empty()) {
    out.line(out.bold("What would change it:"));
    for (const Json* x : change) {
      std::string body = "if " + str_or(x, {"if"}, std::string(kDash));
      if (auto then = str(x, {"then"})) body += " -> " + decision_label(*then);
      if (auto ref = str(x, {"ref"})) body += " (" + *ref + ")";
      out.wrapped("  - ", body, 4);
    }
  }
  auto to_try = strings(get(rec, {"arms_to_try"}));
  if (!to_try.empty()) {
    std::string arms;
    for (const auto& a : to_try) arms += (arms.empty() ? "" : ", ") + a;
    out.line(out.bold("Arms to try:"));
    out.wrapped("  ", arms, 2);
  }
  auto collect = strings(get(rec, {"collect"}));
  if (!collect.empty()) {
    out.line(out.bold("Data to collect:"));
    for (const auto& c : collect) out.wrapped("  - ", c, 4);
  }
  auto excluded = objects(get(rec, {"excluded"}));
  if (!excluded.empty()) {
    out.line(out.bold("Excluded:"));
    for (const Json* x : excluded) {
      out.wrapped("  - ", str_or(x, {"arm"}, std::string(kDash)) + ": " + str_or(x, {"why"}, std::string(kDash)), 4);
    }
  }
}

void freshness_block(Out& out, const Json& r) {
  const Json* fr = get(r, {"freshness"});
  if (!fr || !fr->is_object()) return;
  out.line(out.bold("Freshness:"));
  std::string what = str_or(fr, {"description"}, "");
  if (auto n = num(fr, {"new_items"})) what += (what.empty() ? "" : "; ") + format_number(n) + " new items";
  if (!what.empty()) out.wrapped("  ", what, 2);
  auto arms = objects(get(fr, {"arms"}));
  std::size_t id_w = 3;
  for (const Json* f : arms) id_w = std::max(id_w, code_points(clean(str_or(f, {"id"}, std::string(kDash)))));
  id_w = std::min<std::size_t>(id_w, 16);
  for (const Json* f : arms) {
    std::string row = "  " + pad_right(truncate(clean(str_or(f, {"id"}, std::string(kDash))), id_w), id_w) + "  " +
                      format_quality(num(f, {"before", "value"})) + " -> " +
                      pad_right(format_quality_ci(get(f, {"after"})), 22) + "  fresh in " +
                      format_duration(num(f, {"time_to_fresh_s"}));
    if (auto u = str(f, {"update"})) row += " (" + clean(*u) + ")";
    out.line(truncate(row, kWidth));
  }
}

// Generation arms: answer metrics and token costs, one row per arm.
void generation_block(Out& out, const Json& r) {
  auto rows = generation_rows(r);
  if (rows.empty()) return;
  std::size_t arm_w = 3;
  for (const auto& row : rows) arm_w = std::min<std::size_t>(std::max(arm_w, code_points(clean(row.id))), 16);
  // Two lines per arm keep it within kWidth: quality, then tokens and cost.
  constexpr std::size_t kCol = 9, kWide = 15;
  std::string head1 = pad_right("arm", arm_w), head2 = std::string(arm_w, ' ');
  auto cell = [](std::string& line, std::string_view text, std::size_t width) {
    line += ' ';
    line += pad_left(text, width);
  };
  for (std::size_t i = 0; i < 6; ++i) cell(head1, kGenerationColumns[i], kCol);
  for (std::size_t i = 6; i < 10; ++i) cell(head2, kGenerationColumns[i], kWide);
  out.line(out.bold("Answers and token costs:"));
  out.line(out.bold(head1));
  out.line(out.bold(head2));
  for (const auto& row : rows) {
    auto cells = generation_cells(row);
    std::string l1 = pad_right(truncate(clean(row.id), arm_w), arm_w), l2 = std::string(arm_w, ' ');
    for (std::size_t i = 0; i < 6; ++i) cell(l1, cells[i], kCol);
    for (std::size_t i = 6; i < 10; ++i) cell(l2, cells[i], kWide);
    out.line(l1);
    out.line(l2);
  }
}

std::string render_summary(const Json& r, bool color) {
  Out out(color);
  std::string title = clean(str_or(&r, {"project", "name"}, "ragft decide report"));
  if (auto t = str(&r, {"project", "task"})) title += " \u2014 " + clean(*t);
  if (get(r, {"metric"})) title += ", " + clean(metric_label(r));
  out.line(out.bold(truncate(title, kWidth)));
  out.line("");
  arms_table(out, r);
  for (const auto& s : strings(get(r, {"skipped_arms"}))) out.wrapped("  skipped ", s, 10);
  if (!generation_rows(r).empty()) {
    out.line("");
    generation_block(out, r);
  }
  out.line("");
  decision_block(out, r);
  if (get(r, {"freshness"})) {
    out.line("");
    freshness_block(out, r);
  }
  auto warnings = strings(get(r, {"recommendation", "warnings"}));
  if (!warnings.empty()) {
    out.line("");
    out.line(out.bold("Warnings:"));
    for (const auto& w : warnings) out.wrapped("  ! ", w, 4);
  }
  return out.take();
}

}  // namespace

std::string render_text(const nlohmann::json& report, bool color) {
  try {
    return render_summary(report, color);
  } catch (const std::exception& e) {  // a bug; still say something useful
    return std::string("ragft decide: the report could not be rendered: ") + e.what() + "\n";
  }
}

}  // namespace ragft::decide
