// The write path of the server (documents_api.h, ingestor.h): request parsing, group commits
// that searches see as soon as they are answered, readers that never fail while writes go on,
// changes made by another process, and the routes with their admin and tenant rules.
#include "serve/documents_api.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "retrieve/searcher.h"
#include "serve/api_keys.h"
#include "serve/ingestor.h"
#include "serve/serve_test_util.h"
#include "serve/server.h"

namespace ragft::serve {
namespace {

using nlohmann::json;

ParsedWrites upserts(const json& body, std::size_t max_documents = 100) {
  ServeLimits limits;
  limits.max_documents = max_documents;
  return parse_upsert_request(body.dump(), "acme", limits, ChunkerOptions{});
}

// ---- parsing ----

TEST(DocumentsApi, ParsesDocumentsIntoChunkedUpserts) {
  ParsedWrites p = upserts({{"documents",
                             {{{"id", "kb/1"}, {"text", "Lava flows from the vent.\n\nAsh falls later."}},
                              {{"id", "kb/2"},
                               {"text", "# Volcanoes\n\nMagma rises through the crust."},
                               {"format", "md"},
                               {"metadata", {{"lang", "en"}}},
                               {"acl", {"geo", "ops"}}}}}});
  ASSERT_FALSE(p.error) << p.error->message;
  ASSERT_EQ(p.writes.size(), 2u);
  const NewDocument& first = p.writes[0].upsert.doc;
  EXPECT_EQ(first.ext_id, "kb/1");
  EXPECT_EQ(first.tenant, "acme");
  EXPECT_EQ(first.title, "kb/1");  // no title given, none in plain text: the id
  EXPECT_EQ(first.source, "api:kb/1");
  EXPECT_EQ(first.format, "txt");
  EXPECT_TRUE(first.acl.empty());
  ASSERT_FALSE(p.writes[0].upsert.chunks.empty());
  EXPECT_EQ(p.writes[0].upsert.chunks[0].char_start, 0);
  const NewDocument& second = p.writes[1].upsert.doc;
  EXPECT_EQ(second.title, "Volcanoes");  // the markdown heading
  EXPECT_EQ(second.format, "md");
  EXPECT_EQ(second.metadata_json, R"({"lang":"en"})");
  EXPECT_EQ(second.acl, (std::vector<std::string>{"geo", "ops"}));
  EXPECT_FALSE(second.content_hash.empty());
  EXPECT_NE(second.content_hash, first.content_hash);
  // The same text with other metadata is another version of the document.
  ParsedWrites again = upserts({{"documents",
                                 {{{"id", "kb/2"},
                                   {"text", "# Volcanoes\n\nMagma rises through the crust."},
                                   {"format", "md"},
                                   {"metadata", {{"lang", "de"}}},
                                   {"acl", {"geo", "ops"}}}}}});
  ASSERT_FALSE(again.error);
  EXPECT_NE(again.writes[0].upsert.doc.content_hash, second.content_hash);
}

TEST(DocumentsApi, BadBodiesNameTheirField) {
  struct Case {
    json body;
    std::string param, code;
  };
  const std::vector<Case> cases = {
      {json::array(), "", "invalid_type"},
      {json::object(), "documents", "missing_field"},
      {{{"documents", json::array()}}, "documents", "invalid_value"},
      {{{"documents", "x"}}, "documents", "invalid_type"},
      {{{"documents", {1}}}, "documents[0]", "invalid_type"},
      {{{"documents", {{{"text", "a b"}}}}}, "documents[0].id", "missing_field"},
      {{{"documents", {{{"id", "a"}}}}}, "documents[0].text", "missing_field"},
      {{{"documents", {{{"id", ""}, {"text", "a b"}}}}}, "documents[0].id", "invalid_value"},
      {{{"documents", {{{"id", std::string(2000, 'x')}, {"text", "a b"}}}}}, "documents[0].id", "limit_exceeded"},
      {{{"documents", {{{"id", 7}, {"text", "a b"}}}}}, "documents[0].id", "invalid_type"},
      {{{"documents", {{{"id", "a"}, {"text", "  \n "}}}}}, "documents[0].text", "invalid_value"},
      {{{"documents", {{{"id", "a"}, {"text", std::string("a\0b", 3)}}}}}, "documents[0].text", "invalid_value"},
      {{{"documents", {{{"id", "a"}, {"text", "a b"}, {"format", "pdf"}}}}}, "documents[0].format", "invalid_value"},
      {{{"documents", {{{"id", "a"}, {"text", "a b"}, {"metadata", {{"n", 5}}}}}}}, "documents[0].metadata.n",
       "invalid_type"},
      {{{"documents", {{{"id", "a"}, {"text", "a b"}, {"acl", "geo"}}}}}, "documents[0].acl", "invalid_type"},
      {{{"documents", {{{"id", "a"}, {"text", "a b"}, {"acl", {""}}}}}}, "documents[0].acl[0]", "invalid_value"},
      {{{"documents", {{{"id", "a"}, {"text", "a b"}, {"tenant", "other"}}}}}, "documents[0].tenant", "not_allowed"},
      {{{"documents", {{{"id", "a"}, {"text", "a b"}, {"colour", "red"}}}}}, "documents[0].colour", "unknown_field"},
      {{{"documents", {{{"id", "a"}, {"text", "a b"}}, {{"id", "a"}, {"text", "c d"}}}}}, "documents[1].id",
       "invalid_value"},
      {{{"documents", {{{"id", "a"}, {"text", "a b"}}}}, {"wait", true}}, "wait", "unknown_field"},
  };
  for (const Case& c : cases) {
    ParsedWrites p = upserts(c.body);
    ASSERT_TRUE(p.error) << c.body;
    EXPECT_EQ(p.error->status, 400) << c.body;
    EXPECT_EQ(p.error->param, c.param) << c.body << ": " << p.error->message;
    EXPECT_EQ(p.error->code, c.code) << c.body << ": " << p.error->message;
  }
  json many = {{"documents", json::array()}};
  for (int i = 0; i < 3; ++i) many["documents"].push_back({{"id", std::to_string(i)}, {"text", "a b"}});
  ParsedWrites over = upserts(many, 2);
  ASSERT_TRUE(over.error);
  EXPECT_EQ(over.error->code, "limit_exceeded");

  ServeLimits limits;
  ParsedWrites del = parse_delete_request(R"({"ids": ["a", 3]})", "acme", limits);
  ASSERT_TRUE(del.error);
  EXPECT_EQ(del.error->param, "ids[1]");
  ParsedWrites ok = parse_delete_request(R"({"ids": ["a", "b/c"]})", "acme", limits);
  ASSERT_FALSE(ok.error);
  ASSERT_EQ(ok.writes.size(), 2u);
  EXPECT_EQ(ok.writes[1].ext_id, "b/c");
  EXPECT_EQ(ok.writes[1].tenant, "acme");
  EXPECT_EQ(ok.writes[1].kind, DocumentWrite::Kind::kDelete);
}

// ---- the ingestor ----

DocumentWrite upsert_of(const std::string& id, const std::string& text, const std::string& tenant = "default") {
  ParsedWrites p = parse_upsert_request(json{{"documents", {{{"id", id}, {"text", text}}}}}.dump(), tenant, {}, {});
  RAGFT_CHECK(!p.error);
  return std::move(p.writes[0]);
}

DocumentWrite delete_of(const std::string& id, const std::string& tenant = "default") {
  DocumentWrite w;
  w.kind = DocumentWrite::Kind::kDelete;
  w.tenant = tenant;
  w.ext_id = id;
  return w;
}

class IngestorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir("ragft_docs_");
    auto ws = Workspace::open(dir_ / "ws");
    ASSERT_TRUE(ws.ok()) << ws.error().to_string();
    ASSERT_TRUE(testing::put_docs(ws->store(), {{"seed", "default", "Seed", "granite basalt seed", {}, "{}"}}).ok());
    ASSERT_TRUE(ws->catch_up().ok());
    auto pool = WorkspacePool::open(dir_ / "ws", {});
    ASSERT_TRUE(pool.ok()) << pool.error().to_string();
    pool_ = std::move(*pool);
  }
  void TearDown() override {
    ingestor_.reset();
    pool_.reset();
    std::filesystem::remove_all(dir_);
  }
  void start(IngestOptions options = {}) {
    auto made = Ingestor::start(pool_, options);
    ASSERT_TRUE(made.ok()) << made.error().to_string();
    ingestor_ = std::move(*made);
  }
  // The ext ids a search for `query` finds (as the default tenant's owner).
  std::set<std::string> found(const std::string& query) {
    auto lease = pool_->acquire();
    RAGFT_CHECK(lease.ok());
    SearchRequest r;
    r.query = query;
    r.k = 50;
    auto hits = search(**lease, r);
    EXPECT_TRUE(hits.ok()) << hits.error().to_string();
    std::set<std::string> ids;
    if (hits.ok()) {
      for (const auto& h : *hits) ids.insert(h.ext_id);
    }
    return ids;
  }
  Result<WriteResult> write(std::vector<DocumentWrite> writes) { return ingestor_->write(std::move(writes)); }

  std::filesystem::path dir_;
  std::shared_ptr<WorkspacePool> pool_;
  std::unique_ptr<Ingestor> ingestor_;
};

TEST_F(IngestorTest, AnsweredWritesAreSearchableAtOnce) {
  start();
  EXPECT_EQ(found("obsidian"), std::set<std::string>{});
  std::vector<DocumentWrite> writes;
  writes.push_back(upsert_of("a", "obsidian glass cools fast"));
  writes.push_back(upsert_of("b", "pumice floats on obsidian water"));
  auto r = write(std::move(writes));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->outcomes.size(), 2u);
  EXPECT_EQ(r->outcomes[0].status, "created");
  EXPECT_EQ(r->outcomes[1].ext_id, "b");
  EXPECT_TRUE(r->indexed);
  EXPECT_GT(r->seq, 0);
  EXPECT_EQ(found("obsidian"), (std::set<std::string>{"a", "b"}));

  // The same document again is unchanged; changed text replaces the old chunks.
  std::vector<DocumentWrite> same;
  same.push_back(upsert_of("a", "obsidian glass cools fast"));
  auto unchanged = write(std::move(same));
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->outcomes[0].status, "unchanged");
  std::vector<DocumentWrite> changed;
  changed.push_back(upsert_of("a", "rhyolite erupts explosively"));
  auto updated = write(std::move(changed));
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->outcomes[0].status, "updated");
  EXPECT_EQ(found("obsidian"), std::set<std::string>{"b"});
  EXPECT_EQ(found("rhyolite"), std::set<std::string>{"a"});

  std::vector<DocumentWrite> deletes;
  deletes.push_back(delete_of("b"));
  deletes.push_back(delete_of("never-there"));
  auto deleted = write(std::move(deletes));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->outcomes[0].status, "deleted");
  EXPECT_EQ(deleted->outcomes[1].status, "not_found");
  EXPECT_EQ(found("obsidian"), std::set<std::string>{});
  // The index the readers adopted equals the store: a fresh workspace (caught up from the
  // store) finds the same.
  auto fresh = Workspace::open(dir_ / "ws");
  ASSERT_TRUE(fresh.ok());
  auto lease = pool_->acquire();
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)->index().live_ids(), fresh->index().live_ids());
}

TEST_F(IngestorTest, ConcurrentRequestsAreAllCommittedAndVisible) {
  start();
  constexpr int kThreads = 8, kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::vector<DocumentWrite> w;
        w.push_back(upsert_of(fmt::format("t{}-{}", t, i), fmt::format("feldspar crystal number{}x{}", t, i)));
        auto r = write(std::move(w));
        if (!r.ok() || r->outcomes.size() != 1 || r->outcomes[0].status != "created") ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(found("feldspar").size(), 50u);  // k = 50 of the 200
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      EXPECT_EQ(found(fmt::format("number{}x{}", t, i)), std::set<std::string>{fmt::format("t{}-{}", t, i)});
    }
  }
  EXPECT_LE(ingestor_->groups(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST_F(IngestorTest, ABadRequestInAGroupFailsAloneAndWritesNothing) {
  start();
  // A chunk id past the store's limit cannot be forced here; a metadata string the store
  // refuses can: not a JSON object.
  DocumentWrite bad = upsert_of("bad", "quartz vein bad");
  bad.upsert.doc.metadata_json = "[1]";
  std::vector<DocumentWrite> bad_request;
  bad_request.push_back(upsert_of("good-in-bad", "quartz vein good"));
  bad_request.push_back(std::move(bad));
  std::vector<DocumentWrite> good_request;
  good_request.push_back(upsert_of("good", "quartz vein fine"));
  Result<WriteResult> bad_result = make_error(ErrorCode::kInternal, "not run");
  Result<WriteResult> good_result = make_error(ErrorCode::kInternal, "not run");
  std::thread a([&] { bad_result = write(std::move(bad_request)); });
  std::thread b([&] { good_result = write(std::move(good_request)); });
  a.join();
  b.join();
  ASSERT_FALSE(bad_result.ok());
  EXPECT_EQ(bad_result.error().code, ErrorCode::kInvalidArgument) << bad_result.error().to_string();
  ASSERT_TRUE(good_result.ok()) << good_result.error().to_string();
  EXPECT_EQ(found("quartz"), std::set<std::string>{"good"});
}

TEST_F(IngestorTest, ARequestMixingUpsertsAndDeletesIsRefusedWhole) {
  start();
  for (bool delete_first : {false, true}) {
    std::vector<DocumentWrite> mixed;
    if (delete_first) mixed.push_back(delete_of("seed"));
    mixed.push_back(upsert_of("mixed", "obsidian mixed"));
    if (!delete_first) mixed.push_back(delete_of("seed"));
    Result<WriteResult> r = write(std::move(mixed));
    ASSERT_FALSE(r.ok()) << "delete first: " << delete_first;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().to_string();
  }
  EXPECT_TRUE(found("obsidian").empty());
  EXPECT_EQ(found("granite"), std::set<std::string>{"seed"});
  EXPECT_EQ(ingestor_->groups(), 0u);  // refused before it was queued
}

TEST_F(IngestorTest, SearchesNeverFailWhileDocumentsChange) {
  start();
  std::atomic<bool> done{false};
  std::atomic<int> search_errors{0}, searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        auto lease = pool_->acquire();
        if (!lease.ok()) {
          ++search_errors;
          continue;
        }
        SearchRequest r;
        r.query = "mica schist";
        r.k = 20;
        auto hits = search(**lease, r);
        if (!hits.ok()) ++search_errors;
        ++searches;
      }
    });
  }
  for (int round = 0; round < 30; ++round) {
    std::vector<DocumentWrite> w;
    for (int i = 0; i < 5; ++i) w.push_back(upsert_of(fmt::format("d{}", i), fmt::format("mica schist round{}", round)));
    ASSERT_TRUE(write(std::move(w)).ok());
    if (round % 3 == 2) {
      std::vector<DocumentWrite> d;
      d.push_back(delete_of("d0"));
      ASSERT_TRUE(write(std::move(d)).ok());
    }
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(search_errors.load(), 0);
  EXPECT_GT(searches.load(), 0);
  // Round 29 deleted d0 after writing it.
  EXPECT_EQ(found("round29"), (std::set<std::string>{"d1", "d2", "d3", "d4"}));
}

TEST_F(IngestorTest, ChangesOfAnotherProcessArePublished) {
  IngestOptions o;
  o.poll_ms = 20;
  start(o);
  {
    auto store = Store::open(dir_ / "ws" / "store.db");
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(testing::put_docs(*store, {{"cli", "default", "CLI", "gneiss written elsewhere", {}, "{}"}}).ok());
  }
  // The writer polls; a generous deadline only guards against a hang.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::set<std::string> seen;
  while (seen.empty() && std::chrono::steady_clock::now() < deadline) {
    seen = found("gneiss");
    if (seen.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(seen, std::set<std::string>{"cli"});
}

TEST_F(IngestorTest, StopFinishesQueuedWritesThenRefuses) {
  start();
  std::vector<DocumentWrite> w;
  w.push_back(upsert_of("late", "diorite late"));
  ASSERT_TRUE(write(std::move(w)).ok());
  ingestor_->stop();
  std::vector<DocumentWrite> after;
  after.push_back(upsert_of("after", "diorite after"));
  auto refused = write(std::move(after));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(found("diorite"), std::set<std::string>{"late"});
}

// ---- the routes ----

class DocumentRoutesTest : public IngestorTest {
 protected:
  void serve(bool with_keys) {
    start();
    ServeComponents c;
    c.workspaces = pool_;
    c.ingestor = std::shared_ptr<Ingestor>(std::move(ingestor_));
    if (with_keys) {
      auto auth = ApiKeyAuthenticator::open(dir_ / "ws" / "store.db", ApiKeyAuthOptions{std::chrono::milliseconds(0)});
      ASSERT_TRUE(auth.ok()) << auth.error().to_string();
      c.authenticator = std::move(*auth);
    } else {
      c.identity.principal = principal_;
    }
    ServeOptions o;
    o.port = 0;
    o.keep_alive_timeout_s = 1;
    auto made = Server::make(o, std::move(c));
    ASSERT_TRUE(made.ok()) << made.error().to_string();
    server_ = std::move(*made);
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override {
    server_.reset();
    IngestorTest::TearDown();
  }
  std::string key(const std::string& tenant, std::optional<std::string> principal, bool admin) {
    auto store = Store::open(dir_ / "ws" / "store.db");
    RAGFT_CHECK(store.ok());
    if (principal) RAGFT_CHECK(store->put_principal(Principal{*principal, tenant, {"staff"}}).ok());
    auto made = create_api_key(*store, ApiKeySpec{"k", tenant, std::move(principal), admin});
    RAGFT_CHECK(made.ok());
    return made->key;
  }
  json call(const std::string& method, const std::string& path, const json& body, const std::string& key) {
    httplib::Client cli("127.0.0.1", server_->port());
    cli.set_read_timeout(30, 0);
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    auto r = method == "DELETE" ? cli.Delete(path.c_str(), headers)
                                : cli.Post(path.c_str(), headers, body.dump(), "application/json");
    if (!r) return json{{"http_status", 0}};
    json j = json::parse(r->body, nullptr, false);
    if (!j.is_object()) j = json{{"raw", r->body}};
    j["http_status"] = r->status;
    return j;
  }
  std::unique_ptr<Server> server_;
  std::optional<std::string> principal_;
};

TEST_F(DocumentRoutesTest, AdminKeysWriteIntoTheirTenantOnly) {
  const std::string admin_a = key("a", std::nullopt, true);
  const std::string reader_a = key("a", std::nullopt, false);
  const std::string admin_b = key("b", std::nullopt, true);
  const std::string staff_a = key("a", "alice", false);
  serve(true);
  const json doc = {{"documents",
                     {{{"id", "notes/x.md"}, {"text", "# Tuff\n\nWelded tuff forms from ash."}, {"format", "md"}},
                      {{"id", "private"}, {"text", "tuff secret"}, {"acl", {"board"}}}}}};
  EXPECT_EQ(call("POST", "/v1/documents", doc, "")["http_status"], 401);
  json refused = call("POST", "/v1/documents", doc, reader_a);
  EXPECT_EQ(refused["http_status"], 403) << refused;
  EXPECT_EQ(refused["error"]["code"], "admin_required");
  json ok = call("POST", "/v1/documents", doc, admin_a);
  ASSERT_EQ(ok["http_status"], 200) << ok;
  EXPECT_EQ(ok["object"], "documents.write");
  EXPECT_EQ(ok["documents"][0]["id"], "notes/x.md");
  EXPECT_EQ(ok["documents"][0]["status"], "created");
  EXPECT_GE(ok["documents"][0]["chunks"].get<int>(), 1);
  EXPECT_EQ(ok["indexed"], true);

  auto ids_of = [](const json& r) {
    std::set<std::string> ids;
    for (const auto& h : r["hits"]) ids.insert(h["doc_id"].get<std::string>());
    return ids;
  };
  const json query = {{"query", "tuff"}};
  EXPECT_EQ(ids_of(call("POST", "/v1/search", query, reader_a)), (std::set<std::string>{"notes/x.md", "private"}));
  EXPECT_EQ(ids_of(call("POST", "/v1/search", query, staff_a)), std::set<std::string>{"notes/x.md"});  // ACL
  EXPECT_EQ(ids_of(call("POST", "/v1/search", query, admin_b)), std::set<std::string>{});             // tenant
  // Tenant b's admin cannot delete a's document: for b it does not exist.
  EXPECT_EQ(call("DELETE", "/v1/documents/notes/x.md", {}, admin_b)["http_status"], 404);
  json del = call("DELETE", "/v1/documents/notes/x.md", {}, admin_a);
  ASSERT_EQ(del["http_status"], 200) << del;
  EXPECT_EQ(del["documents"][0]["status"], "deleted");
  EXPECT_EQ(ids_of(call("POST", "/v1/search", query, reader_a)), std::set<std::string>{"private"});
  json again = call("DELETE", "/v1/documents/notes/x.md", {}, admin_a);
  EXPECT_EQ(again["http_status"], 404);
  EXPECT_EQ(again["error"]["code"], "not_found");
  json batch = call("POST", "/v1/documents/delete", {{"ids", {"private", "gone"}}}, admin_a);
  ASSERT_EQ(batch["http_status"], 200) << batch;
  EXPECT_EQ(batch["documents"][0]["status"], "deleted");
  EXPECT_EQ(batch["documents"][1]["status"], "not_found");
  json bad = call("POST", "/v1/documents", {{"documents", {{{"id", "x"}}}}}, admin_a);
  EXPECT_EQ(bad["http_status"], 400);
  EXPECT_EQ(bad["error"]["param"], "documents[0].text");
}

TEST_F(DocumentRoutesTest, WithoutKeysOnlyTheOwnerWrites) {
  principal_ = "alice";
  {
    auto store = Store::open(dir_ / "ws" / "store.db");
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(store->put_principal(Principal{"alice", "default", {"staff"}}).ok());
  }
  serve(false);
  json r = call("POST", "/v1/documents", {{"documents", {{{"id", "x"}, {"text", "chert"}}}}}, "");
  EXPECT_EQ(r["http_status"], 403) << r;
}

}  // namespace
}  // namespace ragft::serve
