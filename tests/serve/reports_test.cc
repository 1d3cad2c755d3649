// The decide report routes (serve/reports.h): which directories count as reports, the listing's
// summary, names that may not escape --reports (.., absolute paths, symlinks out of it), content
// types, and access (an admin key when keys are on).
#include "serve/reports.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "retrieve/workspace.h"
#include "serve/api_keys.h"
#include "serve/serve_test_util.h"
#include "serve/server.h"

namespace ragft::serve {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void write(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << data;
}

json report_json(const std::string& name, const std::string& decision) {
  return {{"ragft_decide", 1},
          {"project", {{"name", name}, {"task", "retrieval"}}},
          {"metric", {{"label", "nDCG@10"}}},
          {"recommendation", {{"decision", decision}, {"arm", decision}, {"headline", decision + " wins"}}}};
}

// <root>/shelf holds: its own report; a/ and b/ (reports; b's JSON does not parse); c/ (no
// report.html); .hidden/ (a report, but hidden); in -> a (a symlink inside); out -> <root>/outside
// (a report outside); d/ whose report.html links to a file outside.
class ReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::temp_dir("ragft_reports_");
    shelf_ = root_ / "shelf";
    write(shelf_ / "report.json", report_json("Own", "rag").dump());
    write(shelf_ / "report.html", "<html>own</html>");
    write(shelf_ / "a" / "report.json", report_json("Project A \xF0\x9F\x8C\x8B", "fine_tune").dump(2));
    write(shelf_ / "a" / "report.html", "<!doctype html><title>A</title>\xF0\x9F\x8C\x8B");
    write(shelf_ / "b" / "report.json", "{not json");
    write(shelf_ / "b" / "report.html", "<html>b</html>");
    write(shelf_ / "c" / "report.json", report_json("C", "rag").dump());
    write(shelf_ / ".hidden" / "report.json", report_json("H", "rag").dump());
    write(shelf_ / ".hidden" / "report.html", "<html>h</html>");
    write(root_ / "outside" / "report.json", report_json("Outside", "rag").dump());
    write(root_ / "outside" / "report.html", "<html>SECRET outside</html>");
    fs::create_directory_symlink(shelf_ / "a", shelf_ / "in");
    fs::create_directory_symlink(root_ / "outside", shelf_ / "out");
    write(shelf_ / "d" / "report.json", report_json("D", "rag").dump());
    fs::create_symlink(root_ / "outside" / "report.html", shelf_ / "d" / "report.html");
    // Modification times: a newest, then b, then the shelf's own; `in` shares a's.
    const auto now = fs::file_time_type::clock::now();
    fs::last_write_time(shelf_ / "a" / "report.json", now);
    fs::last_write_time(shelf_ / "b" / "report.json", now - std::chrono::hours(1));
    fs::last_write_time(shelf_ / "report.json", now - std::chrono::hours(2));
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }

  void start(const fs::path& reports, std::shared_ptr<const Authenticator> auth = nullptr) {
    ServeOptions o;
    o.port = 0;
    o.keep_alive_timeout_s = 1;
    o.reports_dir = reports;
    ServeComponents c;
    c.authenticator = std::move(auth);
    auto made = Server::make(o, std::move(c));
    ASSERT_TRUE(made.ok()) << made.error().to_string();
    server_ = std::move(*made);
    ASSERT_TRUE(server_->start().ok());
  }
  httplib::Result get(const std::string& path, const std::string& key = "") const {
    httplib::Client cli("127.0.0.1", server_->port());
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    return cli.Get(path, headers);
  }

  fs::path root_, shelf_;
  std::unique_ptr<Server> server_;
};

TEST_F(ReportsTest, ListsEveryReportInsideTheDirectoryNewestFirst) {
  auto listed = ReportShelf(shelf_).list();
  ASSERT_TRUE(listed.ok()) << listed.error().to_string();
  std::vector<std::string> names;
  for (const auto& r : *listed) names.push_back(r["name"]);
  // a and in (the same files) are the newest; then b; then the shelf's own report (named after
  // the directory). c, d, out and .hidden are no reports.
  ASSERT_EQ(names.size(), 4u) << listed->dump();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.begin() + 2), (std::set<std::string>{"a", "in"}));
  EXPECT_EQ(names[2], "b");
  EXPECT_EQ(names[3], "shelf");
  const json& a = (*listed)[0]["name"] == "a" ? (*listed)[0] : (*listed)[1];
  EXPECT_EQ(a["title"], "Project A \xF0\x9F\x8C\x8B");
  EXPECT_EQ(a["task"], "retrieval");
  EXPECT_EQ(a["decision"], "fine_tune");
  EXPECT_EQ(a["arm"], "fine_tune");
  EXPECT_EQ(a["headline"], "fine_tune wins");
  EXPECT_EQ(a["metric"], "nDCG@10");
  EXPECT_EQ(a["html_url"], "/reports/a");
  EXPECT_EQ(a["json_url"], "/v1/reports/a");
  EXPECT_FALSE(a.contains("error"));
  EXPECT_GT(a["modified_unix_ms"].get<std::int64_t>(), (*listed)[2]["modified_unix_ms"].get<std::int64_t>());
  EXPECT_EQ(a["modified"].get<std::string>().size(), 20u) << a["modified"];  // 2024-06-07T10:00:00Z
  const json& b = (*listed)[2];
  EXPECT_EQ(b["title"], "b") << "no project name: the report's name";
  EXPECT_TRUE(b["decision"].is_null());
  EXPECT_EQ(b["error"], "report.json is not valid JSON");
}

TEST_F(ReportsTest, NamesCannotEscapeTheDirectory) {
  ReportShelf shelf(shelf_);
  for (const char* bad : {"", ".", "..", "../outside", "a/..", "/etc/passwd", "a/b", "a\\b", ".hidden"}) {
    auto r = shelf.read(bad, ReportFile::kHtml);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_FALSE(ReportShelf::name_problem(bad).empty()) << bad;
  }
  EXPECT_FALSE(ReportShelf::name_problem(std::string("a\0b", 3)).empty());
  // Symlinks out of the directory, incomplete and unknown reports: the same not-found.
  for (const char* missing : {"out", "d", "c", "zzz"}) {
    auto r = shelf.read(missing, ReportFile::kHtml);
    ASSERT_FALSE(r.ok()) << missing;
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound) << missing;
  }
  auto own = shelf.read("shelf", ReportFile::kHtml);
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(*own, "<html>own</html>");
  auto in = shelf.read("in", ReportFile::kJson);
  ASSERT_TRUE(in.ok()) << "a symlink that stays inside is fine";
  EXPECT_EQ(json::parse(*in)["project"]["name"], "Project A \xF0\x9F\x8C\x8B");
  auto gone = ReportShelf(root_ / "nope").list();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kIo);
}

TEST_F(ReportsTest, RoutesServeTheFilesAsIsWithTheirContentTypes) {
  start(shelf_);
  auto list = get("/v1/reports");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  json l = json::parse(list->body);
  EXPECT_EQ(l["object"], "list");
  EXPECT_EQ(l["data"].size(), 4u);

  auto html = get("/reports/a");
  ASSERT_TRUE(html);
  ASSERT_EQ(html->status, 200);
  EXPECT_EQ(html->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(html->body, "<!doctype html><title>A</title>\xF0\x9F\x8C\x8B");
  auto js = get("/v1/reports/a");
  ASSERT_TRUE(js);
  ASSERT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(js->body, report_json("Project A \xF0\x9F\x8C\x8B", "fine_tune").dump(2)) << "byte for byte";

  // Escapes over HTTP: raw "..", encoded "..", encoded slashes: 400 naming the name.
  for (const char* path : {"/reports/../outside", "/reports/..", "/reports/%2e%2e", "/reports/..%2Foutside",
                           "/v1/reports/a%2F..%2F..%2Foutside", "/reports/%2Fetc%2Fpasswd"}) {
    auto r = get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 400) << path << " " << r->body;
    EXPECT_EQ(r->body.find("SECRET"), std::string::npos);
    EXPECT_EQ(json::parse(r->body)["error"]["param"], "name") << path;
  }
  for (const char* path : {"/reports/out", "/v1/reports/out", "/reports/d", "/reports/zzz"}) {
    auto r = get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path << " " << r->body;
    EXPECT_EQ(json::parse(r->body)["error"]["code"], "report_not_found");
  }
}

TEST_F(ReportsTest, NeedAnAdminKeyWhenKeysAreOnAndReportsToServe) {
  auto ws = Workspace::open(root_ / "ws");
  ASSERT_TRUE(ws.ok());
  auto key = [&](bool admin) {
    auto made = create_api_key(ws->store(), ApiKeySpec{"k", "default", std::nullopt, admin});
    RAGFT_CHECK(made.ok());
    return made->key;
  };
  const std::string admin = key(true), owner = key(false);
  auto auth = ApiKeyAuthenticator::open(root_ / "ws" / "store.db", ApiKeyAuthOptions{std::chrono::milliseconds(0)});
  ASSERT_TRUE(auth.ok());
  start(shelf_, std::move(*auth));
  for (const char* path : {"/v1/reports", "/v1/reports/a", "/reports/a"}) {
    auto none = get(path);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, 401) << path;
    auto tenant_owner = get(path, owner);
    ASSERT_TRUE(tenant_owner);
    EXPECT_EQ(tenant_owner->status, 403) << path;
    EXPECT_EQ(json::parse(tenant_owner->body)["error"]["code"], "admin_required");
    auto ok = get(path, admin);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200) << path;
  }
  // A server without --reports says how to get some.
  server_.reset();
  start(fs::path());
  auto r = get("/v1/reports");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "no_reports");
  EXPECT_NE(r->body.find("--reports"), std::string::npos);
}

}  // namespace
}  // namespace ragft::serve
