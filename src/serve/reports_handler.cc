// GET /v1/reports, GET /v1/reports/{name}, GET /reports/{name} (reports.h): the decide reports
// under --reports, read-only.
//
// Access: with API keys on, an admin key only (403 otherwise), as for /metrics. A report is
// computed over a project's data without per-document ACLs (the profile quotes labelled examples
// verbatim: duplicate, conflicting and leakage samples), so a principal's key could read through
// it what its ACLs hide; the decision is the operators' record. Without keys every request may
// read them, as every other route.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "serve/handlers.h"
#include "serve/reports.h"

namespace ragft::serve {

namespace {

std::optional<ApiError> refuse(const ServeContext& ctx, const RequestContext& req) {
  if (ctx.components.authenticator && !req.identity.admin) {
    return ApiError{403,
                    "decide reports need an admin key (`ragft key create --admin`): they describe the project's "
                    "data without per-document ACLs",
                    "permission_error", "", "admin_required"};
  }
  if (ctx.options.reports_dir.empty()) {
    return bad_request("", "this server serves no decide reports; start `ragft serve` with --reports DIR (a "
                       "directory `ragft decide --out` wrote, or one holding several)",
                       "no_reports");
  }
  return std::nullopt;
}

Reply report_file(const ServeContext& ctx, const RequestContext& req, ReportFile file) {
  if (auto e = refuse(ctx, req)) return Reply::error(*e);
  auto bytes = ReportShelf(ctx.options.reports_dir).read(req.param("name"), file);
  if (!bytes.ok()) {
    ApiError e = api_error_from(bytes.error(), ErrorSource::kServer);
    if (e.status == 400 || e.status == 404) e.param = "name";
    if (e.status == 404) e.code = "report_not_found";
    return Reply::error(e);
  }
  if (file == ReportFile::kJson) return Reply::json(std::move(*bytes));
  return Reply{200, "text/html; charset=utf-8", std::move(*bytes), {}};
}

}  // namespace

Reply handle_reports_list(const ServeContext& ctx, const RequestContext& req) {
  if (auto e = refuse(ctx, req)) return Reply::error(*e);
  auto listed = ReportShelf(ctx.options.reports_dir).list();
  if (!listed.ok()) return Reply::error(api_error_from(listed.error(), ErrorSource::kServer));
  nlohmann::json out = {{"object", "list"}, {"data", std::move(*listed)}};
  return Reply::json(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Reply handle_report_json(const ServeContext& ctx, const RequestContext& req) {
  return report_file(ctx, req, ReportFile::kJson);
}

Reply handle_report_html(const ServeContext& ctx, const RequestContext& req) {
  return report_file(ctx, req, ReportFile::kHtml);
}

}  // namespace ragft::serve
