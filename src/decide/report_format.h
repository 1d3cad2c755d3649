// Helpers shared by the report renderers (report_html.h, report_text.h): null-safe access to the
// report JSON of docs/decide-design.md, number formatting and HTML escaping.
//
// Nothing here throws on a malformed report: a missing key, a null, or a value of the wrong type
// reads as "absent" (nullptr / nullopt), and formatters print kDash for it.
#pragma once

#include <array>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ragft::decide::render {

using Json = nlohmann::json;

inline constexpr std::string_view kDash = "\u2014";  // shown for anything not measured

// The value at `path` below `j` (object keys only), or nullptr when any step is missing, is not an
// object, or the value is null. `j` may be nullptr.
const Json* get(const Json* j, std::initializer_list<std::string_view> path);
inline const Json* get(const Json& j, std::initializer_list<std::string_view> path) { return get(&j, path); }

// Finite numbers only (NaN/inf read as absent). Booleans are not numbers.
std::optional<double> num(const Json* j, std::initializer_list<std::string_view> path = {});
std::optional<std::string> str(const Json* j, std::initializer_list<std::string_view> path = {});
std::optional<bool> boolean(const Json* j, std::initializer_list<std::string_view> path = {});
// The string at path, or `fallback` when absent or not a string.
std::string str_or(const Json* j, std::initializer_list<std::string_view> path, std::string_view fallback);

// The object elements of the array at `j` (non-objects skipped); empty when `j` is not an array.
std::vector<const Json*> objects(const Json* j);
// The string elements of the array at `j` (others skipped).
std::vector<std::string> strings(const Json* j);

// Any scalar as display text: strings as-is, numbers via format_number, booleans "yes"/"no",
// null/absent kDash, arrays/objects as compact JSON.
std::string display(const Json* j);

// `v` with `sig` significant digits, never in exponent notation, trailing zeros dropped
// (1.20 -> "1.2", 0.0500 -> "0.05", 1234.5 -> "1235"). 0 -> "0".
std::string format_sig(double v, int sig = 3);
// Integers with thousands separators ("5,183"), others as format_sig(v, 3).
std::string format_number(double v);
std::string format_number(std::optional<double> v);
// Metric value with 3 decimals ("0.840"), kDash when absent.
std::string format_quality(std::optional<double> v);
// "0.840 [0.810, 0.870]" from a {value, ci_low, ci_high} object; the interval is dropped when
// either bound is absent; kDash when the value is absent.
std::string format_quality_ci(const Json* q);
// Milliseconds with 3 significant digits, no unit ("0.09", "12.3", "1234"); kDash when absent.
std::string format_ms(std::optional<double> v);
// Seconds with 3 significant digits and unit: "0.2 s", "41.2 s", "12 min", "2.5 h".
std::string format_duration(std::optional<double> seconds);
// Bytes with a binary unit: "512 B", "1.2 KB", "120 MB", "3.4 GB".
std::string format_bytes(std::optional<double> bytes);
// A share in [0, 1] as a percentage: "1.2%", "0.05%", "0%".
std::string format_share(std::optional<double> v);

// US dollars with 3 significant digits ("$0.0012", "$1.5", "$1,234"); kDash when absent.
std::string format_usd(std::optional<double> v);

// "rag" -> "RAG", "fine_tune" -> "Fine-tune", "fine_tune_rag" -> "Fine-tune + RAG",
// "fix_data" -> "Fix the data first"; anything else as given.
std::string decision_label(std::string_view decision);

// One arm of report.arms as the renderers need it.
struct ArmView {
  const Json* json = nullptr;  // the arm object (never null)
  std::string id;              // "arm N" (1-based) when missing
  std::string name;            // the id when missing
  bool recommended = false;    // id equals recommendation.arm
  std::optional<std::string> excluded;  // recommendation.excluded[].why for this arm ("" when no why)
};
// The object elements of report.arms in order; empty when there are none.
std::vector<ArmView> arm_views(const Json& report);

// One generation arm's answer metrics and token costs (decide/generation.h), formatted, for
// the renderers' generation tables. Arms without a "generative" object are left out.
struct GenerationRow {
  std::string id;
  std::string exact_match, token_f1, citation_precision, citation_recall, abstention, format_valid;
  std::string prompt_tokens, completion_tokens;  // per query
  std::string per_1k_queries, training;          // USD
};
std::vector<GenerationRow> generation_rows(const Json& report);
// The column titles, in GenerationRow's order after id.
inline constexpr std::array<std::string_view, 10> kGenerationColumns = {
    "EM", "F1", "cite P", "cite R", "abstain", "valid JSON", "prompt tok", "compl. tok", "$ / 1k queries", "$ training"};
// GenerationRow's cells after id, in kGenerationColumns' order.
std::array<std::string, 10> generation_cells(const GenerationRow& row);

// Number of UTF-8 code points (continuation bytes not counted).
std::size_t code_points(std::string_view s);
// `s` cut to at most `max_chars` code points, with "…" when cut.
std::string truncate(std::string_view s, std::size_t max_chars);
// Greedy word wrap into lines of at most `max_chars` code points (longer words are cut).
std::vector<std::string> wrap(std::string_view s, std::size_t max_chars);

// Escapes & < > " ' for HTML text and attribute values.
std::string html_escape(std::string_view s);

}  // namespace ragft::decide::render
