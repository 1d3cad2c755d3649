// API keys (serve/api_keys.h) and the retrieval routes (search_api.h) on loopback: keys hashed
// at rest, 401 for anything but a valid key, /v1/search and /v1/ask as the key's identity, and a
// seeded property test that no response of search, ask, RAG chat or GET /v1/documents/{id} ever
// carries a document the key's identity may not read (nor says whether one exists), while every
// readable match can appear.
#include "serve/api_keys.h"
#include "serve/rate_limit.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <iterator>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/utf8.h"
#include "serve/search_api.h"
#include "serve/serve_test_util.h"
#include "serve/server.h"

namespace ragft::serve {
namespace {

using nlohmann::json;

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The word only document i holds: letters only (so no tokenizer splits it), fixed length (so no
// marker is part of another).
std::string marker(std::size_t i) {
  return std::string("zq") + static_cast<char>('a' + i / 26) + static_cast<char>('a' + i % 26) + "x";
}

RequestMeta bearer(const std::string& key) { return RequestMeta{"POST", "/v1/search", "127.0.0.1", "Bearer " + key}; }

// A model that answers one sentence citing [1], and
// records every prompt it was sent.
class RecordingModel final : public ChatModel {
 public:
  std::string config() const override { return "recording:"; }
  Result<ChatResponse> complete(const ChatRequest& request) const override {
    std::lock_guard lock(mu_);
    prompts_.push_back(request.messages.back().content);
    ChatResponse r;
    r.text = "The marker is in the first source [1].";
    r.finish_reason = "stop";
    r.usage = ChatUsage{1, 1, 2};
    return r;
  }
  Result<ChatResponse> stream(const ChatRequest& request, const ChatDeltaFn& on_delta) const override {
    auto r = complete(request);
    if (r.ok()) on_delta(r->text);
    return r;
  }
  std::vector<std::string> prompts() const {
    std::lock_guard lock(mu_);
    return prompts_;
  }

 private:
  mutable std::mutex mu_;
  mutable std::vector<std::string> prompts_;
};

struct Doc {
  std::string id, tenant, title, text;
  std::vector<std::string> acl;
  std::string color;  // metadata "color"
};

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::temp_dir("ragft_auth_"); }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path ws_dir() const { return dir_ / "ws"; }
  std::filesystem::path store_path() const { return ws_dir() / "store.db"; }

  // One-chunk documents and principals, indexed.
  void build(const std::vector<Doc>& docs, const std::vector<Principal>& principals) {
    auto ws = Workspace::open(ws_dir());
    ASSERT_TRUE(ws.ok()) << ws.error().to_string();
    std::vector<testing::TestDoc> stored;
    for (const Doc& d : docs) stored.push_back({d.id, d.tenant, d.title, d.text, d.acl, json{{"color", d.color}}.dump()});
    ASSERT_TRUE(testing::put_docs(ws->store(), stored).ok());
    for (const auto& p : principals) ASSERT_TRUE(ws->store().put_principal(p).ok());
    ASSERT_TRUE(ws->catch_up().ok());
  }

  std::string make_key(const std::string& tenant, std::optional<std::string> principal, bool admin = false) {
    auto store = Store::open(store_path());
    RAGFT_CHECK(store.ok());
    auto made = create_api_key(*store, ApiKeySpec{"k", tenant, std::move(principal), admin});
    RAGFT_CHECK(made.ok());
    return made->key;
  }

  void start(bool with_keys = true, ServeOptions o = {}) {
    ServeComponents c;
    auto pool = WorkspacePool::open(ws_dir(), {});
    ASSERT_TRUE(pool.ok()) << pool.error().to_string();
    c.workspaces = std::move(*pool);
    c.chat = model_;
    if (with_keys) {
      auto auth = ApiKeyAuthenticator::open(store_path(), ApiKeyAuthOptions{std::chrono::milliseconds(0)});
      ASSERT_TRUE(auth.ok()) << auth.error().to_string();
      c.authenticator = std::move(*auth);
    }
    o.port = 0;
    o.keep_alive_timeout_s = 1;
    auto made = Server::make(o, std::move(c));
    ASSERT_TRUE(made.ok()) << made.error().to_string();
    server_ = std::move(*made);
    ASSERT_TRUE(server_->start().ok());
  }

  // {"http_status", ...the JSON body}.
  json post(const std::string& path, const json& body, const std::string& key) const {
    httplib::Client cli("127.0.0.1", server_->port());
    cli.set_read_timeout(20, 0);
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    auto r = cli.Post(path.c_str(), headers, body.dump(), "application/json");
    if (!r) return json{{"http_status", 0}};
    json j = json::parse(r->body, nullptr, false);
    if (!j.is_object()) j = json{{"raw", r->body}};
    j["http_status"] = r->status;
    return j;
  }

  // {status, body} of GET `path`.
  std::pair<int, std::string> get(const std::string& path, const std::string& key) const {
    httplib::Client cli("127.0.0.1", server_->port());
    cli.set_read_timeout(20, 0);
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    auto r = cli.Get(path, headers);
    if (!r) return {0, ""};
    return {r->status, r->body};
  }

  std::filesystem::path dir_;
  std::shared_ptr<RecordingModel> model_ = std::make_shared<RecordingModel>();
  std::unique_ptr<Server> server_;
};

// ---- rate limits ----

TEST(RateLimiterTest, EachKeyHasABucketOfBurstTokensRefilledAtTheRate) {
  RateLimiter limiter(2.0, 3.0);  // 2 per second, bursts of 3
  const auto t0 = RateLimiter::Clock::now();
  const auto at = [&](double s) {
    return t0 + std::chrono::duration_cast<RateLimiter::Clock::duration>(std::chrono::duration<double>(s));
  };
  EXPECT_EQ(limiter.take("a", at(0)), 0);
  EXPECT_EQ(limiter.take("a", at(0)), 0);
  EXPECT_EQ(limiter.take("a", at(0)), 0);
  EXPECT_NEAR(limiter.take("a", at(0)), 0.5, 1e-9);   // empty: one token in half a second
  EXPECT_NEAR(limiter.take("a", at(0.25)), 0.25, 1e-6);
  EXPECT_EQ(limiter.take("a", at(0.5)), 0);           // refilled one
  EXPECT_GT(limiter.take("a", at(0.5)), 0);
  EXPECT_EQ(limiter.take("b", at(0.5)), 0);           // another key: its own full bucket
  // A long pause refills to the burst, not beyond.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.take("a", at(100)), 0) << i;
  EXPECT_GT(limiter.take("a", at(100)), 0);
}

TEST_F(AuthTest, KeysBeyondTheRateLimitGet429WithRetryAfter) {
  build({{"a", "default", "A", "alpha text", {}, "red"}}, {});
  const std::string key1 = make_key("default", std::nullopt);
  const std::string key2 = make_key("default", std::nullopt);
  ServeOptions o;
  o.rate_limit = 0.001;  // one token per 1000 s: nothing refills during the test
  o.rate_burst = 2;
  start(true, o);
  EXPECT_EQ(post("/v1/search", {{"query", "alpha"}}, key1)["http_status"], 200);
  EXPECT_EQ(post("/v1/search", {{"query", "alpha"}}, key1)["http_status"], 200);
  const json refused = post("/v1/search", {{"query", "alpha"}}, key1);
  EXPECT_EQ(refused["http_status"], 429) << refused.dump();
  EXPECT_EQ(refused["error"]["code"], "rate_limited") << refused.dump();
  EXPECT_EQ(refused["error"]["type"], "rate_limit_error") << refused.dump();
  {
    httplib::Client cli("127.0.0.1", server_->port());
    auto r = cli.Get("/v1/models", httplib::Headers{{"Authorization", "Bearer " + key1}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 429);  // every route counts against the key
    const int retry_after = std::stoi(r->get_header_value("Retry-After", 0));
    EXPECT_GT(retry_after, 900);
    EXPECT_LE(retry_after, 1000);
  }
  // Another key has its own bucket; a wrong key is refused as before (401, not 429); /health
  // needs no key and is not limited.
  EXPECT_EQ(post("/v1/search", {{"query", "alpha"}}, key2)["http_status"], 200);
  EXPECT_EQ(post("/v1/search", {{"query", "alpha"}}, "rk_" + std::string(64, '0'))["http_status"], 401);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get("/health", "").first, 200);
  // Validation.
  ServeOptions bad;
  bad.rate_limit = -1;
  EXPECT_FALSE(Server::make(bad, ServeComponents{}).ok());
}

// ---- keys ----

TEST_F(AuthTest, KeysRoundTripAndAreHashedAtRest) {
  build({{"a", "default", "A", "alpha text", {}, "red"}}, {{"bob", "acme", {"eng"}}});
  auto store = Store::open(store_path());
  ASSERT_TRUE(store.ok());
  auto k1 = create_api_key(*store, ApiKeySpec{"ci", "acme", "bob", true});
  ASSERT_TRUE(k1.ok()) << k1.error().to_string();
  auto k2 = create_api_key(*store, ApiKeySpec{"", "default", std::nullopt, false});
  ASSERT_TRUE(k2.ok());
  EXPECT_TRUE(k1->key.starts_with("rk_"));
  EXPECT_EQ(k1->key.size(), 3u + 64u);
  EXPECT_NE(k1->key, k2->key);
  // An unknown principal is refused, naming it.
  auto unknown = create_api_key(*store, ApiKeySpec{"", "acme", "carol", false});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_NE(unknown.error().message.find("carol"), std::string::npos);

  auto listed = store->list_api_keys();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, k1->record.id);
  EXPECT_EQ((*listed)[0].tenant, "acme");
  EXPECT_EQ((*listed)[0].principal, std::optional<std::string>("bob"));
  EXPECT_TRUE((*listed)[0].admin);
  // The stored hash is SHA-256(salt || key), and the key itself is nowhere in the store files.
  auto rehash = hash_api_key((*listed)[0].salt, k1->key);
  ASSERT_TRUE(rehash.ok());
  EXPECT_EQ(*rehash, (*listed)[0].hash);
  EXPECT_NE((*listed)[0].hash, (*listed)[1].hash);
  std::string bytes;
  for (const char* suffix : {"", "-wal", "-shm"}) bytes += read_bytes(store_path().string() + suffix);
  ASSERT_GT(bytes.size(), 1000u);
  for (const auto* k : {&k1->key, &k2->key}) {
    EXPECT_EQ(bytes.find(*k), std::string::npos);
    EXPECT_EQ(bytes.find(k->substr(3 + 16)), std::string::npos) << "the secret part of a key is in the store";
    // The lookup prefix is stored (it only says which row to check).
    EXPECT_NE(bytes.find(k->substr(3, 16)), std::string::npos);
  }
  // A hex-decoded form would not be found above: check no 8-byte run of the secret either.
  auto raw = [](const std::string& hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
  };
  EXPECT_EQ(bytes.find(raw(k1->key.substr(3 + 16, 16))), std::string::npos);
}

TEST_F(AuthTest, AuthenticatorResolvesValidKeysAndRefusesTheRestAlike) {
  build({{"a", "default", "A", "alpha text", {}, "red"}}, {{"bob", "acme", {"eng"}}});
  const std::string admin = make_key("acme", "bob", /*admin=*/true);
  const std::string owner = make_key("default", std::nullopt);
  auto auth = ApiKeyAuthenticator::open(store_path(), ApiKeyAuthOptions{std::chrono::milliseconds(0)});
  ASSERT_TRUE(auth.ok()) << auth.error().to_string();
  EXPECT_EQ((*auth)->valid_keys(), 2u);

  auto who = (*auth)->authenticate(bearer(admin));
  ASSERT_TRUE(who.ok()) << who.error().to_string();
  EXPECT_EQ(who->tenant, "acme");
  EXPECT_EQ(who->principal, std::optional<std::string>("bob"));
  EXPECT_TRUE(who->admin);
  auto own = (*auth)->authenticate(RequestMeta{"POST", "/", "", "bearer   " + owner});  // scheme case-insensitive
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->tenant, "default");
  EXPECT_FALSE(own->principal.has_value());
  EXPECT_FALSE(own->admin);

  std::string wrong = admin;
  wrong.back() = wrong.back() == '0' ? '1' : '0';  // same lookup prefix, wrong secret
  std::string unknown = "rk_" + std::string(64, 'a');
  auto refused = [&](const RequestMeta& m) {
    auto r = (*auth)->authenticate(m);
    EXPECT_FALSE(r.ok()) << m.authorization;
    return r.ok() ? std::string() : r.error().message;
  };
  const std::string m_wrong = refused(bearer(wrong));
  const std::string m_unknown = refused(bearer(unknown));
  const std::string m_malformed = refused(bearer("rk_123"));
  EXPECT_EQ(m_wrong, m_unknown) << "the message must not say whether the key's prefix exists";
  EXPECT_EQ(m_wrong, m_malformed);
  EXPECT_NE(refused(RequestMeta{"POST", "/", "", ""}).find("missing API key"), std::string::npos);
  refused(RequestMeta{"POST", "/", "", "Basic " + admin});
  refused(RequestMeta{"POST", "/", "", admin});

  // Revoked: refused at the next request (refresh 0), with the same message.
  auto store = Store::open(store_path());
  ASSERT_TRUE(store.ok());
  auto revoked = store->revoke_api_key(who.ok() ? 1 : 0);
  ASSERT_TRUE(revoked.ok() && *revoked);
  EXPECT_EQ(refused(bearer(admin)), m_wrong);
  EXPECT_TRUE((*auth)->authenticate(bearer(owner)).ok());
  EXPECT_EQ((*auth)->valid_keys(), 1u);
}

TEST_F(AuthTest, CachedKeysRefreshOnlyAfterTheInterval) {
  build({{"a", "default", "A", "alpha text", {}, "red"}}, {});
  auto auth = ApiKeyAuthenticator::open(store_path(), ApiKeyAuthOptions{std::chrono::hours(1)});
  ASSERT_TRUE(auth.ok());
  const std::string key = make_key("default", std::nullopt);
  EXPECT_FALSE((*auth)->authenticate(bearer(key)).ok()) << "a key made after the last read is not known yet";
  ASSERT_TRUE((*auth)->reload().ok());
  EXPECT_TRUE((*auth)->authenticate(bearer(key)).ok());
}

// ---- the server ----

class ServedTest : public AuthTest {
 protected:
  void SetUp() override {
    AuthTest::SetUp();
    build({{"volcano", "default", "Volcanoes", "Lava flows from the vent during an eruption of the volcano.", {}, "red"},
           {"bees", "default", "Honey bees", "Honey bees communicate with a waggle dance.", {}, "blue"},
           {"hr-lava", "default", "Lava incident report", "Lava flows from the vent near the office.", {"hr"}, "red"},
           {"acme-lava", "acme", "Acme volcano", "Lava flows from the vent at the acme site.", {}, "red"}},
          {{"alice", "default", {"staff"}}, {"hank", "default", {"hr"}}});
    alice_ = make_key("default", "alice");
    owner_ = make_key("default", std::nullopt);
    acme_ = make_key("acme", std::nullopt);
    start();
  }
  static std::set<std::string> ids(const json& list) {
    std::set<std::string> out;
    for (const auto& h : list) out.insert(h["doc_id"].get<std::string>());
    return out;
  }
  std::string alice_, owner_, acme_;
};

TEST_F(ServedTest, EveryRouteButHealthNeedsAValidKey) {
  const json search = {{"query", "lava"}};
  for (const std::string& key : {std::string(), std::string("rk_") + std::string(64, 'b'), std::string("nonsense")}) {
    for (const char* path : {"/v1/search", "/v1/ask", "/v1/chat/completions", "/v1/embeddings"}) {
      json r = post(path, search, key);
      EXPECT_EQ(r["http_status"], 401) << path << " " << r;
      EXPECT_EQ(r["error"]["type"], "authentication_error") << r;
      EXPECT_EQ(r["error"]["code"], "invalid_api_key") << r;
    }
  }
  httplib::Client cli("127.0.0.1", server_->port());
  auto health = cli.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto models = cli.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 401);
  EXPECT_EQ(get("/v1/documents/volcano", "").first, 401);
  EXPECT_EQ(get("/v1/documents/volcano", "rk_" + std::string(64, 'b')).first, 401);
  EXPECT_EQ(get("/v1/documents/volcano", owner_).first, 200);
  // The web page holds no data: no key needed to load it.
  for (const char* page : {"/", "/ui"}) {
    auto r = cli.Get(page);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << page;
  }
  EXPECT_EQ(post("/v1/search", search, owner_)["http_status"], 200);
}

TEST_F(ServedTest, MetricsNeedAnAdminKey) {
  auto get = [&](const std::string& key) {
    httplib::Client cli("127.0.0.1", server_->port());
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    auto r = cli.Get("/metrics", headers);
    return r ? r->status : 0;
  };
  EXPECT_EQ(get(""), 401);
  EXPECT_EQ(get(owner_), 403);  // a tenant's owner is not an admin
  EXPECT_EQ(get(make_key("default", std::nullopt, /*admin=*/true)), 200);
}

TEST_F(ServedTest, SearchRunsAsTheKeysIdentity) {
  json owner = post("/v1/search", {{"query", "lava vent"}, {"k", 10}}, owner_);
  ASSERT_EQ(owner["http_status"], 200) << owner;
  EXPECT_EQ(ids(owner["hits"]), (std::set<std::string>{"volcano", "hr-lava"}));
  EXPECT_TRUE(owner["took_ms"].is_number());
  const json& h = owner["hits"][0];
  for (const char* f : {"rank", "score", "doc_id", "title", "source", "chunk_id", "char_start", "char_end", "snippet"}) {
    EXPECT_TRUE(h.contains(f)) << f << " " << h;
  }
  EXPECT_EQ(h["rank"], 1);
  EXPECT_NE(h["snippet"].get<std::string>().find("**"), std::string::npos) << h;
  json alice = post("/v1/search", {{"query", "lava vent"}, {"k", 10}}, alice_);
  ASSERT_EQ(alice["http_status"], 200);
  EXPECT_EQ(ids(alice["hits"]), (std::set<std::string>{"volcano"}));
  json acme = post("/v1/search", {{"query", "lava vent"}}, acme_);
  EXPECT_EQ(ids(acme["hits"]), (std::set<std::string>{"acme-lava"}));
  json filtered = post("/v1/search", {{"query", "lava bees"}, {"filter", {{"color", "blue"}}}}, owner_);
  ASSERT_EQ(filtered["http_status"], 200);
  EXPECT_EQ(ids(filtered["hits"]), (std::set<std::string>{"bees"}));
  json k1 = post("/v1/search", {{"query", "lava vent"}, {"k", 1}}, owner_);
  EXPECT_EQ(k1["hits"].size(), 1u);
}

TEST_F(ServedTest, AskAnswersWithSourcesAsTheKeysIdentity) {
  json r = post("/v1/ask", {{"question", "What flows from the vent?"}}, alice_);
  ASSERT_EQ(r["http_status"], 200) << r;
  EXPECT_FALSE(r["abstained"].get<bool>()) << r;
  EXPECT_NE(r["answer"].get<std::string>().find("Lava flows"), std::string::npos) << r;
  EXPECT_EQ(ids(r["sources"]), (std::set<std::string>{"volcano"}));
  EXPECT_FALSE(r["sentences"][0]["citations"].empty());
  EXPECT_TRUE(r["generator"].get<std::string>().starts_with("extractive")) << r["generator"];
  // The same JSON as `ragft --json ask`: answer_json's fields, plus took_ms.
  for (const char* f : {"question", "answer", "abstained", "confidence", "sentences", "sources", "generator"}) {
    EXPECT_TRUE(r.contains(f)) << f;
  }
  const json& s = r["sources"][0];
  EXPECT_EQ(s["quote"], "Lava flows from the vent during an eruption of the volcano.");
  EXPECT_EQ(s["char_start"], 0);

  json llm = post("/v1/ask", {{"question", "What flows from the vent?"}, {"llm", true}}, owner_);
  ASSERT_EQ(llm["http_status"], 200) << llm;
  EXPECT_TRUE(llm["llm"]["called"].get<bool>()) << llm;
  EXPECT_EQ(ids(llm["sources"]), (std::set<std::string>{"volcano", "hr-lava"}));
}

TEST_F(ServedTest, BadRequestsNameTheirField) {
  struct Case {
    const char* path;
    json body;
    const char* param;
    const char* code;
  };
  const std::vector<Case> cases = {
      {"/v1/search", json::object(), "query", "missing_field"},
      {"/v1/search", {{"query", 5}}, "query", "invalid_type"},
      {"/v1/search", {{"query", "  "}}, "query", "invalid_value"},
      {"/v1/search", {{"query", "lava"}, {"k", 0}}, "k", "out_of_range"},
      {"/v1/search", {{"query", "lava"}, {"k", 51}}, "k", "out_of_range"},
      {"/v1/search", {{"query", "lava"}, {"k", "3"}}, "k", "invalid_type"},
      {"/v1/search", {{"query", "lava"}, {"mode", "magic"}}, "mode", "invalid_value"},
      {"/v1/search", {{"query", "lava"}, {"mode", "dense"}}, "mode", "invalid_request"},  // no dense index
      {"/v1/search", {{"query", "lava"}, {"filter", {{"color", 1}}}}, "filter.color", "invalid_type"},
      {"/v1/search", {{"query", "lava"}, {"filter", "red"}}, "filter", "invalid_type"},
      {"/v1/search", {{"query", "lava"}, {"colour", "red"}}, "colour", "unknown_field"},
      {"/v1/search", {{"query", "lava"}, {"tenant", "acme"}}, "tenant", "not_allowed"},
      {"/v1/search", {{"query", "lava"}, {"principal", "hank"}}, "principal", "not_allowed"},
      {"/v1/search", {{"query", "the of and"}}, "query", "invalid_request"},  // no searchable terms
      {"/v1/ask", {{"query", "lava"}}, "query", "unknown_field"},
      {"/v1/ask", json::object(), "question", "missing_field"},
      {"/v1/ask", {{"question", "lava"}, {"llm", "yes"}}, "llm", "invalid_type"},
      {"/v1/ask", {{"question", "lava"}, {"principal", "hank"}}, "principal", "not_allowed"},
      {"/v1/ask", {{"question", "lava"}, {"tenant", "acme"}}, "tenant", "not_allowed"},
  };
  for (const auto& c : cases) {
    json r = post(c.path, c.body, owner_);
    EXPECT_EQ(r["http_status"], 400) << c.path << " " << c.body << " -> " << r;
    EXPECT_EQ(r["error"]["param"], c.param) << c.path << " " << c.body << " -> " << r;
    EXPECT_EQ(r["error"]["code"], c.code) << c.path << " " << c.body << " -> " << r;
  }
  // Not JSON.
  httplib::Client cli("127.0.0.1", server_->port());
  auto raw = cli.Post("/v1/search", {{"Authorization", "Bearer " + owner_}}, "{nope", "application/json");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 400);
}

TEST_F(ServedTest, AskWithoutAModelForLlmIsRefused) {
  server_.reset();
  ServeComponents c;
  auto pool = WorkspacePool::open(ws_dir(), {});
  ASSERT_TRUE(pool.ok());
  c.workspaces = std::move(*pool);
  ServeOptions o;
  o.port = 0;
  auto made = Server::make(o, std::move(c));
  ASSERT_TRUE(made.ok());
  server_ = std::move(*made);
  ASSERT_TRUE(server_->start().ok());
  json r = post("/v1/ask", {{"question", "lava"}, {"llm", true}}, "");
  EXPECT_EQ(r["http_status"], 400) << r;
  EXPECT_EQ(r["error"]["param"], "llm");
  // Without keys every request runs as the default identity: the owner of tenant default.
  json s = post("/v1/search", {{"query", "lava vent"}}, "");
  ASSERT_EQ(s["http_status"], 200) << s;
  EXPECT_EQ(ids(s["hits"]), (std::set<std::string>{"volcano", "hr-lava"}));
}

// ---- the property: nothing unreadable ever leaves the server ----

TEST_F(AuthTest, NoResponseEverCarriesADocumentTheKeyMayNotRead) {
  std::mt19937 rng(20240607);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const std::vector<std::string> tenants = {"default", "t1", "t2"};
  const std::vector<std::string> groups = {"g0", "g1", "g2", "g3", "g4"};
  const std::vector<std::string> words = {"granite", "harbor", "lantern", "meadow", "quartz", "saddle", "timber", "walnut"};
  const std::vector<std::string> colors = {"red", "blue"};

  // Principals: the same names in every tenant, with different random groups.
  std::vector<Principal> principals;
  for (const auto& t : tenants) {
    for (int i = 0; i < 3; ++i) {
      Principal p{"p" + std::to_string(i), t, {}};
      for (const auto& g : groups) {
        if (rng() % 3 == 0) p.groups.push_back(g);
      }
      principals.push_back(std::move(p));
    }
  }
  // Documents: each holds "common", its marker (in text and title) and random words.
  std::vector<Doc> docs;
  std::vector<std::set<std::string>> doc_words;
  for (int i = 0; i < 45; ++i) {
    Doc d;
    d.id = "d" + std::to_string(i);
    d.tenant = tenants[pick(tenants.size())];
    const std::string m = marker(static_cast<std::size_t>(i));
    d.title = "Report " + m;
    std::set<std::string> ws;
    d.text = "The common record " + m + " mentions";
    for (int w = 0; w < 3; ++w) {
      const std::string& word = words[pick(words.size())];
      ws.insert(word);
      d.text += " " + word;
    }
    d.text += ".";
    if (rng() % 4 != 0) {  // a quarter are tenant-wide
      for (const auto& g : groups) {
        if (rng() % 4 == 0) d.acl.push_back(g);
      }
      if (d.acl.empty()) d.acl.push_back("nobody");  // a group no principal has
    }
    d.color = colors[pick(colors.size())];
    docs.push_back(std::move(d));
    doc_words.push_back(std::move(ws));
  }
  build(docs, principals);

  struct KeyOf {
    std::string key, tenant;
    std::optional<std::string> principal;
    std::set<std::string> groups;
  };
  std::vector<KeyOf> keys;
  for (const auto& p : principals) {
    keys.push_back({make_key(p.tenant, p.name), p.tenant, p.name, {p.groups.begin(), p.groups.end()}});
  }
  for (const auto& t : tenants) keys.push_back({make_key(t, std::nullopt), t, std::nullopt, {}});
  start();

  auto readable = [&](const KeyOf& k, const Doc& d) {
    if (d.tenant != k.tenant) return false;
    if (!k.principal || d.acl.empty()) return true;
    for (const auto& g : d.acl) {
      if (k.groups.count(g)) return true;
    }
    return false;
  };
  // Every marker of a document `k` may not read, found in `text`.
  auto leaks = [&](const KeyOf& k, const std::string& text) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < docs.size(); ++i) {
      if (!readable(k, docs[i]) && text.find(marker(i)) != std::string::npos) out.push_back(docs[i].id);
    }
    return out;
  };
  // The response without the echoed query (which may name a marker on purpose).
  auto scrubbed = [](json j) {
    j.erase("query");
    j.erase("question");
    return j.dump();
  };

  int searches = 0, nonempty = 0, unreadable_probes = 0, documents_read = 0, documents_refused = 0;
  for (int round = 0; round < 60; ++round) {
    const KeyOf& k = keys[pick(keys.size())];
    // A query: "common" (every document matches), one word, or another document's marker.
    std::string query;
    std::function<bool(std::size_t)> matches;
    switch (rng() % 3) {
      case 0:
        query = "common";
        matches = [](std::size_t) { return true; };
        break;
      case 1: {
        const std::string w = words[pick(words.size())];
        query = w;
        matches = [&, w](std::size_t i) { return doc_words[i].count(w) > 0; };
        break;
      }
      default: {
        const std::size_t target = pick(docs.size());
        query = marker(target);
        matches = [target](std::size_t i) { return i == target; };
        if (!readable(k, docs[target])) ++unreadable_probes;
      }
    }
    std::optional<std::string> color;
    if (rng() % 3 == 0) color = colors[pick(colors.size())];
    std::set<std::string> expected;  // readable, matching documents
    for (std::size_t i = 0; i < docs.size(); ++i) {
      if (readable(k, docs[i]) && matches(i) && (!color || docs[i].color == *color)) expected.insert(docs[i].id);
    }
    json filter = json::object();
    if (color) filter["color"] = *color;
    const std::string who = k.tenant + "/" + k.principal.value_or("owner") + " query=" + query;

    // Search with k large enough: exactly the readable matching set. With a random k: a prefix.
    json all = post("/v1/search", {{"query", query}, {"k", 50}, {"filter", filter}}, k.key);
    ASSERT_EQ(all["http_status"], 200) << who << " " << all;
    std::set<std::string> got;
    for (const auto& h : all["hits"]) got.insert(h["doc_id"].get<std::string>());
    EXPECT_EQ(got, expected) << who;
    EXPECT_EQ(all["hits"].size(), expected.size()) << who << " (one chunk per document)";
    EXPECT_TRUE(leaks(k, scrubbed(all)).empty()) << who << " " << all;
    ++searches;
    if (!expected.empty()) ++nonempty;
    const std::size_t small_k = 1 + pick(5);
    json some = post("/v1/search", {{"query", query}, {"k", small_k}, {"filter", filter}}, k.key);
    ASSERT_EQ(some["http_status"], 200) << who;
    EXPECT_EQ(some["hits"].size(), std::min(small_k, expected.size())) << who;
    for (const auto& h : some["hits"]) EXPECT_TRUE(expected.count(h["doc_id"].get<std::string>())) << who << " " << h;
    EXPECT_TRUE(leaks(k, scrubbed(some)).empty()) << who;

    // Ask, extractive and with the model: sources only from the readable matching set.
    const std::string question = "Which record mentions " + query + "?";
    for (bool llm : {false, true}) {
      json a = post("/v1/ask", {{"question", question}, {"k", 50}, {"filter", filter}, {"llm", llm}}, k.key);
      ASSERT_EQ(a["http_status"], 200) << who << " " << a;
      for (const auto& s : a["sources"]) {
        EXPECT_TRUE(readable(k, docs[std::stoul(s["doc_id"].get<std::string>().substr(1))])) << who << " " << s;
      }
      EXPECT_TRUE(leaks(k, scrubbed(a)).empty()) << who << " llm=" << llm << " " << a;
    }

    // RAG chat: the extension's sources, citations and count, and the prompt the model saw.
    const std::size_t prompts_before = model_->prompts().size();
    json chat_body = {{"model", "m"},
                      {"messages", {{{"role", "user"}, {"content", question}}}},
                      {"ragft", {{"rag", true}, {"k", 50}, {"filter", filter}}}};
    json c = post("/v1/chat/completions", chat_body, k.key);
    ASSERT_EQ(c["http_status"], 200) << who << " " << c;
    EXPECT_LE(c["ragft"]["retrieved"].get<std::size_t>(), 50u);
    for (const char* list : {"sources", "citations"}) {
      for (const auto& s : c["ragft"][list]) {
        EXPECT_TRUE(readable(k, docs[std::stoul(s["doc_id"].get<std::string>().substr(1))])) << who << " " << s;
      }
    }
    EXPECT_TRUE(leaks(k, c.dump()).empty()) << who << " " << c;

    // The document route: a readable document whole; an unreadable one exactly as a missing one.
    {
      auto normalized = [](std::string body, const std::string& id) {
        const std::string quoted = "'" + id + "'";
        for (std::size_t at; (at = body.find(quoted)) != std::string::npos;) body.replace(at, quoted.size(), "'ID'");
        return body;
      };
      const auto [missing_status, missing] = get("/v1/documents/d999", k.key);
      ASSERT_EQ(missing_status, 404) << who << " " << missing;
      const Doc& d = docs[pick(docs.size())];
      const auto [status, body] = get("/v1/documents/" + d.id, k.key);
      if (readable(k, d)) {
        ASSERT_EQ(status, 200) << who << " " << d.id << " " << body;
        const json j = json::parse(body);
        EXPECT_EQ(j["id"], d.id);
        EXPECT_EQ(j["title"], d.title);
        EXPECT_EQ(j["text"], d.text);
        ++documents_read;
      } else {
        EXPECT_EQ(status, 404) << who << " " << d.id;
        EXPECT_EQ(normalized(body, d.id), normalized(missing, "d999")) << who << " " << d.id;
        ++documents_refused;
      }
      EXPECT_TRUE(leaks(k, body).empty()) << who << " " << body;
    }
    const auto prompts = model_->prompts();
    for (std::size_t i = prompts_before; i < prompts.size(); ++i) {
      // The prompt holds the question (which may name a marker): check the sources part only.
      std::string p = prompts[i];
      for (std::size_t at; (at = p.find(question)) != std::string::npos;) p.erase(at, question.size());
      EXPECT_TRUE(leaks(k, p).empty()) << who << " reached the model: " << p;
    }
  }
  // The run exercised what it claims to.
  EXPECT_EQ(searches, 60);
  EXPECT_GT(nonempty, 20);
  EXPECT_GT(unreadable_probes, 3);
  EXPECT_GT(documents_read, 5);
  EXPECT_GT(documents_refused, 5);
}

}  // namespace
}  // namespace ragft::serve
