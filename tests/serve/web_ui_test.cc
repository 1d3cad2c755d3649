// The web page (serve/web_ui.h): served without a key, self-contained; and in headless Chromium
// against a live server, driven by its URL fragment: an answer's citation clicked shows exactly
// the cited span in its document (code-point offsets past U+FFFF), a search hit clicked shows its
// chunk with the query matches, a decide report listed and opened, API errors shown. Chromium
// parts are skipped when no Chromium is installed (common/chromium.h).
//
// Set RAGFT_TEST_ARTIFACTS=DIR to keep the dumped DOMs.
#include "serve/web_ui.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "common/chromium.h"
#include "core/check.h"
#include "core/utf8.h"
#include "decide/report_html.h"
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

std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// The text of serialised HTML: tags dropped, the entities Chromium writes decoded.
std::string text_of(std::string html) {
  html = std::regex_replace(html, std::regex("<[^>]*>"), "");
  for (const auto& [entity, text] : std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&nbsp;", "\xC2\xA0"}, {"&amp;", "&"}}) {
    for (std::size_t at; (at = html.find(entity)) != std::string::npos;) html.replace(at, entity.size(), text);
  }
  return html;
}

// The inner HTML of the first element with id="`id`" (whose tag is `tag`, not nested in itself).
std::string inner_of(const std::string& dom, const std::string& tag, const std::string& id) {
  const std::size_t open = dom.find("<" + tag + " id=\"" + id + "\"");
  if (open == std::string::npos) return "<missing #" + id + ">";
  const std::size_t from = dom.find('>', open) + 1;
  const std::size_t close = dom.find("</" + tag + ">", from);
  return dom.substr(from, close - from);
}

std::string opening_tag(const std::string& dom, const std::string& needle) {
  const std::size_t at = dom.find(needle);
  if (at == std::string::npos) return "";
  const std::size_t open = dom.rfind('<', at);
  return dom.substr(open, dom.find('>', at) - open + 1);
}

TEST(WebUiPageTest, IsOneSelfContainedPageWithItsScriptHashInItsPolicy) {
  const std::string& page = web_ui_html();
  EXPECT_TRUE(page.starts_with("<!doctype html>"));
  EXPECT_EQ(page.find("@SCRIPT_HASH@"), std::string::npos);
  EXPECT_NE(page.find("script-src 'sha256-"), std::string::npos);
  // No external resource of any kind.
  for (const char* banned : {"http://", "https://", "src=", "<link", "@import", "url("}) {
    EXPECT_EQ(page.find(banned), std::string::npos) << banned;
  }
  // One script, inline.
  const std::size_t first = page.find("<script");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(page.find("<script", first + 1), std::string::npos);
  EXPECT_EQ(page.find("innerHTML"), std::string::npos) << "API strings go in as text only";
  EXPECT_EQ(&web_ui_html(), &page) << "built once";
}

// A workspace with a two-chunk document of mixed scripts (characters past U+FFFF before and
// inside the cited sentence), an ACL-restricted one, keys for alice (group staff) and an admin,
// and a decide report rendered from the retrieval fixture.
class WebUiTest : public ::testing::Test {
 protected:
  static constexpr const char* kDocId = "notes/\xC3\xBC \xF0\x9F\x8C\x8B.md";  // "notes/ü 🌋.md"
  static constexpr const char* kDocTitle = "Vulkan \xF0\x9F\x8C\x8B notes";
  // "𝔄𝔩𝔭𝔥𝔞 intro 😀 line. Grüße aus Köln 🌋. "
  const std::string chunk1_ = "\xF0\x9D\x94\x84\xF0\x9D\x94\xA9\xF0\x9D\x94\xAD\xF0\x9D\x94\xA5\xF0\x9D\x94\x9E intro "
                              "\xF0\x9F\x98\x80 line. Gr\xC3\xBC\xC3\x9F" "e aus K\xC3\xB6ln \xF0\x9F\x8C\x8B. ";
  // "The glowing vent 🌋 spews lava at night 𝔑. Zürich lies far away."
  const std::string chunk2_ = "The glowing vent \xF0\x9F\x8C\x8B spews lava at night \xF0\x9D\x94\x91. "
                              "Z\xC3\xBCrich lies far away.";

  void SetUp() override {
    browser_ = ragft::testing::find_chromium();
    dir_ = testing::temp_dir("ragft_web_");
    auto ws = Workspace::open(dir_ / "ws");
    ASSERT_TRUE(ws.ok()) << ws.error().to_string();
    NewDocument d;
    d.ext_id = kDocId;
    d.source = "/docs/notes.md";
    d.format = "md";
    d.title = kDocTitle;
    d.text = chunk1_ + chunk2_;
    d.content_hash = "mixed";
    const auto len1 = static_cast<std::int64_t>(char_offset(chunk1_, chunk1_.size()));
    const auto len = static_cast<std::int64_t>(char_offset(d.text, d.text.size()));
    NewChunk c1, c2;
    c1.ordinal = 0;
    c1.char_end = len1;
    c1.text = chunk1_;
    c2.ordinal = 1;
    c2.char_start = len1;
    c2.char_end = len;
    c2.text = chunk2_;
    ASSERT_TRUE(ws->store().upsert(d, {c1, c2}).ok());
    NewDocument hr;
    hr.ext_id = "hr/lava.md";
    hr.title = "HR lava";
    hr.text = "Lava spews from the hr vent at night.";
    hr.acl = {"hr"};
    hr.format = "md";
    hr.content_hash = "hr";
    NewChunk h;
    h.char_end = static_cast<std::int64_t>(char_offset(hr.text, hr.text.size()));
    h.text = hr.text;
    ASSERT_TRUE(ws->store().upsert(hr, {h}).ok());
    ASSERT_TRUE(ws->store().put_principal(Principal{"alice", "default", {"staff"}}).ok());
    ASSERT_TRUE(ws->catch_up().ok());
    auto a = create_api_key(ws->store(), ApiKeySpec{"alice", "default", "alice", false});
    auto admin = create_api_key(ws->store(), ApiKeySpec{"ops", "default", std::nullopt, true});
    ASSERT_TRUE(a.ok() && admin.ok());
    alice_ = a->key;
    admin_ = admin->key;

    std::ifstream in(fs::path(RAGFT_SOURCE_DIR) / "tests/decide/testdata/report_retrieval.json");
    report_ = json::parse(in);
    write(dir_ / "reports" / "scifact" / "report.json", report_.dump(2));
    write(dir_ / "reports" / "scifact" / "report.html", decide::render_html(report_));

    ServeComponents c;
    auto pool = WorkspacePool::open(dir_ / "ws", {});
    ASSERT_TRUE(pool.ok()) << pool.error().to_string();
    c.workspaces = std::move(*pool);
    auto auth = ApiKeyAuthenticator::open(dir_ / "ws" / "store.db", ApiKeyAuthOptions{std::chrono::milliseconds(0)});
    ASSERT_TRUE(auth.ok());
    c.authenticator = std::move(*auth);
    ServeOptions o;
    o.port = 0;
    o.keep_alive_timeout_s = 1;
    o.reports_dir = dir_ / "reports";
    auto made = Server::make(o, std::move(c));
    ASSERT_TRUE(made.ok()) << made.error().to_string();
    server_ = std::move(*made);
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  json post(const std::string& path, const json& body, const std::string& key) const {
    httplib::Client cli("127.0.0.1", server_->port());
    auto r = cli.Post(path, {{"Authorization", "Bearer " + key}}, body.dump(), "application/json");
    RAGFT_CHECK(r);
    json j = json::parse(r->body);
    j["http_status"] = r->status;
    return j;
  }
  json get(const std::string& path, const std::string& key) const {
    httplib::Client cli("127.0.0.1", server_->port());
    auto r = cli.Get(path, {{"Authorization", "Bearer " + key}});
    RAGFT_CHECK(r);
    json j = json::parse(r->body);
    j["http_status"] = r->status;
    return j;
  }

  // The DOM of /ui#`fragment` once the page's boot code has run.
  std::string dom(const std::string& fragment, const std::string& name) {
    ragft::testing::Chromium chromium(browser_, dir_);
    const std::string url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/ui#" + fragment;
    ragft::testing::Command r = chromium.run(url, "--dump-dom --virtual-time-budget=30000");
    EXPECT_EQ(r.exit_code, 0) << chromium.log();
    EXPECT_NE(r.out.find("data-state=\"ready\""), std::string::npos)
        << "the page never finished booting: " << r.out.substr(0, 3000) << "\n" << chromium.log();
    if (const char* keep = std::getenv("RAGFT_TEST_ARTIFACTS"); keep && *keep) {
      fs::create_directories(keep);
      write(fs::path(keep) / ("web_ui_" + name + ".dom.html"), r.out);
    }
    return r.out;
  }

  std::string browser_;
  fs::path dir_;
  std::string alice_, admin_;
  json report_;
  std::unique_ptr<Server> server_;
};

TEST_F(WebUiTest, ServedWithoutAKeyAsHtml) {
  httplib::Client cli("127.0.0.1", server_->port());
  for (const char* path : {"/", "/ui"}) {
    auto r = cli.Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(r->body, web_ui_html());
  }
}

TEST_F(WebUiTest, ClickingACitationMarksExactlyTheCitedSpan) {
  if (browser_.empty()) GTEST_SKIP() << ragft::testing::kNoChromium;
  const std::string question = "Which vent spews lava at night?";
  const json answer = post("/v1/ask", {{"question", question}}, alice_);
  ASSERT_EQ(answer["http_status"], 200) << answer;
  ASSERT_FALSE(answer["sources"].empty()) << answer;
  const json& s = answer["sources"][0];
  ASSERT_EQ(s["n"], 1);
  ASSERT_EQ(s["doc_id"], kDocId);
  const std::string text = chunk1_ + chunk2_;
  const auto start = s["char_start"].get<std::size_t>(), end = s["char_end"].get<std::size_t>();
  const std::size_t b0 = byte_offset(text, start), b1 = byte_offset(text, end);
  const std::string cited = text.substr(b0, b1 - b0);
  ASSERT_EQ(s["quote"], cited);
  // The test means something only if code points and UTF-16 units differ before and inside the span.
  ASSERT_NE(cited.find("\xF0\x9F\x8C\x8B"), std::string::npos) << cited;
  ASSERT_NE(text.substr(0, b0).find("\xF0\x9D\x94\x84"), std::string::npos);

  const std::string d = dom("key=" + alice_ + "&ask=" + url_encode(question) + "&cite=1", "ask");
  const std::string mark = inner_of(d, "mark", "doc-span");
  EXPECT_EQ(text_of(mark), cited) << d;
  EXPECT_NE(opening_tag(d, "id=\"doc-span\"").find("data-char-start=\"" + std::to_string(start) + "\""),
            std::string::npos);
  // The text around the mark is the rest of the document.
  EXPECT_EQ(text_of(inner_of(d, "div", "doc-text")), text);
  EXPECT_EQ(text_of(inner_of(d, "h2", "doc-title")), kDocTitle);
  EXPECT_NE(d.find("class=\"cite\" data-n=\"1\""), std::string::npos) << "the answer's [1] is a button";
  EXPECT_NE(opening_tag(d, "id=\"error\"").find("hidden"), std::string::npos) << inner_of(d, "div", "error");
  EXPECT_EQ(d.find(alice_), std::string::npos) << "the key is in the page";
}

TEST_F(WebUiTest, ClickingASearchHitMarksItsChunkAndTheMatches) {
  if (browser_.empty()) GTEST_SKIP() << ragft::testing::kNoChromium;
  const json hits = post("/v1/search", {{"query", "spews"}}, alice_);
  ASSERT_EQ(hits["http_status"], 200) << hits;
  ASSERT_EQ(hits["hits"].size(), 1u) << "alice reads one of the two documents that match: " << hits;
  ASSERT_EQ(hits["hits"][0]["char_start"], char_offset(chunk1_, chunk1_.size()));

  const std::string d = dom("key=" + alice_ + "&search=spews&open=1", "search");
  const std::string mark = inner_of(d, "mark", "doc-span");
  EXPECT_EQ(text_of(mark), chunk2_) << d;
  EXPECT_NE(mark.find("<b class=\"term\">spews</b>"), std::string::npos) << mark;
  EXPECT_EQ(d.find("hr/lava.md"), std::string::npos) << "a document alice may not read is shown";
  EXPECT_NE(d.find("<mark>spews</mark>"), std::string::npos) << "the snippet's match is marked";
  EXPECT_NE(d.find("aria-current=\"true\""), std::string::npos);
}

TEST_F(WebUiTest, AReportIsListedAndOpened) {
  if (browser_.empty()) GTEST_SKIP() << ragft::testing::kNoChromium;
  const std::string title = report_["project"]["name"];
  const std::string d = dom("key=" + admin_ + "&report=scifact", "report");
  const std::string list = inner_of(d, "ul", "report-list");
  EXPECT_NE(list.find("data-name=\"scifact\""), std::string::npos) << list;
  EXPECT_NE(text_of(list).find(title), std::string::npos) << list;
  EXPECT_NE(text_of(list).find(report_["recommendation"]["headline"].get<std::string>()), std::string::npos);
  // The status line is written from the report's own <title>, read out of the iframe.
  EXPECT_EQ(text_of(inner_of(d, "p", "report-status")), "Showing scifact: " + title + " \xE2\x80\x94 ragft decide")
      << d.substr(0, 4000);
  EXPECT_NE(opening_tag(d, "id=\"report-frame\"").find("srcdoc="), std::string::npos);
  EXPECT_NE(opening_tag(d, "id=\"error\"").find("hidden"), std::string::npos) << inner_of(d, "div", "error");
}

TEST_F(WebUiTest, ApiErrorsAreShownWithTheServersMessage) {
  if (browser_.empty()) GTEST_SKIP() << ragft::testing::kNoChromium;
  // Reports need an admin key: alice's is refused with 403.
  const json refused = get("/v1/reports", alice_);
  ASSERT_EQ(refused["http_status"], 403);
  std::string d = dom("key=" + alice_ + "&reports", "reports_refused");
  EXPECT_EQ(opening_tag(d, "id=\"error\"").find("hidden"), std::string::npos);
  EXPECT_EQ(text_of(inner_of(d, "div", "error")), "Error 403: " + refused["error"]["message"].get<std::string>());
  // A bad key: 401 with the server's message and a hint.
  const std::string bad = "rk_" + std::string(64, '0');
  const json unknown = post("/v1/search", {{"query", "lava"}}, bad);
  ASSERT_EQ(unknown["http_status"], 401);
  d = dom("key=" + bad + "&search=lava", "bad_key");
  const std::string error = text_of(inner_of(d, "div", "error"));
  EXPECT_TRUE(error.starts_with("Error 401: " + unknown["error"]["message"].get<std::string>())) << error;
  EXPECT_TRUE(error.ends_with(" Enter a valid API key above.")) << error;
}

}  // namespace
}  // namespace ragft::serve
