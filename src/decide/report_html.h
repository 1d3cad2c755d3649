// The `ragft decide` report as one self-contained HTML page: inline CSS and inline SVG charts,
// no JavaScript, no external requests, printable. Input is the report JSON of
// docs/decide-design.md ("Report JSON").
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ragft::decide {

// Never throws and never fails: any object may be null, missing or of the wrong type (shown as
// "—" or its section omitted). Every string from the report is HTML-escaped. Sections: header
// (decision, headline, reasons, warnings, what would change it, excluded arms), flowchart,
// quality vs p95 latency, build cost, freshness, arms and comparisons tables, data profile,
// requirements. Chart <svg> ids: chart-flowchart, chart-quality-latency, chart-cost,
// chart-freshness, chart-doc-length, chart-labels.
std::string render_html(const nlohmann::json& report);

}  // namespace ragft::decide
