#include "decide/report_html.h"

#include <exception>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "decide/report_charts.h"
#include "decide/report_format.h"
#include "decide/report_svg.h"

namespace ragft::decide {

namespace {

using namespace render;  // NOLINT: the renderer's own helpers

constexpr std::string_view kCss = R"css(
*{box-sizing:border-box}
body{margin:0;background:#fff;color:#1f2328;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 28px 40px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:19px;margin:0 0 10px;padding-bottom:4px;border-bottom:2px solid #e9ecef}
h3{font-size:15px;margin:14px 0 6px}
section{margin:28px 0}
.meta{color:#57606a;margin:0 0 16px}
.banner{background:#d9480f;color:#fff;border-radius:10px;padding:18px 22px;margin:12px 0 18px}
.banner .kicker{text-transform:uppercase;letter-spacing:.08em;font-size:12px;opacity:.9}
.banner .decision{font-size:40px;font-weight:800;line-height:1.1;margin:2px 0 6px}
.banner .headline{font-size:18px;font-weight:500}
.banner .arm{font-size:13px;opacity:.9;margin-top:6px}
.banner.none{background:#495057}
ul{margin:4px 0;padding-left:22px}
li{margin:3px 0}
.badge{display:inline-block;font-size:11px;font-weight:600;border-radius:9px;padding:0 8px;margin-right:6px;vertical-align:1px;border:1px solid transparent}
.badge.measured{background:#e7f5ff;color:#1864ab;border-color:#a5d8ff}
.badge.answered{background:#fff9db;color:#8f5b00;border-color:#ffe066}
.badge.default{background:#f1f3f5;color:#495057;border-color:#dee2e6}
.badge.other{background:#f1f3f5;color:#495057}
.badge.rec{background:#d9480f;color:#fff}
.badge.excl{background:#f1f3f5;color:#862e2e;border-color:#ffc9c9}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
code.ref{color:#57606a}
.warnings{background:#fff4e6;border-left:4px solid #f08c00;padding:8px 14px;border-radius:4px;margin:12px 0}
.cols{display:flex;flex-wrap:wrap;gap:12px 40px}
.cols>div{flex:1 1 300px}
table{border-collapse:collapse;width:100%;margin:6px 0 10px}
th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid #e9ecef}
th{font-size:12px;color:#57606a;font-weight:600;border-bottom:2px solid #dee2e6}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.arm td{border-bottom:none}
tr.config td{padding-top:0;color:#57606a}
tr.config code{white-space:pre-wrap;word-break:break-all;font-size:11px}
tr.recommended td{background:#fff4e6}
tr.recommended td:first-child{box-shadow:inset 4px 0 0 #d9480f}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 16px;margin:6px 0}
dl.facts dt{color:#57606a}
dl.facts dd{margin:0}
.muted{color:#6e7781}
.empty{color:#6e7781;font-style:italic}
svg.chart{display:block;max-width:100%;height:auto;margin:8px 0}
svg text{font-family:system-ui,"DejaVu Sans",sans-serif}
svg .tick{font-size:11px;fill:#57606a}
svg .axis{stroke:#8c959f;stroke-width:1}
svg .grid{stroke:#eef0f2;stroke-width:1}
svg .axis-label{font-size:12px;fill:#57606a}
svg .panel-title{font-size:13px;font-weight:600}
svg .bar-label,svg .value{font-size:11px}
svg .point-label{font-size:12px}
svg .point-label.recommended,svg .group-label.recommended{font-weight:700;fill:#d9480f}
svg .group-label{font-size:12px;font-weight:600}
svg .legend-label{font-size:12px}
svg .node-text{font-size:12px;fill:#868e96}
svg .node-text.on-path{font-weight:600;fill:#fff}
svg .edge-label.on-path{fill:#d9480f;font-weight:600}
svg .edge-label{font-size:11px;fill:#868e96;paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}
svg .note{font-size:12px;font-style:italic;fill:#57606a}
svg .budget-label,svg .target-label{font-size:11px;fill:#c92a2a}
footer{margin-top:36px;color:#6e7781;font-size:12px;border-top:1px solid #e9ecef;padding-top:8px}
@media print{
  body{font-size:11px}
  main{max-width:none;padding:0}
  .banner,.badge,tr.recommended td{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  section,svg.chart,table{break-inside:avoid}
}
)css";

std::string esc(std::string_view s) { return html_escape(s); }

std::string badge(std::string_view evidence) {
  std::string cls = evidence == "measured" || evidence == "answered" || evidence == "default" ? std::string(evidence)
                                                                                              : "other";
  return fmt::format("<span class=\"badge {}\">{}</span>", cls, esc(evidence.empty() ? "?" : evidence));
}

std::string section(std::string_view id, std::string_view title, const std::string& body) {
  return fmt::format("<section id=\"{}\"><h2>{}</h2>\n{}</section>\n", id, esc(title), body);
}

std::string metric_label(const Json& r) {
  return str_or(&r, {"metric", "label"}, str_or(&r, {"metric", "name"}, "quality"));
}

std::string list_or_empty(const std::string& items, std::string_view empty) {
  return items.empty() ? fmt::format("<p class=\"empty\">{}</p>", esc(empty)) : "<ul>" + items + "</ul>";
}

// -- header ---------------------------------------------------------------------------------

std::string header_html(const Json& r) {
  const Json* rec = get(r, {"recommendation"});
  std::string s = fmt::format("<h1>{}</h1>\n", esc(str_or(&r, {"project", "name"}, "ragft decide report")));
  std::vector<std::string> meta;
  if (auto t = str(&r, {"project", "task"})) meta.push_back("task: <b>" + esc(*t) + "</b>");
  if (get(r, {"metric"})) meta.push_back("metric: <b>" + esc(metric_label(r)) + "</b>");
  if (auto f = str(&r, {"project", "file"})) meta.push_back("project file: <code>" + esc(*f) + "</code>");
  if (!meta.empty()) {
    s += "<p class=\"meta\">";
    for (std::size_t i = 0; i < meta.size(); ++i) s += (i ? " &middot; " : "") + meta[i];
    s += "</p>\n";
  }

  auto decision = str(rec, {"decision"});
  s += fmt::format("<div class=\"banner{}\" id=\"decision\"><div class=\"kicker\">Recommendation</div>",
                   decision ? "" : " none");
  s += fmt::format("<div class=\"decision\">{}</div>", esc(decision ? decision_label(*decision) : "No recommendation"));
  if (auto h = str(rec, {"headline"})) s += fmt::format("<div class=\"headline\">{}</div>", esc(*h));
  if (auto arm = str(rec, {"arm"})) {
    std::string name;
    for (const auto& a : arm_views(r)) {
      if (a.id == *arm && a.name != a.id) name = " (" + a.name + ")";
    }
    s += fmt::format("<div class=\"arm\">runs as arm <b>{}</b>{}</div>", esc(*arm), esc(name));
  }
  s += "</div>\n";

  std::string reasons;
  for (const Json* x : objects(get(rec, {"reasons"}))) {
    reasons += "<li>" + badge(str_or(x, {"evidence"}, "")) + esc(str_or(x, {"text"}, std::string(kDash)));
    if (auto ref = str(x, {"ref"})) reasons += " <code class=\"ref\">" + esc(*ref) + "</code>";
    reasons += "</li>";
  }
  std::string warnings;
  for (const auto& w : strings(get(rec, {"warnings"}))) warnings += "<li>" + esc(w) + "</li>";
  if (!warnings.empty()) s += "<div class=\"warnings\"><b>Warnings</b><ul>" + warnings + "</ul></div>\n";

  std::string change;
  for (const Json* x : objects(get(rec, {"what_would_change"}))) {
    change += "<li>If " + esc(str_or(x, {"if"}, std::string(kDash)));
    if (auto then = str(x, {"then"})) change += " &rarr; <b>" + esc(decision_label(*then)) + "</b>";
    if (auto ref = str(x, {"ref"})) change += " <code class=\"ref\">" + esc(*ref) + "</code>";
    change += "</li>";
  }
  std::string excluded;
  for (const Json* x : objects(get(rec, {"excluded"}))) {
    excluded += "<li><b>" + esc(str_or(x, {"arm"}, std::string(kDash))) + "</b>: " +
                esc(str_or(x, {"why"}, std::string(kDash))) + "</li>";
  }
  s += "<div class=\"cols\"><div><h3>Why</h3>" + list_or_empty(reasons, "No reasons recorded.") + "</div>";
  s += "<div><h3>What would change the decision</h3>" + list_or_empty(change, "Nothing recorded.") + "</div></div>\n";
  if (!excluded.empty()) s += "<h3>Excluded arms</h3><ul>" + excluded + "</ul>\n";
  std::string to_try;
  for (const auto& a : strings(get(rec, {"arms_to_try"}))) to_try += "<li>" + esc(a) + "</li>";
  if (!to_try.empty()) s += "<h3>Arms to try</h3><ul>" + to_try + "</ul>\n";
  std::string collect;
  for (const auto& c : strings(get(rec, {"collect"}))) collect += "<li>" + esc(c) + "</li>";
  if (!collect.empty()) s += "<h3>Data to collect</h3><ul>" + collect + "</ul>\n";
  return s;
}

// -- tables ---------------------------------------------------------------------------------

std::string arms_table(const Json& r) {
  auto arms = arm_views(r);
  if (arms.empty()) return {};
  std::string s = fmt::format(
      "<table class=\"arms\"><thead><tr><th>Arm</th><th class=\"num\">{} [95% CI]</th>"
      "<th class=\"num\">p50 ms</th><th class=\"num\">p95 ms</th><th class=\"num\">Build</th>"
      "<th class=\"num\">Peak</th><th class=\"num\">Disk</th><th>Cached</th><th>Capabilities</th></tr></thead>"
      "<tbody>",
      esc(metric_label(r)));
  for (const auto& a : arms) {
    const Json* j = a.json;
    std::string arm = "<b>" + esc(a.id) + "</b>";
    if (a.recommended) arm += " <span class=\"badge rec\">recommended</span>";
    if (a.excluded) arm += " <span class=\"badge excl\">excluded</span>";
    if (a.name != a.id) arm += "<br>" + esc(a.name);
    if (auto note = str(j, {"note"})) arm += "<br><span class=\"muted\">" + esc(*note) + "</span>";
    if (a.excluded && !a.excluded->empty()) {
      arm += "<br><span class=\"muted\">excluded: " + esc(*a.excluded) + "</span>";
    }
    std::vector<std::string> caps;
    if (boolean(j, {"capabilities", "cites"}).value_or(false)) caps.emplace_back("cites sources");
    if (boolean(j, {"capabilities", "acl"}).value_or(false)) caps.emplace_back("ACLs");
    if (auto u = str(j, {"capabilities", "update"})) caps.push_back("update: " + *u);
    std::string cap_text;
    for (const auto& c : caps) cap_text += (cap_text.empty() ? "" : ", ") + c;
    auto peak = num(j, {"build", "peak_mb"});
    std::string tr_class = a.recommended ? " recommended" : "";
    s += fmt::format(
        "<tr class=\"arm{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
        tr_class, arm, esc(format_quality_ci(get(j, {"quality"}))), esc(format_ms(num(j, {"latency_ms", "p50"}))),
        esc(format_ms(num(j, {"latency_ms", "p95"}))), esc(format_duration(num(j, {"build", "seconds"}))),
        esc(peak ? format_sig(*peak, 3) + " MB" : std::string(kDash)),
        esc(format_bytes(num(j, {"build", "disk_bytes"}))),
        esc(display(get(j, {"cached"}))), esc(cap_text.empty() ? std::string(kDash) : cap_text));
    s += fmt::format("<tr class=\"config{}\"><td colspan=\"9\">config <code>{}</code></td></tr>", tr_class,
                     esc(str_or(j, {"config"}, std::string(kDash))));
  }
  return s + "</tbody></table>\n";
}

std::string signed_quality(std::optional<double> v) {
  if (!v) return std::string(kDash);
  return fmt::format("{:+.3f}", *v);
}

// Generation arms: every answer metric and the token-cost model.
std::string generation_table(const Json& r) {
  auto rows = generation_rows(r);
  if (rows.empty()) return {};
  std::string s = "<h3>Answers and token costs</h3><table class=\"generation\"><thead><tr><th>Arm</th>";
  for (auto c : kGenerationColumns) s += "<th class=\"num\">" + esc(std::string(c)) + "</th>";
  s += "</tr></thead><tbody>";
  for (const auto& row : rows) {
    s += "<tr><td>" + esc(row.id) + "</td>";
    for (const auto& c : generation_cells(row)) s += "<td class=\"num\">" + esc(c) + "</td>";
    s += "</tr>";
  }
  s += "</tbody></table><p class=\"muted\">Tokens per query as the model reported them (retrieved context "
       "included); costs at the project's prices (generation.prices, USD per million tokens).</p>";
  return s;
}

std::string skipped_list(const Json& r) {
  auto skipped = strings(get(r, {"skipped_arms"}));
  if (skipped.empty()) return {};
  std::string s = "<h3>Arms not run</h3><ul>";
  for (const auto& x : skipped) s += "<li>" + esc(x) + "</li>";
  return s + "</ul>";
}

std::string comparisons_table(const Json& r) {
  auto comps = objects(get(r, {"comparisons"}));
  if (comps.empty()) return {};
  std::string s =
      "<h3>Paired comparisons</h3><table class=\"comparisons\"><thead><tr><th>A</th><th>B</th>"
      "<th class=\"num\">A &minus; B</th><th class=\"num\">95% CI</th><th>Distinguishable</th></tr></thead><tbody>";
  for (const Json* c : comps) {
    auto lo = num(c, {"ci_low"}), hi = num(c, {"ci_high"});
    std::string ci = lo && hi ? fmt::format("[{}, {}]", signed_quality(lo), signed_quality(hi)) : std::string(kDash);
    std::string dist = display(get(c, {"distinguishable"}));
    s += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
        esc(str_or(c, {"a"}, std::string(kDash))), esc(str_or(c, {"b"}, std::string(kDash))),
        esc(signed_quality(num(c, {"diff"}))), esc(ci), dist == "yes" ? "<b>yes</b>" : esc(dist));
  }
  return s + "</tbody></table>\n";
}

struct Requirement {
  std::string_view key, question;
};
constexpr Requirement kRequirements[] = {
    {"need", "Does the task need knowledge, behaviour or both?"},
    {"change", "How often does the knowledge change?"},
    {"citations", "Must answers cite their sources?"},
    {"latency_p95_ms", "Latency budget (p95, ms)"},
    {"wrong_answer_cost", "Cost of a wrong answer"},
    {"sensitivity", "Data sensitivity"},
    {"acls", "Per-document access control?"},
    {"deadline_weeks", "Deadline (weeks)"},
    {"style_consistency", "Must outputs keep a consistent style?"},
    {"labeled_examples", "Labelled examples"},
    {"quality_target", "Quality target"},
};

std::string requirements_table(const Json& r) {
  const Json* req = get(r, {"requirements"});
  if (!req || !req->is_object() || req->empty()) return {};
  std::string rows;
  auto row = [&](std::string_view question, std::string_view key, const Json& v) {
    const Json* value = v.is_object() ? get(v, {"value"}) : &v;
    std::string source = v.is_object() ? str_or(&v, {"source"}, "") : "";
    rows += fmt::format("<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>", esc(question), esc(key),
                        esc(display(value)), source.empty() ? std::string(kDash) : badge(source));
  };
  for (const auto& q : kRequirements) {
    if (const Json* v = get(req, {q.key})) row(q.question, q.key, *v);
  }
  for (auto it = req->begin(); it != req->end(); ++it) {
    bool known = false;
    for (const auto& q : kRequirements) known = known || q.key == it.key();
    if (!known && !it.value().is_null()) row(it.key(), it.key(), it.value());
  }
  if (rows.empty()) return {};
  return "<table class=\"requirements\"><thead><tr><th>Question</th><th>Key</th><th>Value</th><th>Source</th></tr>"
         "</thead><tbody>" +
         rows + "</tbody></table>\n";
}

// -- profile --------------------------------------------------------------------------------

std::string fact(std::string_view term, const std::string& value_html) {
  return fmt::format("<dt>{}</dt><dd>{}</dd>", esc(term), value_html);
}

std::string corpus_html(const Json* c) {
  if (!c || !c->is_object()) return "<h3>Corpus</h3><p class=\"empty\">No corpus profile.</p>";
  std::string f;
  f += fact("Documents", esc(format_number(num(c, {"documents"}))));
  f += fact("Chunks", esc(format_number(num(c, {"chunks"}))));
  f += fact("Tokens", esc(format_number(num(c, {"tokens"}))));
  if (const Json* formats = get(c, {"formats"}); formats && formats->is_object()) {
    std::string v;
    for (auto it = formats->begin(); it != formats->end(); ++it) {
      v += (v.empty() ? "" : ", ") + it.key() + " " + format_number(num(&it.value()));
    }
    f += fact("Formats", esc(v.empty() ? std::string(kDash) : v));
  }
  if (const Json* dt = get(c, {"doc_tokens"})) {
    f += fact("Document length (tokens)",
              esc(fmt::format("p10 {} \u00b7 p50 {} \u00b7 p90 {} \u00b7 max {}", format_number(num(dt, {"p10"})),
                              format_number(num(dt, {"p50"})), format_number(num(dt, {"p90"})),
                              format_number(num(dt, {"max"})))));
  }
  f += fact("Near-duplicate chunks", esc(format_share(num(c, {"near_duplicate_share"}))));
  f += fact("Boilerplate", esc(format_share(num(c, {"boilerplate_share"}))));
  if (const Json* lang = get(c, {"language"})) {
    std::string v = str_or(lang, {"name"}, std::string(kDash));
    if (auto code = str(lang, {"code"})) v += " (" + *code + ")";
    if (auto conf = num(lang, {"confidence"})) v += ", confidence " + format_share(conf);
    f += fact("Language", esc(v));
  }
  if (const Json* ch = get(c, {"change"})) {
    auto per_week = num(ch, {"per_week"});
    std::string v = per_week ? fmt::format("{} changes to {} documents over {} days ({}/week)",
                                           format_number(num(ch, {"changes"})),
                                           format_number(num(ch, {"documents_changed"})),
                                           format_sig(num(ch, {"span_days"}).value_or(0), 3), format_sig(*per_week, 3))
                             : "no change history";
    f += fact("Change rate", esc(v));
  } else {
    f += fact("Change rate", esc(kDash));
  }
  return "<h3>Corpus</h3><dl class=\"facts\">" + f + "</dl>" + length_histogram_svg(get(c, {"doc_tokens"}));
}

std::string finding_html(const Json* l, std::string_view key) {
  const Json* f = get(l, {key});
  auto n = num(f, {"count"});
  std::string v = format_number(n);
  if (key == "leakage") {
    if (auto ev = num(f, {"eval_examples"})) v += " of " + format_number(ev) + " eval examples";
    if (auto fr = num(f, {"fraction"})) v += " (" + format_share(fr) + ")";
  }
  std::string out = esc(v);
  auto samples = objects(get(f, {"samples"}));
  if (n && *n > 0 && !samples.empty()) {
    if (auto text = str(samples.front(), {"text"})) {
      out += " <span class=\"muted\">e.g. &ldquo;" + esc(truncate(*text, 80)) + "&rdquo;</span>";
    }
  }
  return out;
}

std::string labeled_html(const Json* l) {
  if (!l || !l->is_object()) return {};
  std::string f;
  f += fact("Training examples", esc(format_number(num(l, {"examples"}))));
  if (auto ev = num(l, {"leakage", "eval_examples"})) f += fact("Eval examples", esc(format_number(ev)));
  if (const Json* lc = get(l, {"label_counts"}); lc && lc->is_object()) {
    f += fact("Labels", esc(format_number(static_cast<double>(lc->size()))));
  }
  f += fact("Multi-label", esc(display(get(l, {"multi_label"}))));
  auto rare = strings(get(l, {"rare_labels"}));
  std::string rare_text;
  for (const auto& x : rare) rare_text += (rare_text.empty() ? "" : ", ") + x;
  if (auto min = num(l, {"min_per_class"})) {
    f += fact("Rare labels (< " + format_number(min) + " examples)", esc(rare.empty() ? "none" : rare_text));
  } else if (!rare.empty()) {
    f += fact("Rare labels", esc(rare_text));
  }
  f += fact("Exact duplicates", finding_html(l, "exact_duplicates"));
  f += fact("Near-duplicates", finding_html(l, "near_duplicates"));
  f += fact("Conflicting labels", finding_html(l, "conflicting_labels"));
  if (get(l, {"leakage"})) f += fact("Train/eval leakage", finding_html(l, "leakage"));
  return "<h3>Labelled data</h3><dl class=\"facts\">" + f + "</dl>" + label_counts_svg(l);
}

std::string eval_html(const Json* e) {
  if (!e || !e->is_object()) return {};
  std::string f;
  std::string items = format_number(num(e, {"items"}));
  if (auto unit = str(e, {"unit"})) items += " " + *unit;
  f += fact("Items", esc(items));
  if (auto hw = num(e, {"ci95_half_width_at_0_5"})) {
    f += fact("95% CI half-width (at 0.5)", esc("\u00b1" + fmt::format("{:.3f}", *hw)));
  }
  return "<h3>Eval set</h3><dl class=\"facts\">" + f + "</dl>";
}

std::string profile_section(const Json& r) {
  const Json* p = get(r, {"profile"});
  if (!p || !p->is_object()) return {};
  std::string body = corpus_html(get(p, {"corpus"})) + labeled_html(get(p, {"labeled"})) + eval_html(get(p, {"eval"}));
  return section("profile", "Data profile", body);
}

std::string footer_html(const Json& r) {
  std::vector<std::string> parts{"ragft decide report"};
  if (auto v = num(&r, {"ragft_decide"})) parts.push_back("schema " + format_number(v));
  if (auto t = num(&r, {"timing", "seconds"})) parts.push_back("bake-off took " + format_duration(t));
  if (auto c = num(&r, {"timing", "cached_arms"})) parts.push_back(format_number(c) + " arms from cache");
  std::string s = "<footer>";
  for (std::size_t i = 0; i < parts.size(); ++i) s += (i ? " &middot; " : "") + esc(parts[i]);
  return s + "</footer>";
}

std::string render_page(const Json& r) {
  std::string title = str_or(&r, {"project", "name"}, "ragft decide report");
  std::string s = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>{} \u2014 ragft decide</title><style>{}</style></head>\n<body><main>\n",
      esc(title), kCss);
  s += "<header>" + header_html(r) + "</header>\n";

  if (std::string fc = flowchart_svg(r); !fc.empty()) {
    s += section("flowchart", "How the decision was reached",
                 "<p class=\"muted\">Highlighted: the path taken for this project. Grey: branches not taken.</p>" + fc);
  }
  auto arms = arm_views(r);
  if (arms.empty()) {
    s += section("results", "Results", "<p class=\"empty\">No arms were run.</p>");
  } else {
    s += section("quality-latency", metric_label(r) + " vs latency",
                 "<p class=\"muted\">Each point is an arm with its 95% interval; latency is the p95 per query.</p>" +
                     quality_latency_svg(r));
    s += section("cost", "Build cost", cost_svg(r));
  }
  if (const Json* fr = get(r, {"freshness"}); fr && fr->is_object()) {
    std::string intro;
    if (auto d = str(fr, {"description"})) intro += esc(*d);
    if (auto n = num(fr, {"new_items"})) intro += (intro.empty() ? "" : "; ") + esc(format_number(n)) + " new items";
    std::string chart = freshness_svg(r);
    s += section("freshness", "Freshness",
                 (intro.empty() ? "" : "<p>" + intro + ".</p>") +
                     (chart.empty() ? "<p class=\"empty\">No arm was measured on new data.</p>" : chart));
  }
  if (!arms.empty())
    s += section("arms", "Arms", arms_table(r) + skipped_list(r) + generation_table(r) + comparisons_table(r));
  s += profile_section(r);
  if (std::string req = requirements_table(r); !req.empty()) s += section("requirements", "Requirements", req);
  s += footer_html(r);
  return s + "\n</main></body></html>\n";
}

}  // namespace

std::string render_html(const nlohmann::json& report) {
  try {
    return render_page(report);
  } catch (const std::exception& e) {  // a bug, but the user still gets a page that says so
    return fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ragft decide report</title></head>"
        "<body><h1>ragft decide report</h1><p>The report could not be rendered: {}</p></body></html>\n",
        html_escape(e.what()));
  }
}

}  // namespace ragft::decide
