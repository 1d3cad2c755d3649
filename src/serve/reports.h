// Decide reports served read-only by `ragft serve --reports DIR` (docs/serve.md): the reports
// `ragft decide --out D` wrote (D/report.json and D/report.html, decide/report_html.h), found in
// DIR itself and in each of its subdirectories. httplib-free, so it is tested without sockets.
//
//   GET /v1/reports          {"object": "list", "data": [{"name", "title", "task", "decision",
//                             "arm", "headline", "metric", "modified", "modified_unix_ms",
//                             "html_url", "json_url", "error"?}]}: newest first, then by name
//   GET /reports/{name}      report.html as is (text/html)
//   GET /v1/reports/{name}   report.json as is (application/json)
//
// Names. A report in subdirectory DIR/S is named S; the report in DIR itself is named after DIR
// (its last path component; "report" when it has none), and a subdirectory of that same name is
// not listed. A name is one path component: empty, ".", "..", or a name holding '/', '\' or NUL
// is refused (kInvalidArgument) before the file system is looked at.
//
// What counts as a report: a directory holding both report.json and report.html, each a regular
// file (after following symlinks) whose real path lies inside DIR's real path. A symlink that
// leads out of DIR, a missing file or a directory of another kind is no report: listing skips it
// and fetching it is kNotFound, the same as a name that does not exist.
//
// The summary fields come from report.json (project.name, project.task, recommendation.decision,
// recommendation.arm, recommendation.headline, metric.label; null when absent or not strings;
// title falls back to the name). A report.json that does not parse is still listed, with its
// summary fields null and "error" saying why. "modified" is report.json's mtime, ISO 8601 UTC.
//
// Nothing is cached: every call reads DIR afresh, so reports written while the server runs
// appear at the next listing. Thread-safe (no state beyond the directory path).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace ragft::serve {

enum class ReportFile { kHtml, kJson };

class ReportShelf {
 public:
  explicit ReportShelf(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Every report, as the listing's "data" entries above. DIR missing or unreadable -> kIo
  // naming it.
  Result<nlohmann::json> list() const;
  // The bytes of a report's file. A bad name -> kInvalidArgument; no such report (see above)
  // -> kNotFound; a read failure -> kIo.
  Result<std::string> read(std::string_view name, ReportFile file) const;

  // The name check above (exposed for tests): "" when `name` may name a report, else why not.
  static std::string name_problem(std::string_view name);
  const std::filesystem::path& dir() const { return dir_; }

 private:
  const std::filesystem::path dir_;
};

}  // namespace ragft::serve
