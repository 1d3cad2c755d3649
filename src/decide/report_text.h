// The `ragft decide` report as a compact terminal summary: one row per arm, then the decision,
// reasons, what would change it, freshness and warnings. Input is the report JSON of
// docs/decide-design.md ("Report JSON").
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ragft::decide {

// Never throws: any object may be null, missing or of the wrong type (shown as "—" or left
// out). Lines are at most 100 columns where the content allows (long fields are cut with "…",
// prose is wrapped); every line ends with '\n'. With `color`, the recommended arm's row is bold
// green and headings are bold (ANSI SGR); without, the text is plain. Control characters from
// the report are replaced by '?', so a report cannot send escape sequences to the terminal.
std::string render_text(const nlohmann::json& report, bool color);

}  // namespace ragft::decide
