// GET /v1/documents/{id} (serve/documents_read.h): the document as the request's identity may read
// it, by retrieval's own access rule; one 404 for missing, another tenant's and ACL-refused
// documents alike; ids with slashes, spaces and non-ASCII; offsets in code points.
#include "serve/documents_read.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/utf8.h"
#include "retrieve/workspace.h"
#include "serve/api_keys.h"
#include "serve/serve_test_util.h"
#include "serve/server.h"

namespace ragft::serve {
namespace {

using nlohmann::json;

// Text with characters past U+FFFF (two UTF-16 units, four UTF-8 bytes) and two-byte ones.
const std::string kMixed = "Gr\xC3\xBC\xC3\x9F" "e \xF0\x9F\x8C\x8B and \xF0\x9D\x94\x98nicode: lava flows.";

class DocumentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir("ragft_docs_");
    auto ws = Workspace::open(ws_dir());
    ASSERT_TRUE(ws.ok()) << ws.error().to_string();
    std::vector<testing::TestDoc> docs = {
        {"notes/a b \xC3\xA9.md", "default", "Mixed \xF0\x9F\x8C\x8B", kMixed, {}, R"({"color":"red"})"},
        {"hr/secret.md", "default", "HR secret", "Only the hr group reads this.", {"hr"}, "{}"},
        {"alice-only", "default", "For Alice", "Admitted by name.", {"user:alice"}, "{}"},
        {"acme/only.md", "acme", "Acme only", "Another tenant's text.", {}, "{}"},
    };
    ASSERT_TRUE(testing::put_docs(ws->store(), docs).ok());
    // A paged document: pages start at code points 0 and 6.
    NewDocument pdf;
    pdf.ext_id = "paper.pdf";
    pdf.source = "/abs/paper.pdf";
    pdf.format = "pdf";
    pdf.title = "Paper";
    pdf.text = "first\nsecond page";
    pdf.content_hash = "pdf";
    pdf.page_starts = {0, 6};
    NewChunk c;
    c.char_end = static_cast<std::int64_t>(char_offset(pdf.text, pdf.text.size()));
    c.text = pdf.text;
    c.page = 1;
    ASSERT_TRUE(ws->store().upsert(pdf, {c}).ok());
    ASSERT_TRUE(ws->store().put_principal(Principal{"alice", "default", {"staff"}}).ok());
    ASSERT_TRUE(ws->store().put_principal(Principal{"hank", "default", {"hr"}}).ok());
    ASSERT_TRUE(ws->catch_up().ok());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path ws_dir() const { return dir_ / "ws"; }
  std::filesystem::path store_path() const { return ws_dir() / "store.db"; }

  std::string make_key(const std::string& tenant, std::optional<std::string> principal) {
    auto store = Store::open(store_path());
    RAGFT_CHECK(store.ok());
    auto made = create_api_key(*store, ApiKeySpec{"k", tenant, std::move(principal), false});
    RAGFT_CHECK(made.ok());
    return made->key;
  }

  void start(bool with_keys, Identity identity = {}, bool with_workspace = true) {
    ServeComponents c;
    if (with_workspace) {
      auto pool = WorkspacePool::open(ws_dir(), {});
      ASSERT_TRUE(pool.ok()) << pool.error().to_string();
      c.workspaces = std::move(*pool);
    }
    if (with_keys) {
      auto auth = ApiKeyAuthenticator::open(store_path(), ApiKeyAuthOptions{std::chrono::milliseconds(0)});
      ASSERT_TRUE(auth.ok()) << auth.error().to_string();
      c.authenticator = std::move(*auth);
    }
    c.identity = std::move(identity);
    ServeOptions o;
    o.port = 0;
    o.keep_alive_timeout_s = 1;
    auto made = Server::make(o, std::move(c));
    ASSERT_TRUE(made.ok()) << made.error().to_string();
    server_ = std::move(*made);
    ASSERT_TRUE(server_->start().ok());
  }

  // {status, body} of GET `path` (already URL-encoded).
  std::pair<int, std::string> get(const std::string& path, const std::string& key = "") const {
    httplib::Client cli("127.0.0.1", server_->port());
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    auto r = cli.Get(path, headers);
    if (!r) return {0, ""};
    return {r->status, r->body};
  }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
};

std::optional<std::string> read_as(Store& store, const std::string& tenant, std::optional<std::string> principal,
                                   const std::string& id) {
  auto r = read_document_as(store, Identity{tenant, std::move(principal), false, ""}, id);
  RAGFT_CHECK(r.ok());
  if (!*r) return std::nullopt;
  return (*r)->title;
}

TEST_F(DocumentsTest, ReadDocumentAsFollowsRetrievalsAccessRule) {
  auto store = Store::open(store_path());
  ASSERT_TRUE(store.ok());
  // The owner of a tenant reads all of it, and nothing of another tenant.
  EXPECT_EQ(read_as(*store, "default", std::nullopt, "hr/secret.md"), "HR secret");
  EXPECT_EQ(read_as(*store, "default", std::nullopt, "acme/only.md"), std::nullopt);
  EXPECT_EQ(read_as(*store, "acme", std::nullopt, "acme/only.md"), "Acme only");
  // A principal: documents without ACL, those sharing a group, and those naming it ("user:<name>").
  EXPECT_EQ(read_as(*store, "default", "alice", "notes/a b \xC3\xA9.md"), "Mixed \xF0\x9F\x8C\x8B");
  EXPECT_EQ(read_as(*store, "default", "alice", "hr/secret.md"), std::nullopt);
  EXPECT_EQ(read_as(*store, "default", "alice", "alice-only"), "For Alice");
  EXPECT_EQ(read_as(*store, "default", "hank", "hr/secret.md"), "HR secret");
  EXPECT_EQ(read_as(*store, "default", "hank", "alice-only"), std::nullopt);
  EXPECT_EQ(read_as(*store, "default", "alice", "missing"), std::nullopt);
  // An unknown principal fails as its searches do, whatever the id.
  for (const char* id : {"hr/secret.md", "missing"}) {
    auto ghost = read_document_as(*store, Identity{"default", "ghost", false, ""}, id);
    ASSERT_FALSE(ghost.ok());
    EXPECT_EQ(ghost.error().code, ErrorCode::kNotFound);
    EXPECT_NE(ghost.error().message.find("ghost"), std::string::npos);
  }
}

TEST_F(DocumentsTest, ServesTheDocumentWithCodePointLengthAndMetadata) {
  start(/*with_keys=*/false);
  // The id holds a slash, a space and a non-ASCII letter; percent-encoded either with the slash
  // as is or as %2F (what the web page's encodeURIComponent sends).
  for (const char* path : {"/v1/documents/notes/a%20b%20%C3%A9.md", "/v1/documents/notes%2Fa%20b%20%C3%A9.md"}) {
    auto [status, body] = get(path);
    ASSERT_EQ(status, 200) << path << " " << body;
    json d = json::parse(body);
    EXPECT_EQ(d["object"], "document");
    EXPECT_EQ(d["id"], "notes/a b \xC3\xA9.md");
    EXPECT_EQ(d["title"], "Mixed \xF0\x9F\x8C\x8B");
    EXPECT_EQ(d["source"], "mem:notes/a b \xC3\xA9.md");
    EXPECT_EQ(d["format"], "txt");
    EXPECT_EQ(d["version"], 1);
    EXPECT_EQ(d["metadata"], (json{{"color", "red"}}));
    EXPECT_EQ(d["text"], kMixed);
    // "Grüße 🌋 and 𝔘nicode: lava flows." is 32 code points (34 UTF-16 units).
    EXPECT_EQ(d["char_length"], 32);
    EXPECT_EQ(d["char_length"], char_offset(kMixed, kMixed.size()));
    EXPECT_FALSE(d.contains("pages"));
    EXPECT_FALSE(d.contains("acl")) << "the ACL's groups are not shown";
    EXPECT_FALSE(d.contains("tenant"));
  }
  auto [status, body] = get("/v1/documents/paper.pdf");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(json::parse(body)["pages"], json::parse(R"([{"page":1,"char_start":0,"char_end":6},
                                                        {"page":2,"char_start":6,"char_end":17}])"));
}

TEST_F(DocumentsTest, MissingOtherTenantsAndAclRefusedDocumentsGetTheSame404) {
  const std::string alice = make_key("default", "alice");
  const std::string acme = make_key("acme", std::nullopt);
  const std::string owner = make_key("default", std::nullopt);
  start(/*with_keys=*/true);
  // The 404 body with the id it echoes replaced, so bodies for different ids compare.
  auto refused = [&](const std::string& key, const std::string& encoded_id, const std::string& id) {
    auto [status, body] = get("/v1/documents/" + encoded_id, key);
    EXPECT_EQ(status, 404) << encoded_id << " " << body;
    for (std::size_t at; (at = body.find(id)) != std::string::npos;) body.replace(at, id.size(), "ID");
    return body;
  };
  const std::string missing = refused(alice, "no-such-doc", "no-such-doc");
  const json e = json::parse(missing)["error"];
  EXPECT_EQ(e["code"], "document_not_found");
  EXPECT_EQ(e["param"], "id");
  EXPECT_EQ(e["message"], "no document 'ID' that this identity may read");
  EXPECT_EQ(refused(alice, "hr/secret.md", "hr/secret.md"), missing) << "an ACL-refused document";
  EXPECT_EQ(refused(alice, "acme/only.md", "acme/only.md"), missing) << "another tenant's document";
  EXPECT_EQ(refused(acme, "notes/a%20b%20%C3%A9.md", "notes/a b \xC3\xA9.md"), missing);
  EXPECT_EQ(refused(acme, "hr/secret.md", "hr/secret.md"), missing);
  // What each may read.
  EXPECT_EQ(get("/v1/documents/alice-only", alice).first, 200);
  EXPECT_EQ(get("/v1/documents/acme/only.md", acme).first, 200);
  EXPECT_EQ(get("/v1/documents/hr/secret.md", owner).first, 200);
  // Without a valid key: 401 before anything is looked up.
  EXPECT_EQ(get("/v1/documents/alice-only").first, 401);
  EXPECT_EQ(get("/v1/documents/alice-only", "rk_" + std::string(64, 'c')).first, 401);
}

TEST_F(DocumentsTest, NoWorkspaceOrAnUnknownPrincipal) {
  start(/*with_keys=*/false, Identity{}, /*with_workspace=*/false);
  auto [status, body] = get("/v1/documents/alice-only");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(json::parse(body)["error"]["code"], "no_workspace");
  server_.reset();
  start(/*with_keys=*/false, Identity{"default", "ghost", false, ""});
  auto [s2, b2] = get("/v1/documents/alice-only");
  EXPECT_EQ(s2, 404);
  EXPECT_EQ(json::parse(b2)["error"]["code"], "not_found");
  EXPECT_NE(b2.find("unknown principal 'ghost'"), std::string::npos) << b2;
}

TEST(DocumentJsonTest, ShowsMetadataThatIsNoObjectAsEmpty) {
  DocumentRecord d;
  d.ext_id = "x";
  d.text = "\xF0\x9F\x8C\x8B";
  d.metadata_json = "[1]";
  json j = document_json(d);
  EXPECT_EQ(j["metadata"], json::object());
  EXPECT_EQ(j["char_length"], 1);
}

}  // namespace
}  // namespace ragft::serve
