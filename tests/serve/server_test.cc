// The server end to end on loopback, driven by ragft's own OpenAI clients (generate/openai_chat.h,
// embed/openai_embedder.h) and by raw HTTP for what those clients never send: a deterministic
// fake chat model, a real SIF embedder trained here, and a small workspace built here for RAG.
#include "serve/server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/utf8.h"
#include "embed/openai_embedder.h"
#include "generate/openai_chat.h"
#include "serve/embeddings_api.h"
#include "serve/metrics.h"
#include "serve/serve_test_util.h"
#include "train/embedders.h"

namespace ragft::serve {
namespace {

using nlohmann::json;

std::vector<std::string> words_of(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// A deterministic model: answers "echo: <last message>" (or `rag_reply` when the prompt holds
// numbered sources), one word per delta; honours max_tokens (in words: finish "length") and stop
// sequences; reports usage in words; JSON mode -> kUnsupported, as the local engine does; a
// message "FAIL" -> kIo. Records the requests it saw. `delay` is slept before each delta.
class FakeModel final : public ChatModel {
 public:
  std::string config() const override { return "fake:"; }
  Result<ChatResponse> complete(const ChatRequest& request) const override { return run(request, nullptr); }
  Result<ChatResponse> stream(const ChatRequest& request, const ChatDeltaFn& on_delta) const override {
    return run(request, &on_delta);
  }
  std::vector<ChatRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::string rag_reply = "Lava flows from the vent during an eruption [1].";
  std::chrono::milliseconds delay{0};
  mutable std::atomic<int> cancelled{0};  // streams whose on_delta returned false

 private:
  Result<ChatResponse> run(const ChatRequest& request, const ChatDeltaFn* on_delta) const {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    if (request.json || !request.json_schema.empty()) {
      return make_error(ErrorCode::kUnsupported, "JSON mode is not supported by the fake engine");
    }
    const std::string& last = request.messages.back().content;
    if (last == "FAIL") return make_error(ErrorCode::kIo, "the fake backend is down");
    std::string text = last.find("Sources") != std::string::npos || last.find("[1]") != std::string::npos
                           ? rag_reply
                           : "echo: " + last;
    ChatResponse r;
    r.finish_reason = "stop";
    std::vector<std::string> w = words_of(text);
    if (request.max_tokens > 0 && w.size() > static_cast<std::size_t>(request.max_tokens)) {
      w.resize(static_cast<std::size_t>(request.max_tokens));
      r.finish_reason = "length";
    }
    text.clear();
    for (std::size_t i = 0; i < w.size(); ++i) text += (i ? " " : "") + w[i];
    for (const auto& s : request.stop) {
      if (auto at = text.find(s); at != std::string::npos) {
        text.resize(at);
        r.finish_reason = "stop";
      }
    }
    std::int64_t prompt = 0;
    for (const auto& m : request.messages) prompt += static_cast<std::int64_t>(words_of(m.content).size());
    const auto completion = static_cast<std::int64_t>(words_of(text).size());
    r.usage = ChatUsage{prompt, completion, prompt + completion};
    r.model = "fake";
    r.text = text;
    if (on_delta) {
      // Word by word, each with its leading space, so the deltas concatenate to the text.
      std::size_t at = 0;
      while (at < text.size()) {
        std::size_t next = text.find(' ', at + 1);
        if (next == std::string::npos) next = text.size();
        std::this_thread::sleep_for(delay);
        if (!(*on_delta)(std::string_view(text).substr(at, next - at))) {
          ++cancelled;
          return make_error(ErrorCode::kCancelled, "cancelled");
        }
        at = next;
      }
    }
    return r;
  }
  mutable std::mutex mu_;
  mutable std::vector<ChatRequest> requests_;
};

using Doc = testing::TestDoc;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::temp_dir(); }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A workspace of one-chunk documents.
  void build_workspace(const std::vector<Doc>& docs) {
    auto ws = Workspace::open(dir_ / "ws");
    ASSERT_TRUE(ws.ok()) << ws.error().to_string();
    ASSERT_TRUE(testing::put_docs(ws->store(), docs).ok());
    ASSERT_TRUE(ws->store().put_principal(Principal{"alice", "default", {"staff"}}).ok());
    ASSERT_TRUE(ws->catch_up().ok());
  }

  void start(ServeOptions o = {}, ServeComponents c = {}) {
    o.port = 0;
    o.keep_alive_timeout_s = 1;
    if (!c.chat) c.chat = model_;
    auto made = Server::make(o, std::move(c));
    ASSERT_TRUE(made.ok()) << made.error().to_string();
    server_ = std::move(*made);
    ASSERT_TRUE(server_->start().ok());
    ASSERT_GT(server_->port(), 0);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/v1"; }
  std::unique_ptr<ChatModel> client() const {
    auto c = make_openai_chat("openai:url=" + url() + ",model=fake-model,key_env=,retries=0,timeout_ms=20000");
    RAGFT_CHECK(c.ok());
    return std::move(*c);
  }
  httplib::Result post(const std::string& path, const std::string& body) const {
    httplib::Client cli("127.0.0.1", server_->port());
    cli.set_read_timeout(20, 0);
    return cli.Post(path.c_str(), body, "application/json");
  }
  // The error object of a non-2xx JSON reply.
  static json error_of(const httplib::Result& r) {
    if (!r) return json();
    auto j = json::parse(r->body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"] : json();
  }

  std::filesystem::path dir_;
  std::shared_ptr<FakeModel> model_ = std::make_shared<FakeModel>();
  std::unique_ptr<Server> server_;
};

ChatRequest ask(const std::string& text) {
  ChatRequest r;
  r.messages = {{ChatRole::kSystem, "be terse"}, {ChatRole::kUser, text}};
  return r;
}

TEST_F(ServerTest, PlainCompletionThroughTheOpenAiClient) {
  start();
  auto chat = client();
  ChatRequest r = ask("hello there world");
  r.temperature = 0.25;
  r.top_p = 0.5;
  r.seed = 42;
  auto resp = chat->complete(r);
  ASSERT_TRUE(resp.ok()) << resp.error().to_string();
  EXPECT_EQ(resp->text, "echo: hello there world");
  EXPECT_EQ(resp->finish_reason, "stop");
  EXPECT_EQ(resp->model, "fake-model");  // the request's model is echoed
  ASSERT_TRUE(resp->usage);
  EXPECT_EQ(resp->usage->prompt_tokens, 5);  // "be terse" + "hello there world"
  EXPECT_EQ(resp->usage->completion_tokens, 4);
  EXPECT_EQ(resp->usage->total_tokens, 9);
  auto seen = model_->requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].messages.size(), 2u);
  EXPECT_EQ(seen[0].messages[0].role, ChatRole::kSystem);
  EXPECT_EQ(seen[0].temperature, 0.25);
  EXPECT_EQ(seen[0].top_p, 0.5);
  EXPECT_EQ(seen[0].seed, 42);
  EXPECT_EQ(seen[0].max_tokens, ServeLimits{}.max_tokens);  // none given: the server's bound
}

TEST_F(ServerTest, StreamingDeliversEveryDeltaThenUsage) {
  start();
  auto chat = client();
  std::vector<std::string> deltas;
  auto resp = chat->stream(ask("one two three four"), [&](std::string_view d) {
    deltas.emplace_back(d);
    return true;
  });
  ASSERT_TRUE(resp.ok()) << resp.error().to_string();
  EXPECT_TRUE(resp->streamed);
  EXPECT_EQ(resp->text, "echo: one two three four");
  ASSERT_EQ(deltas.size(), 5u);
  EXPECT_EQ(deltas[0], "echo:");
  EXPECT_EQ(deltas[1], " one");
  EXPECT_EQ(resp->finish_reason, "stop");
  ASSERT_TRUE(resp->usage);  // the client asks for include_usage
  EXPECT_EQ(resp->usage->completion_tokens, 5);
  EXPECT_EQ(resp->model, "fake-model");

  // The raw event stream: a role chunk first, [DONE] last.
  auto raw = post("/v1/chat/completions",
                  R"({"model":"m","stream":true,"messages":[{"role":"user","content":"a b"}]})");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 200);
  EXPECT_NE(raw->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  EXPECT_NE(raw->body.find(R"("delta":{"content":"","role":"assistant"})"), std::string::npos) << raw->body;
  EXPECT_TRUE(raw->body.ends_with("data: [DONE]\n\n")) << raw->body;
  EXPECT_EQ(raw->body.find("\"usage\""), std::string::npos);  // not asked for
}

TEST_F(ServerTest, StopAndMaxTokensReachTheModel) {
  start();
  auto chat = client();
  ChatRequest r = ask("alpha beta gamma delta");
  r.stop = {"gamma", "zeta"};
  auto resp = chat->complete(r);
  ASSERT_TRUE(resp.ok()) << resp.error().to_string();
  EXPECT_EQ(resp->text, "echo: alpha beta ");
  EXPECT_EQ(model_->requests().back().stop, (std::vector<std::string>{"gamma", "zeta"}));

  ChatRequest m = ask("alpha beta gamma delta");
  m.max_tokens = 2;
  std::string streamed;
  auto s = chat->stream(m, [&](std::string_view d) {
    streamed += d;
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(streamed, "echo: alpha");
  EXPECT_EQ(s->finish_reason, "length");
  EXPECT_EQ(model_->requests().back().max_tokens, 2);

  // Over the server's bound: a 400 the client reports as kInvalidArgument naming the field.
  m.max_tokens = ServeLimits{}.max_tokens + 1;
  auto over = chat->complete(m);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(over.error().message.find("max_tokens"), std::string::npos) << over.error().message;
}

TEST_F(ServerTest, ErrorsMapToTheClientsCodes) {
  start();
  auto chat = client();
  // JSON mode on an engine without it: 400, streamed or not (the stream fails before any text).
  ChatRequest j = ask("give JSON");
  j.json = true;
  auto a = chat->complete(j);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(a.error().message.find("JSON mode is not supported"), std::string::npos) << a.error().message;
  auto b = chat->stream(j, [](std::string_view) { return true; });
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ErrorCode::kInvalidArgument);
  auto raw = post("/v1/chat/completions",
                  R"({"stream":true,"response_format":{"type":"json_object"},"messages":[{"role":"user","content":"x"}]})");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 400);
  EXPECT_EQ(error_of(raw)["code"], "unsupported");

  // The backend fails: 502, which the client (retries=0) reports as kIo.
  auto c = chat->complete(ask("FAIL"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kIo);
  EXPECT_NE(c.error().message.find("fake backend is down"), std::string::npos) << c.error().message;

  // An unknown route: 404 -> kNotFound.
  auto wrong = make_openai_chat("openai:url=http://127.0.0.1:" + std::to_string(server_->port()) +
                                "/v2,model=m,key_env=,retries=0");
  ASSERT_TRUE(wrong.ok());
  auto d = (*wrong)->complete(ask("x"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kNotFound);
  auto nf = post("/v2/chat/completions", "{}");
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  EXPECT_EQ(error_of(nf)["code"], "unknown_route");
}

TEST_F(ServerTest, MalformedRequestsGetFourHundredsNamingTheField) {
  ServeOptions o;
  o.max_body_bytes = 64 * 1024;
  start(o);
  struct Case {
    std::string body;
    int status;
    std::string param;  // "" -> null
    std::string code;
  };
  const std::vector<Case> cases = {
      {"{\"messages\": [", 400, "", "invalid_json"},
      {R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})", 400, "temperature", "invalid_type"},
      {R"({"messages":[{"role":5,"content":"x"}]})", 400, "messages[0].role", "invalid_type"},
      {R"({"messages":"hi"})", 400, "messages", "invalid_type"},
      {R"({"messages":[{"role":"user","content":"x"}],"stop":[1]})", 400, "stop[0]", "invalid_type"},
      {R"({"messages":[{"role":"user","content":"x"}],"ragft":{"rag":true,"k":"five"}})", 400, "ragft.k", "invalid_type"},
      {R"({"messages":[{"role":"user","content":"x"}],"ragft":{"rag":true,"tenant":"acme"}})", 400, "ragft.tenant", "not_allowed"},
  };
  for (const Case& c : cases) {
    auto r = post("/v1/chat/completions", c.body);
    ASSERT_TRUE(r) << c.body;
    EXPECT_EQ(r->status, c.status) << c.body << " -> " << r->body;
    EXPECT_NE(r->get_header_value("Content-Type").find("application/json"), std::string::npos);
    json e = error_of(r);
    ASSERT_TRUE(e.is_object()) << r->body;
    EXPECT_EQ(e["type"], "invalid_request_error") << r->body;
    if (c.param.empty()) {
      EXPECT_TRUE(e["param"].is_null()) << r->body;
    } else {
      EXPECT_EQ(e["param"], c.param) << r->body;
    }
    EXPECT_EQ(e["code"], c.code) << r->body;
  }
  // A body over --max-body: 413 in the same shape, and the server keeps serving.
  const std::string big = R"({"messages":[{"role":"user","content":")" + std::string(100 * 1024, 'x') + "\"}]}";
  auto r = post("/v1/chat/completions", big);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(error_of(r)["code"], "body_too_large") << r->body;
  auto after = client()->complete(ask("still there"));
  ASSERT_TRUE(after.ok()) << after.error().to_string();
  EXPECT_TRUE(model_->requests().size() == 1u);  // none of the bad requests reached the model
}

TEST_F(ServerTest, HealthModelsAndMissingComponents) {
  start();
  httplib::Client cli("127.0.0.1", server_->port());
  auto h = cli.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  json hj = json::parse(h->body);
  EXPECT_EQ(hj["status"], "ok");
  EXPECT_TRUE(hj["chat"].get<bool>());
  EXPECT_FALSE(hj["embeddings"].get<bool>());
  EXPECT_FALSE(hj["workspace"].get<bool>());
  auto m = cli.Get("/v1/models");
  ASSERT_TRUE(m);
  json mj = json::parse(m->body);
  EXPECT_EQ(mj["object"], "list");
  ASSERT_EQ(mj["data"].size(), 1u);
  EXPECT_EQ(mj["data"][0]["id"], "ragft");
  EXPECT_EQ(mj["data"][0]["ragft"]["config"], "fake:");
  // No embedder, no workspace: clear 400s.
  auto e = post("/v1/embeddings", R"({"input":"x"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 400);
  EXPECT_EQ(error_of(e)["code"], "no_model");
  auto rag = post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"ragft":{"rag":true}})");
  ASSERT_TRUE(rag);
  EXPECT_EQ(rag->status, 400);
  EXPECT_EQ(error_of(rag)["code"], "no_workspace");
}

// The value of the sample line starting with `series` (exactly, up to the value), or -1.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

TEST_F(ServerTest, MetricsCountRequestsByRouteAndStatusClass) {
  start();
  auto c = client();
  ChatRequest r;
  r.messages = {{ChatRole::kUser, "hello"}};
  ASSERT_TRUE(c->complete(r).ok());
  ASSERT_TRUE(c->complete(r).ok());
  auto bad = post("/v1/chat/completions", R"({"messages": "hi"})");
  ASSERT_TRUE(bad);
  ASSERT_EQ(bad->status, 400);
  httplib::Client cli("127.0.0.1", server_->port());
  ASSERT_TRUE(cli.Get("/health"));
  auto m = cli.Get("/metrics");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200);
  EXPECT_NE(m->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  const std::string& t = m->body;
  const std::string chat = R"(method="POST",route="/v1/chat/completions")";
  EXPECT_EQ(sample(t, "ragft_http_requests_total{" + chat + R"(,code="2xx"})"), 2) << t;
  EXPECT_EQ(sample(t, "ragft_http_requests_total{" + chat + R"(,code="4xx"})"), 1) << t;
  EXPECT_EQ(sample(t, R"(ragft_http_requests_total{method="GET",route="/health",code="2xx"})"), 1) << t;
  // Every route appears, even unused; the histogram's buckets are cumulative up to the count.
  EXPECT_EQ(sample(t, R"(ragft_http_requests_total{method="POST",route="/v1/ask",code="2xx"})"), 0) << t;
  EXPECT_EQ(sample(t, "ragft_http_request_duration_seconds_count{" + chat + "}"), 3) << t;
  EXPECT_EQ(sample(t, "ragft_http_request_duration_seconds_bucket{" + chat + R"(,le="+Inf"})"), 3) << t;
  double previous = 0;
  for (double le : ServeMetrics::kBuckets) {
    double v = sample(t, "ragft_http_request_duration_seconds_bucket{" + chat + ",le=\"" + fmt::format("{}", le) + "\"}");
    ASSERT_GE(v, previous) << le << "\n" << t;
    previous = v;
  }
  EXPECT_GE(sample(t, "ragft_http_request_duration_seconds_sum{" + chat + "}"), 0) << t;
  // The scrape itself is in flight while it renders.
  EXPECT_EQ(sample(t, "ragft_http_requests_in_flight"), 1) << t;
  EXPECT_GE(sample(t, "ragft_process_uptime_seconds"), 0) << t;
}

TEST_F(ServerTest, OpenApiDescribesExactlyTheServersRoutes) {
  start();
  httplib::Client cli("127.0.0.1", server_->port());
  auto r = cli.Get("/openapi.json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  json doc = json::parse(r->body);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  std::set<std::pair<std::string, std::string>> described, served;
  for (auto& [path, ops] : doc["paths"].items()) {
    for (auto& [method, op] : ops.items()) {
      std::string m = method;
      for (char& ch : m) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      described.emplace(m, path);
      EXPECT_TRUE(op.contains("responses")) << path;
      if (op.contains("requestBody")) {
        // Every $ref resolves.
        const std::string target = op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
        const std::string name = target.substr(target.rfind('/') + 1);
        EXPECT_TRUE(doc["components"]["schemas"].contains(name)) << target;
      }
    }
  }
  for (const auto& route : Server::routes()) served.insert(route);
  EXPECT_EQ(described, served);
  // Limits come from this server's options.
  EXPECT_EQ(doc["components"]["schemas"]["SearchRequest"]["properties"]["k"]["maximum"], ServeLimits{}.max_k);
  // Each described route answers something other than "no such route" (a route with a path
  // parameter may answer 404 for "{id}", but not as an unknown route).
  for (const auto& [method, path] : described) {
    auto res = method == "GET"      ? cli.Get(path)
               : method == "DELETE" ? cli.Delete(path)
                                    : cli.Post(path, "{}", "application/json");
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->body.find("unknown_route"), std::string::npos) << method << " " << path << " " << res->body;
    if (path.find('{') == std::string::npos) {
      EXPECT_NE(res->status, 404) << method << " " << path << " " << res->body;
    }
  }
}

TEST_F(ServerTest, EmbeddingsEqualTheEmbeddersOwnVectors) {
  const std::vector<std::string> corpus = {
      "honey bees communicate with a waggle dance", "lava flows from the vent during an eruption",
      "the volcano erupted and lava covered the village", "bees collect nectar from flowers",
      "magma rises through the crust of a planet", "flowers attract bees with colour and scent"};
  EmbedderContext ctx;
  ctx.model_dir = dir_ / "models";
  ctx.training_texts = [&]() -> Result<std::vector<std::string>> { return corpus; };
  auto made = make_embedder("sif:dim=16,epochs=2,mincount=1,bucket=2000,threads=1", ctx);
  ASSERT_TRUE(made.ok()) << made.error().to_string();
  std::shared_ptr<Embedder> embedder = std::move(*made);
  ServeComponents c;
  c.embedder = embedder;
  start({}, std::move(c));

  const std::vector<std::string> texts = {"bees and flowers", "lava from a volcano", "a waggle dance"};
  std::vector<float> want;
  ASSERT_TRUE(embedder->embed(texts, EmbedRole::kDocument, want).ok());
  auto remote = make_openai_embedder("openai:url=" + url() + ",model=ragft-embed,key_env=,retries=0,batch=2");
  ASSERT_TRUE(remote.ok()) << remote.error().to_string();
  std::vector<float> got;
  Status s = (*remote)->embed(texts, EmbedRole::kDocument, got);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ((*remote)->dim(), 16);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << i;

  // base64 carries the same floats bit for bit; token ids are refused.
  auto raw = post("/v1/embeddings", R"({"input":["bees and flowers"],"encoding_format":"base64"})");
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->status, 200) << raw->body;
  json j = json::parse(raw->body);
  EXPECT_EQ(j["model"], "ragft-embed");
  EXPECT_EQ(j["data"][0]["embedding"].get<std::string>(),
            base64_encode(std::string_view(reinterpret_cast<const char*>(want.data()), 16 * sizeof(float))));
  EXPECT_EQ(j["usage"]["prompt_tokens"], 3);
  auto tokens = post("/v1/embeddings", R"({"input":[[1,2,3]]})");
  ASSERT_TRUE(tokens);
  EXPECT_EQ(tokens->status, 400);
  EXPECT_EQ(error_of(tokens)["code"], "unsupported");
  auto dims = post("/v1/embeddings", R"({"input":"x","dimensions":8})");
  ASSERT_TRUE(dims);
  EXPECT_EQ(dims->status, 400);
  EXPECT_EQ(error_of(dims)["param"], "dimensions");
}

class RagTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    build_workspace({
        {"volcano", "default", "Volcanoes", "Lava flows from the vent during an eruption of the volcano.", {}, R"({"topic":"geo"})"},
        {"bees", "default", "Honey bees", "Honey bees communicate the location of flowers with a waggle dance.", {}, R"({"topic":"bio"})"},
        {"hr-lava", "default", "Lava incident report", "Lava flows from the vent during an eruption near the office.", {"hr"}, "{}"},
        {"acme-lava", "acme", "Acme volcano", "Lava flows from the vent during an eruption at the acme site.", {}, "{}"},
    });
  }
  void start_rag(Identity identity = {}, ServeOptions o = {}) {
    ServeComponents c;
    auto pool = WorkspacePool::open(dir_ / "ws", {});
    ASSERT_TRUE(pool.ok()) << pool.error().to_string();
    c.workspaces = std::move(*pool);
    c.identity = std::move(identity);
    start(o, std::move(c));
  }
  json rag(const std::string& question, const json& ext = json{{"rag", true}}, bool stream = false) {
    json body = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", question}}}}, {"ragft", ext}};
    if (stream) body["stream"] = true;
    auto r = post("/v1/chat/completions", body.dump());
    if (!r) return json();
    if (stream) return json{{"status", r->status}, {"body", r->body}};
    auto j = json::parse(r->body, nullptr, false);
    j["http_status"] = r->status;
    return j;
  }
  // Every citation names a stored chunk of the named document, at the offsets the store has.
  void expect_real_chunks(const json& citations) {
    auto store = Store::open(dir_ / "ws" / "store.db");
    ASSERT_TRUE(store.ok());
    for (const auto& c : citations) {
      auto chunk = store->get_chunk(c["chunk_id"].get<ChunkId>());
      ASSERT_TRUE(chunk.ok() && chunk->has_value()) << c;
      auto doc = store->get((*chunk)->doc_id);
      ASSERT_TRUE(doc.ok() && doc->has_value());
      EXPECT_EQ((*doc)->ext_id, c["doc_id"]) << c;
      EXPECT_EQ((*doc)->title, c["title"]) << c;
      EXPECT_EQ((*chunk)->char_start, c["char_start"].get<std::int64_t>());
      EXPECT_EQ((*chunk)->char_end, c["char_end"].get<std::int64_t>());
      EXPECT_EQ((*chunk)->text, c["quote"]);
    }
  }
  static std::set<std::string> doc_ids(const json& list) {
    std::set<std::string> out;
    for (const auto& c : list) out.insert(c["doc_id"].get<std::string>());
    return out;
  }
};

TEST_F(RagTest, AnswersWithCitationsOfRealChunksAndNeverAnotherTenants) {
  start_rag();  // the default identity: tenant "default", the workspace's owner
  json r = rag("What flows from the vent during an eruption?");
  ASSERT_EQ(r["http_status"], 200) << r;
  EXPECT_EQ(r["object"], "chat.completion");
  const std::string content = r["choices"][0]["message"]["content"];
  EXPECT_NE(content.find("Lava flows from the vent"), std::string::npos) << content;
  const json& x = r["ragft"];
  EXPECT_FALSE(x["abstained"].get<bool>()) << x;
  EXPECT_TRUE(x["called_model"].get<bool>());
  ASSERT_EQ(x["citations"].size(), 1u) << x;
  EXPECT_EQ(x["citations"][0]["n"], 1);
  expect_real_chunks(x["citations"]);
  expect_real_chunks(x["sources"]);
  // The owner sees both lava documents of its tenant, never the other tenant's.
  const auto sources = doc_ids(x["sources"]);
  EXPECT_TRUE(sources.count("volcano")) << x["sources"];
  EXPECT_TRUE(sources.count("hr-lava")) << x["sources"];
  EXPECT_FALSE(sources.count("acme-lava")) << x["sources"];
  EXPECT_EQ(r["usage"]["total_tokens"].get<int>(), r["usage"]["prompt_tokens"].get<int>() + r["usage"]["completion_tokens"].get<int>());
  // The prompt the model saw holds the numbered sources and the question.
  const std::string prompt = model_->requests().back().messages.back().content;
  EXPECT_NE(prompt.find("What flows from the vent"), std::string::npos) << prompt;
  EXPECT_EQ(prompt.find("acme site"), std::string::npos) << prompt;

  // k and a metadata filter narrow what is retrieved.
  json narrowed = rag("What flows from the vent during an eruption?",
                      {{"rag", true}, {"k", 1}, {"filter", {{"topic", "geo"}}}});
  ASSERT_EQ(narrowed["http_status"], 200) << narrowed;
  ASSERT_EQ(narrowed["ragft"]["sources"].size(), 1u);
  EXPECT_EQ(narrowed["ragft"]["sources"][0]["doc_id"], "volcano");

  // Nothing relevant: abstains without calling the model, with zero usage.
  const std::size_t calls = model_->requests().size();
  json none = rag("Who won the chess olympiad in 1994?");
  ASSERT_EQ(none["http_status"], 200) << none;
  EXPECT_TRUE(none["ragft"]["abstained"].get<bool>());
  EXPECT_TRUE(none["ragft"]["citations"].empty());
  EXPECT_EQ(none["usage"]["total_tokens"], 0);
  EXPECT_EQ(model_->requests().size(), calls);
}

TEST_F(RagTest, APrincipalNeverSeesDocumentsItsGroupsMayNotRead) {
  start_rag(Identity{"default", "alice", false, ""});  // groups: staff; "hr-lava" admits only hr
  for (int k : {1, 5, 50}) {
    json r = rag("What flows from the vent during an eruption near the office?", {{"rag", true}, {"k", k}});
    ASSERT_EQ(r["http_status"], 200) << r;
    EXPECT_FALSE(doc_ids(r["ragft"]["sources"]).count("hr-lava")) << r["ragft"]["sources"];
    EXPECT_FALSE(doc_ids(r["ragft"]["citations"]).count("hr-lava"));
    EXPECT_FALSE(doc_ids(r["ragft"]["sources"]).count("acme-lava"));
  }
  for (const auto& req : model_->requests()) {
    EXPECT_EQ(req.messages.back().content.find("near the office."), std::string::npos)
        << "the hr document's text reached the model";
  }
  // Asking for another identity is refused, not honoured.
  json widened = rag("lava", {{"rag", true}, {"principal", "root"}});
  EXPECT_EQ(widened["http_status"], 400);
  EXPECT_EQ(widened["error"]["param"], "ragft.principal");
}

TEST_F(RagTest, StreamedRagAnswerCarriesTheExtensionInItsLastChunk) {
  start_rag();
  json r = rag("What flows from the vent during an eruption?", {{"rag", true}}, /*stream=*/true);
  ASSERT_EQ(r["status"], 200) << r;
  const std::string body = r["body"];
  EXPECT_TRUE(body.ends_with("data: [DONE]\n\n")) << body;
  // The last chunk before [DONE] carries finish_reason and the ragft field.
  const std::size_t done = body.rfind("data: [DONE]");
  const std::size_t last = body.rfind("data: {", done);
  json chunk = json::parse(body.substr(last + 6, done - last - 6));
  EXPECT_EQ(chunk["choices"][0]["finish_reason"], "stop");
  ASSERT_EQ(chunk["ragft"]["citations"].size(), 1u) << chunk;
  expect_real_chunks(chunk["ragft"]["citations"]);
  // And our client reads the stream as plain text.
  EXPECT_NE(body.find("Lava flows from the vent"), std::string::npos);
}

TEST_F(ServerTest, ConcurrentClients) {
  ServeOptions o;
  o.threads = 4;
  start(o);
  auto chat = client();  // thread-safe: one client shared by every thread
  constexpr int kThreads = 8, kEach = 10;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string text = "thread " + std::to_string(t) + " request " + std::to_string(i);
        if (i % 2 == 0) {
          auto r = chat->complete(ask(text));
          if (r.ok() && r->text == "echo: " + text) ++ok;
        } else {
          std::string got;
          auto r = chat->stream(ask(text), [&](std::string_view d) {
            got += d;
            return true;
          });
          if (r.ok() && got == "echo: " + text) ++ok;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_EQ(model_->requests().size(), static_cast<std::size_t>(kThreads * kEach));
}

TEST_F(ServerTest, StopDrainsAStreamInFlight) {
  model_->delay = std::chrono::milliseconds(20);
  start();
  auto chat = client();
  std::atomic<bool> first{false};
  std::string got;
  Result<ChatResponse> result = make_error(ErrorCode::kInternal, "not run");
  std::thread streaming([&] {
    result = chat->stream(ask("one two three four five six seven eight"), [&](std::string_view d) {
      got += d;
      first = true;
      return true;
    });
  });
  while (!first) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->stop();  // returns once the stream has finished
  streaming.join();
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(got, "echo: one two three four five six seven eight");
  EXPECT_EQ(result->finish_reason, "stop");
  // Stopped: new requests are refused at the socket.
  auto after = chat->complete(ask("late"));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, ErrorCode::kIo);
}

TEST_F(ServerTest, AClientThatGoesAwayCancelsGeneration) {
  model_->delay = std::chrono::milliseconds(20);
  start();
  std::string words;
  for (int i = 0; i < 200; ++i) words += " w" + std::to_string(i);
  const std::string body =
      json{{"stream", true}, {"messages", {{{"role", "user"}, {"content", words}}}}}.dump();
  {
    httplib::Client cli("127.0.0.1", server_->port());
    std::size_t received = 0;
    // Reading stops after the first bytes: the client closes the connection.
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.body = body;
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char*, std::size_t n, std::uint64_t, std::uint64_t) {
      received += n;
      return false;
    };
    auto r = cli.send(req);
    EXPECT_GT(received, 0u);
  }
  // The server's next write fails and the model is told to stop, long before its 201 deltas.
  for (int i = 0; i < 500 && model_->cancelled == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(model_->cancelled.load(), 1);
}

// ServeLimits::max_seconds stops the model at the first delta after the deadline: 504 "timeout"
// for a whole answer, an error event in a stream that has begun; a request within the limit is
// untouched.
TEST_F(ServerTest, TheTimeLimitStopsTheModelWithATimeout) {
  model_->delay = std::chrono::milliseconds(30);
  ServeOptions o;
  o.limits.max_seconds = 1;
  start(o);
  std::string words;
  for (int i = 0; i < 100; ++i) words += fmt::format(" w{}", i);  // 101 deltas: ~3 s of generation
  const json messages = {{{"role", "user"}, {"content", words}}};

  auto whole = post("/v1/chat/completions", json{{"messages", messages}}.dump());
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 504) << whole->body;
  EXPECT_EQ(error_of(whole).value("code", ""), "timeout") << whole->body;
  EXPECT_NE(error_of(whole).value("message", "").find("--max-seconds"), std::string::npos) << whole->body;
  EXPECT_EQ(model_->cancelled.load(), 1);

  auto streamed = post("/v1/chat/completions", json{{"stream", true}, {"messages", messages}}.dump());
  ASSERT_TRUE(streamed);
  EXPECT_EQ(streamed->status, 200);  // the stream had begun
  EXPECT_NE(streamed->body.find(R"("code":"timeout")"), std::string::npos) << streamed->body;
  EXPECT_EQ(streamed->body.find("[DONE]"), std::string::npos) << "a stopped stream is not a finished one";
  EXPECT_EQ(model_->cancelled.load(), 2);

  // A short answer finishes well within the limit.
  auto quick = post("/v1/chat/completions", json{{"messages", {{{"role", "user"}, {"content", "hi"}}}}}.dump());
  ASSERT_TRUE(quick);
  EXPECT_EQ(quick->status, 200) << quick->body;
  EXPECT_EQ(json::parse(quick->body)["choices"][0]["message"]["content"], "echo: hi");
  EXPECT_EQ(model_->cancelled.load(), 2);

  // The limit is validated.
  ServeOptions bad;
  bad.limits.max_seconds = 0;
  auto refused = Server::make(bad, ServeComponents{});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("max_seconds"), std::string::npos) << refused.error().to_string();
}

// Sends `n` GET /health requests one after another on one TCP connection; returns, per response
// read, its status line and whether it said "Connection: close" (the server closes the
// connection after such a response).
struct KeepAliveRun {
  std::vector<std::string> status_lines;
  std::vector<bool> close_headers;
};
KeepAliveRun keep_alive_run(int port, int n) {
  KeepAliveRun out;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  RAGFT_CHECK(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  RAGFT_CHECK(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string buffer;
  auto read_more = [&] {
    char chunk[4096];
    const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got > 0) buffer.append(chunk, static_cast<std::size_t>(got));
    return got > 0;
  };
  for (int i = 0; i < n; ++i) {
    const std::string request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) break;
    std::size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos && read_more()) {
    }
    if (head_end == std::string::npos) break;
    std::string head = buffer.substr(0, head_end);
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::size_t cl = head.find("content-length: ");
    RAGFT_CHECK(cl != std::string::npos);
    const std::size_t length = std::stoul(head.substr(cl + 16));
    while (buffer.size() < head_end + 4 + length && read_more()) {
    }
    out.status_lines.push_back(buffer.substr(0, buffer.find("\r\n")));
    out.close_headers.push_back(head.find("connection: close") != std::string::npos);
    buffer.erase(0, head_end + 4 + length);
  }
  ::close(fd);
  return out;
}

// httplib's own default closed a keep-alive connection after its fifth request, so a load test
// reconnected all the time; the server's keep_alive_max_requests sets when it does.
TEST_F(ServerTest, KeepAliveConnectionsLastKeepAliveMaxRequests) {
  ServeOptions o;
  o.keep_alive_max_requests = 12;
  start(o);
  const KeepAliveRun run = keep_alive_run(server_->port(), 12);
  ASSERT_EQ(run.status_lines.size(), 12u);
  for (std::size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(run.status_lines[i], "HTTP/1.1 200 OK") << i;
    EXPECT_EQ(run.close_headers[i], i == 11) << "response " << i + 1;
  }
  // The default keeps a connection for far more than httplib's five.
  server_.reset();
  start();
  const KeepAliveRun many = keep_alive_run(server_->port(), 40);
  ASSERT_EQ(many.status_lines.size(), 40u);
  for (std::size_t i = 0; i < 40; ++i) EXPECT_FALSE(many.close_headers[i]) << "response " << i + 1;
  EXPECT_GE(ServeOptions{}.keep_alive_max_requests, 1000);
}

TEST(ServeOptionsTest, BadOptionsAreNamed) {
  ServeOptions o;
  o.threads = 0;
  auto s = Server::make(o, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("threads"), std::string::npos);
  o = {};
  o.max_body_bytes = 10;
  s = Server::make(o, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("max_body_bytes"), std::string::npos);
  o = {};
  o.keep_alive_max_requests = 0;
  s = Server::make(o, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("keep_alive_max_requests"), std::string::npos);
  o = {};
  o.search_concurrency = -1;
  s = Server::make(o, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("search_concurrency"), std::string::npos);
  auto pool = WorkspacePool::open("/nonexistent/ragft-ws", {});
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.error().code, ErrorCode::kNotFound);
}

TEST_F(RagTest, TheTimeLimitStopsRagAnswersToo) {
  model_->delay = std::chrono::milliseconds(30);
  std::string reply = "Lava flows [1].";
  for (int i = 0; i < 60; ++i) reply += " more";  // ~2 s of deltas
  model_->rag_reply = reply;
  ServeOptions o;
  o.limits.max_seconds = 1;
  start_rag({}, o);
  const json chat = rag("What flows from the vent during an eruption?");
  EXPECT_EQ(chat["http_status"], 504) << chat.dump();
  EXPECT_EQ(chat["error"]["code"], "timeout") << chat.dump();
  auto ask = post("/v1/ask", R"({"question": "What flows from the vent during an eruption?", "llm": true})");
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->status, 504) << ask->body;
  EXPECT_EQ(error_of(ask).value("code", ""), "timeout") << ask->body;
  EXPECT_EQ(model_->cancelled.load(), 2);
}

TEST_F(RagTest, MetricsShowTheHighlightCacheAndTheSearchSlots) {
  ServeComponents c;
  WorkspaceOptions wo;
  wo.chunk_terms_cache = std::make_shared<ChunkTermsCache>(1 << 20);
  auto pool = WorkspacePool::open(dir_ / "ws", wo);
  ASSERT_TRUE(pool.ok()) << pool.error().to_string();
  c.workspaces = std::move(*pool);
  start({}, std::move(c));
  for (int i = 0; i < 2; ++i) {
    auto r = post("/v1/search", R"({"query": "lava eruption"})");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  httplib::Client cli("127.0.0.1", server_->port());
  auto m = cli.Get("/metrics");
  ASSERT_TRUE(m);
  const std::string& t = m->body;
  const double misses = sample(t, R"(ragft_highlight_cache_lookups_total{result="miss"})");
  EXPECT_GT(misses, 0) << t;
  // The second search found every hit the first one analysed.
  EXPECT_EQ(sample(t, R"(ragft_highlight_cache_lookups_total{result="hit"})"), misses) << t;
  EXPECT_EQ(sample(t, "ragft_highlight_cache_entries"), misses) << t;
  EXPECT_GT(sample(t, "ragft_highlight_cache_bytes"), 0) << t;
  EXPECT_EQ(sample(t, "ragft_search_slots_waiting"), 0) << t;
}

}  // namespace
}  // namespace ragft::serve
