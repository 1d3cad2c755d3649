#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "decide/report_format.h"
#include "decide/report_html.h"
#include "decide/report_test_util.h"
#include "decide/report_text.h"

namespace ragft::decide {
namespace {

using nlohmann::json;
using testing::chart;
using testing::count;
using testing::count_class;
using testing::external_reference;
using testing::load_fixture;

constexpr const char* kEvil = "<script>alert(1)</script>";

std::size_t max_line_width(const std::string& text) {
  std::size_t widest = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) widest = std::max(widest, render::code_points(line));
  return widest;
}

// ---------------------------------------------------------------------------------------------
// Formatting

TEST(ReportFormatTest, Numbers) {
  using namespace render;
  EXPECT_EQ(format_sig(1.2), "1.2");
  EXPECT_EQ(format_sig(0.05), "0.05");
  EXPECT_EQ(format_sig(0.0923), "0.0923");
  EXPECT_EQ(format_sig(12.34), "12.3");
  EXPECT_EQ(format_sig(1234.4), "1234");
  EXPECT_EQ(format_sig(9.996), "10");
  EXPECT_EQ(format_sig(0), "0");
  EXPECT_EQ(format_sig(-0.5), "-0.5");
  EXPECT_EQ(format_number(5183.0), "5,183");
  EXPECT_EQ(format_number(1236480.0), "1,236,480");
  EXPECT_EQ(format_number(-1000.0), "-1,000");
  EXPECT_EQ(format_number(0.0438), "0.0438");
  EXPECT_EQ(format_quality(0.8), "0.800");
  EXPECT_EQ(format_quality(std::nullopt), "\u2014");
  EXPECT_EQ(format_ms(0.021), "0.021");
  EXPECT_EQ(format_ms(14.2), "14.2");
  EXPECT_EQ(format_duration(0.2), "0.2 s");
  EXPECT_EQ(format_duration(41.2), "41.2 s");
  EXPECT_EQ(format_duration(1800), "30 min");
  EXPECT_EQ(format_duration(9000), "2.5 h");
  EXPECT_EQ(format_bytes(120), "120 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KB");
  EXPECT_EQ(format_bytes(1234567), "1.18 MB");  // 1234567 / 1048576 = 1.1774
  EXPECT_EQ(format_bytes(3.0 * 1024 * 1024 * 1024), "3 GB");
  EXPECT_EQ(format_share(0.004), "0.4%");
  EXPECT_EQ(format_share(0.25), "25%");
  EXPECT_EQ(format_share(0.0), "0%");
  EXPECT_EQ(format_quality_ci(nullptr), "\u2014");
  json q = {{"value", 0.84}, {"ci_low", 0.81}, {"ci_high", 0.87}};
  EXPECT_EQ(format_quality_ci(&q), "0.840 [0.810, 0.870]");
  q["ci_high"] = nullptr;
  EXPECT_EQ(format_quality_ci(&q), "0.840");
}

TEST(ReportFormatTest, NullSafeAccess) {
  using namespace render;
  json j = {{"a", {{"b", 1.5}, {"s", "x"}, {"n", nullptr}, {"t", true}}}, {"arr", {1, {{"k", 1}}, "s", nullptr}}};
  EXPECT_EQ(num(&j, {"a", "b"}), 1.5);
  EXPECT_FALSE(num(&j, {"a", "s"}));
  EXPECT_FALSE(num(&j, {"a", "t"}));  // booleans are not numbers
  EXPECT_FALSE(num(&j, {"a", "n"}));
  EXPECT_FALSE(num(&j, {"a", "b", "c"}));
  EXPECT_FALSE(num(nullptr, {"a"}));
  EXPECT_EQ(str(&j, {"a", "s"}), "x");
  EXPECT_EQ(get(j, {"a", "n"}), nullptr);
  EXPECT_EQ(objects(get(j, {"arr"})).size(), 1u);
  EXPECT_TRUE(objects(get(j, {"a"})).empty());
  json nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(num(&nan));
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(truncate("abcdef", 4), "abc\u2026");
  EXPECT_EQ(truncate("\u00e9\u00e9\u00e9", 3), "\u00e9\u00e9\u00e9");  // counts code points, not bytes
  EXPECT_EQ(wrap("one two three four", 9), (std::vector<std::string>{"one two", "three", "four"}));
}

// ---------------------------------------------------------------------------------------------
// HTML

TEST(ReportHtmlTest, ClassificationFixture) {
  json r = load_fixture("report_classification.json");
  std::string html = render_html(r);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_NE(html.find("<h1>TREC question types</h1>"), std::string::npos);
  EXPECT_NE(html.find("<div class=\"decision\">Fine-tune</div>"), std::string::npos);
  EXPECT_NE(html.find("Fine-tune: 0.882 accuracy vs 0.804 for RAG, p95 0.021 ms"), std::string::npos);
  for (const char* name : {"Majority class", "kNN over labelled examples (BM25)", "fastText supervised classifier",
                           "fastText + kNN vote"}) {
    EXPECT_NE(html.find(name), std::string::npos) << name;
  }
  // Numbers: quality with CI to 3 decimals, ms, bytes, counts with separators, shares.
  EXPECT_NE(html.find("0.882 [0.854, 0.910]"), std::string::npos);
  EXPECT_NE(html.find(">0.021<"), std::string::npos);
  EXPECT_NE(html.find("1.18 MB"), std::string::npos);
  EXPECT_NE(html.find("5,452"), std::string::npos);
  EXPECT_NE(html.find("+0.078"), std::string::npos);
  EXPECT_NE(html.find("[-0.006, +0.022]"), std::string::npos);
  EXPECT_NE(html.find("\u00b10.044"), std::string::npos);
  EXPECT_NE(html.find("8 of 500 eval examples (1.6%)"), std::string::npos);
  // Reasons carry their evidence and ref; what would change it; warnings.
  EXPECT_NE(html.find("<li><span class=\"badge measured\">measured</span>fine_tuned beats rag"), std::string::npos);
  EXPECT_NE(html.find("<li><span class=\"badge answered\">answered</span>The task needs behaviour"), std::string::npos);
  EXPECT_NE(html.find("<code class=\"ref\">requirements.need</code>"), std::string::npos);
  EXPECT_NE(html.find("If new knowledge must be answerable without a retrain &rarr; <b>RAG</b>"), std::string::npos);
  EXPECT_NE(html.find("1.6% leakage"), std::string::npos);
  // Every chart, with one mark per arm.
  for (const char* id : {"chart-flowchart", "chart-quality-latency", "chart-cost", "chart-freshness",
                         "chart-doc-length", "chart-labels"}) {
    EXPECT_FALSE(chart(html, id).empty()) << id;
  }
  EXPECT_EQ(count_class(chart(html, "chart-quality-latency"), {"point"}), 4u);
  EXPECT_EQ(count_class(chart(html, "chart-quality-latency"), {"point", "recommended"}), 1u);
  EXPECT_EQ(count_class(chart(html, "chart-labels"), {"bar", "label"}), 6u);
  EXPECT_EQ(count_class(chart(html, "chart-flowchart"), {"node", "on-path"}), 7u);
  EXPECT_EQ(count_class(chart(html, "chart-flowchart"), {"edge", "on-path"}), 6u);
  // No latency budget line outside the plotted range is lost: 50 ms is drawn.
  EXPECT_EQ(count_class(chart(html, "chart-quality-latency"), {"budget"}), 1u);
  EXPECT_EQ(count_class(chart(html, "chart-quality-latency"), {"target"}), 0u);
  EXPECT_EQ(count(html, "<svg "), count(html, "</svg>"));
  EXPECT_EQ(count(html, "<title"), count(html, "</title>"));
  EXPECT_EQ(external_reference(html), "");
}

TEST(ReportHtmlTest, RetrievalFixture) {
  json r = load_fixture("report_retrieval.json");
  std::string html = render_html(r);
  EXPECT_NE(html.find("<div class=\"decision\">RAG</div>"), std::string::npos);
  EXPECT_NE(html.find("<b>fine_tuned_rag</b>: p95 31 ms over the 25 ms budget"), std::string::npos);
  EXPECT_NE(html.find("nDCG@10"), std::string::npos);
  EXPECT_NE(html.find("0.713 [0.672, 0.752]"), std::string::npos);
  EXPECT_NE(html.find("412 changes to 380 documents over 30 days (96.1/week)"), std::string::npos);
  EXPECT_NE(html.find("badge excl"), std::string::npos);
  // No labelled-data profile for retrieval: no label chart, no crash.
  EXPECT_TRUE(chart(html, "chart-labels").empty());
  EXPECT_EQ(html.find("Labelled data"), std::string::npos);
  std::string ql = chart(html, "chart-quality-latency");
  EXPECT_EQ(count_class(ql, {"point"}), 4u);
  EXPECT_EQ(count_class(ql, {"point", "excluded"}), 1u);
  EXPECT_EQ(count_class(ql, {"whisker"}), 4u);
  EXPECT_EQ(count_class(ql, {"budget"}), 1u);
  EXPECT_EQ(count_class(ql, {"target"}), 1u);
  EXPECT_NE(ql.find("p95 budget 25 ms"), std::string::npos);
  std::string fr = chart(html, "chart-freshness");
  EXPECT_EQ(count_class(fr, {"fresh-before"}), 4u);
  EXPECT_EQ(count_class(fr, {"fresh-after"}), 4u);
  EXPECT_EQ(count_class(fr, {"fresh-time"}), 4u);
  EXPECT_NE(fr.find("fresh in 0.8 s"), std::string::npos);
  EXPECT_EQ(count_class(chart(html, "chart-cost"), {"cost-disk"}), 4u);
  EXPECT_EQ(count_class(chart(html, "chart-flowchart"), {"node", "on-path"}), 6u);
  EXPECT_EQ(count_class(chart(html, "chart-flowchart"), {"node"}), 11u);
  EXPECT_EQ(external_reference(html), "");
}

TEST(ReportHtmlTest, MinimalReport) {
  std::string html = render_html(json::parse(R"({"project":{"name":"x"}})"));
  EXPECT_NE(html.find("<h1>x</h1>"), std::string::npos);
  EXPECT_NE(html.find("No recommendation"), std::string::npos);
  EXPECT_NE(html.find("No arms were run."), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_EQ(html.find("<svg"), std::string::npos);
  EXPECT_EQ(external_reference(html), "");
}

json nulls_everywhere() {
  return json::parse(R"({
    "ragft_decide": null, "project": null, "requirements": {"need": null, "latency_p95_ms": {"value": null},
      "other": {"value": null, "source": null}}, "metric": null,
    "profile": {"corpus": {"documents": null, "formats": null, "doc_tokens": {"histogram": [null, {"lo": null}]},
                           "language": null, "change": {"per_week": null}},
                "labeled": {"label_counts": {"a": null}, "rare_labels": null, "leakage": null}, "eval": null},
    "arms": [null, {"id": null, "quality": null, "latency_ms": {"p50": null, "p95": null}, "build": null},
             {"id": "b", "quality": {"value": 0.5, "ci_low": null, "ci_high": null}, "latency_ms": {"p95": 0}},
             {"id": "c", "quality": {"value": 0.6}, "latency_ms": {"p95": -3}, "build": {"seconds": -1}}],
    "comparisons": [null, {"a": null, "diff": null}],
    "freshness": {"arms": [null, {"id": null, "before": null, "after": {"value": null}, "time_to_fresh_s": 0}]},
    "recommendation": {"decision": null, "arm": null, "reasons": [null, {"text": null, "evidence": null}],
                       "path": null, "excluded": [{"arm": null}], "what_would_change": [{"if": null}],
                       "warnings": [null, 3]},
    "flowchart": {"nodes": [{"id": "start"}, {"id": null}, {"label": "no id"}],
                  "edges": [null, {"from": "start", "to": "nowhere"}, {"from": "start", "to": "start"}]},
    "timing": null})");
}

TEST(ReportHtmlTest, NullsEverywhere) {
  std::string html = render_html(nulls_everywhere());
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_NE(html.find("\u2014"), std::string::npos);
  EXPECT_EQ(html.find("could not be rendered"), std::string::npos);
  // b and c have no positive p95: listed, not plotted.
  std::string ql = chart(html, "chart-quality-latency");
  EXPECT_NE(ql.find("Not plotted: arm 1 (no quality), b (p95 not positive), c (p95 not positive)"), std::string::npos);
  EXPECT_EQ(count_class(ql, {"point"}), 0u);
  EXPECT_EQ(count_class(chart(html, "chart-flowchart"), {"node"}), 1u);
  EXPECT_EQ(external_reference(html), "");
}

TEST(ReportHtmlTest, WrongTypesAndNonObjects) {
  json odd = json::parse(R"({"project": "oops", "arms": {"x": 1}, "requirements": [1, 2],
    "recommendation": "fine_tune", "flowchart": {"nodes": "x", "edges": 5}, "profile": [],
    "comparisons": {"a": 1}, "freshness": "no", "metric": 3})");
  for (const json& r : {odd, json(42), json::array(), json("text"), json(), json::object(), nulls_everywhere()}) {
    std::string html = render_html(r);
    EXPECT_NE(html.find("</html>"), std::string::npos) << r.dump();
    EXPECT_EQ(html.find("could not be rendered"), std::string::npos) << r.dump();
    std::string text = render_text(r, true);
    EXPECT_NE(text.find("Decision: none"), std::string::npos) << r.dump();
  }
  json nan = load_fixture("report_classification.json");
  nan["arms"][1]["latency_ms"]["p95"] = std::numeric_limits<double>::quiet_NaN();
  nan["arms"][2]["quality"]["value"] = std::numeric_limits<double>::infinity();
  std::string html = render_html(nan);
  EXPECT_EQ(count_class(chart(html, "chart-quality-latency"), {"point"}), 2u);
  EXPECT_EQ(html.find("nan"), std::string::npos);
  EXPECT_EQ(html.find("inf<"), std::string::npos);
}

// Replaces about 4% of the values (leaves and subtrees) with a value of another kind.
void damage(json& j, std::mt19937& rng) {
  if (!j.is_object() && !j.is_array()) return;
  std::uniform_int_distribution<int> percent(0, 99), pick(0, 7);
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (percent(rng) < 4) {
      const json replacements[] = {nullptr,        42,     "x",  json::array(),
                                   json::object(), -1e308, true, json::array({1, "a"})};
      it.value() = replacements[pick(rng)];
    } else {
      damage(it.value(), rng);
    }
  }
}

TEST(ReportHtmlTest, RandomlyDamagedReportsRender) {
  std::mt19937 rng(20240601);
  for (const char* fixture : {"report_classification.json", "report_retrieval.json"}) {
    json base = load_fixture(fixture);
    for (int i = 0; i < 150; ++i) {
      json r = base;
      damage(r, rng);
      std::string html = render_html(r);
      ASSERT_NE(html.find("</html>"), std::string::npos) << r.dump();
      ASSERT_EQ(html.find("could not be rendered"), std::string::npos) << r.dump();
      ASSERT_EQ(count(html, "<svg "), count(html, "</svg>"));
      ASSERT_EQ(external_reference(html), "");
      std::string text = render_text(r, i % 2 == 0);
      ASSERT_NE(text.find("Decision: "), std::string::npos) << r.dump();
      ASSERT_EQ(text.find("could not be rendered"), std::string::npos) << r.dump();
    }
  }
}

json evil_report() {
  json r = load_fixture("report_classification.json");
  r["project"]["name"] = kEvil;
  r["project"]["file"] = kEvil;
  r["arms"][0]["name"] = kEvil;
  r["arms"][0]["id"] = kEvil;
  r["arms"][1]["config"] = "\"><img src=x onerror=alert(1)>";
  r["arms"][1]["note"] = "url(http://evil.example/x) @import 'http://evil.example'";
  r["recommendation"]["reasons"][0]["text"] = kEvil;
  r["recommendation"]["reasons"][0]["evidence"] = "\" onmouseover=\"alert(1)";
  r["recommendation"]["warnings"][0] = kEvil;
  r["recommendation"]["headline"] = kEvil;
  r["flowchart"]["nodes"][1]["label"] = kEvil;
  r["flowchart"]["nodes"][1]["id"] = "\"><script>alert(1)</script>";
  r["flowchart"]["edges"][1]["label"] = kEvil;
  r["profile"]["labeled"]["label_counts"][kEvil] = 3;
  r["profile"]["corpus"]["formats"][kEvil] = 1;
  r["requirements"][kEvil] = {{"value", kEvil}, {"source", kEvil}};
  r["freshness"]["arms"][0]["update"] = kEvil;
  r["metric"]["label"] = kEvil;
  return r;
}

TEST(ReportHtmlTest, EscapesEveryString) {
  std::string html = render_html(evil_report());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("\" onmouseover"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_EQ(external_reference(html), "");
  EXPECT_EQ(count(html, "<svg "), count(html, "</svg>"));
}

TEST(ReportHtmlTest, ExternalReferenceCheckCatchesRequests) {
  // The checker itself: each of these would make the page fetch something.
  EXPECT_NE(external_reference("<script src=\"https://x/y.js\"></script>"), "");
  EXPECT_NE(external_reference("<link rel=\"stylesheet\" href=\"https://x/y.css\">"), "");
  EXPECT_NE(external_reference("<a href=\"http://x\">x</a>"), "");
  EXPECT_NE(external_reference("<style>@import 'x.css';</style>"), "");
  EXPECT_NE(external_reference("<style>body{background:url(http://x/y.png)}</style>"), "");
  EXPECT_NE(external_reference("<div style=\"background:url('//x/y.png')\"></div>"), "");
  EXPECT_EQ(external_reference("<path marker-end=\"url(#fc-arrow)\"/><a href=\"#top\">t</a>"), "");
}

// ---------------------------------------------------------------------------------------------
// Terminal

TEST(ReportTextTest, ClassificationFixture) {
  json r = load_fixture("report_classification.json");
  std::string plain = render_text(r, false);
  EXPECT_EQ(plain.find('\x1b'), std::string::npos);
  EXPECT_LE(max_line_width(plain), 100u) << plain;
  EXPECT_NE(plain.find("TREC question types \u2014 classification, accuracy"), std::string::npos);
  EXPECT_NE(plain.find("Decision: Fine-tune (arm fine_tuned)"), std::string::npos);
  EXPECT_NE(plain.find("Fine-tune: 0.882 accuracy vs 0.804 for RAG, p95 0.021 ms"), std::string::npos);
  EXPECT_NE(plain.find("[measured] fine_tuned beats rag by 0.078"), std::string::npos);
  EXPECT_NE(plain.find("[answered] The task needs behaviour"), std::string::npos);
  EXPECT_NE(plain.find("  - if new knowledge must be answerable without a retrain -> RAG"), std::string::npos);
  EXPECT_NE(plain.find("  ! 8 of 500 eval questions"), std::string::npos);
  // The recommended row: quality with CI, p50/p95, build, peak, note.
  std::string row;
  std::istringstream lines(plain);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("fine_tuned ", 0) == 0) row = line;
  }
  EXPECT_NE(row.find("0.882 [0.854, 0.910]"), std::string::npos) << row;
  EXPECT_NE(row.find("0.012/0.021"), std::string::npos) << row;
  EXPECT_NE(row.find("4.1 s"), std::string::npos) << row;
  EXPECT_NE(row.find("210"), std::string::npos) << row;
  EXPECT_NE(row.find("recommended; cached"), std::string::npos) << row;
  EXPECT_NE(plain.find("  rag             0.000 -> 0.810 [0.740, 0.880]    fresh in 0.2 s (incremental index)"),
            std::string::npos)
      << plain;

  std::string color = render_text(r, true);
  EXPECT_NE(color.find("\x1b[1;32mfine_tuned "), std::string::npos);
  EXPECT_NE(color.find("\x1b[1mDecision: Fine-tune"), std::string::npos);
}

TEST(ReportTextTest, RetrievalFixture) {
  std::string text = render_text(load_fixture("report_retrieval.json"), false);
  EXPECT_LE(max_line_width(text), 100u) << text;
  EXPECT_NE(text.find("Decision: RAG (arm rag)"), std::string::npos);
  EXPECT_NE(text.find("excluded: p95 31 ms over the 25 ms budget"), std::string::npos);
  EXPECT_NE(text.find("nDCG@10 [95% CI]"), std::string::npos);
  EXPECT_NE(text.find("6.8/14.2"), std::string::npos);
  EXPECT_NE(text.find("31.8 min"), std::string::npos);  // 1905 s
  EXPECT_NE(text.find("  - fine_tuned_rag: p95 31 ms over the 25 ms budget"), std::string::npos);
}

TEST(ReportTextTest, MinimalNullsAndControlCharacters) {
  std::string minimal = render_text(json::parse(R"({"project":{"name":"x"}})"), false);
  EXPECT_EQ(minimal.rfind("x\n", 0), 0u);
  EXPECT_NE(minimal.find("No arms were run"), std::string::npos);
  EXPECT_NE(minimal.find("Decision: none"), std::string::npos);

  std::string nulls = render_text(nulls_everywhere(), false);
  EXPECT_NE(nulls.find("arm 1"), std::string::npos);
  EXPECT_NE(nulls.find("\u2014"), std::string::npos);
  EXPECT_LE(max_line_width(nulls), 100u);

  json r = load_fixture("report_classification.json");
  r["arms"][0]["name"] = "a\x1b[31mred";
  r["arms"][0]["id"] = "\x1b]0;title\x07";
  r["recommendation"]["headline"] = "line\nbreak";
  std::string text = render_text(r, false);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_NE(text.find("line break"), std::string::npos);
}

}  // namespace
}  // namespace ragft::decide
