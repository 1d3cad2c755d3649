// The HTML report's charts, each an inline <svg> built from the report JSON of
// docs/decide-design.md. Every function returns "" when its data is absent, never throws, and
// escapes every string taken from the report.
//
// Marks carry classes the Chromium test counts: "point" and "whisker" (one each per plotted
// arm), "bar" plus a per-chart class, and "node on-path" / "edge on-path" for the path taken.
#pragma once

#include <string>

#include "decide/report_format.h"

namespace ragft::decide::render {

// id "chart-flowchart" (report_flowchart.cc): report.flowchart laid out top-down in layers from
// "start" (longest path when acyclic, BFS depth otherwise); question nodes as rounded boxes,
// decision nodes as pills; nodes ("node on-path") and edges ("edge on-path") on
// recommendation.path in kHighlight with thicker strokes, the rest greyed.
std::string flowchart_svg(const Json& report);

// id "chart-quality-latency": one point per arm at (p95 latency, log scale; quality) with a CI
// whisker; arms without a positive p95 or a quality value are listed as not plotted. Dashed
// lines for requirements.latency_p95_ms and requirements.quality_target when set.
std::string quality_latency_svg(const Json& report);

// id "chart-cost": three panels (build seconds, peak MB, disk) with one bar per arm each,
// classes "cost-build", "cost-peak", "cost-disk".
std::string cost_svg(const Json& report);

// id "chart-freshness": per freshness arm, before/after bars ("fresh-before", "fresh-after")
// with CI whiskers, and a log-scale panel of time to fresh ("fresh-time").
std::string freshness_svg(const Json& report);

// id "chart-doc-length": profile.corpus.doc_tokens.histogram as vertical bars ("hist").
std::string length_histogram_svg(const Json* doc_tokens);

// id "chart-labels": profile.labeled.label_counts as horizontal bars ("label"), largest first,
// at most 40 (the rest summarised).
std::string label_counts_svg(const Json* labeled);

}  // namespace ragft::decide::render
