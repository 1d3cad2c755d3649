#include "generate/openai_chat.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ragft {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kKeyEnv = "RAGFT_TEST_CHAT_KEY";
constexpr const char* kDone = "data: [DONE]\n\n";

// ---- OpenAI-shaped bodies ----

json completion(const std::string& text, const std::string& finish = "stop", int prompt = 11, int generated = 7) {
  return {{"id", "chatcmpl-1"},
          {"object", "chat.completion"},
          {"model", "served-model"},
          {"choices", json::array({{{"index", 0},
                                    {"message", {{"role", "assistant"}, {"content", text}}},
                                    {"finish_reason", finish}}})},
          {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", generated}, {"total_tokens", prompt + generated}}}};
}

json chunk(const std::string& content, const json& finish = nullptr) {
  return {{"id", "chatcmpl-1"},
          {"object", "chat.completion.chunk"},
          {"model", "served-model"},
          {"choices", json::array({{{"index", 0}, {"delta", {{"content", content}}}, {"finish_reason", finish}}})}};
}

json role_chunk() {
  return {{"object", "chat.completion.chunk"},
          {"model", "served-model"},
          {"choices", json::array({{{"index", 0}, {"delta", {{"role", "assistant"}}}, {"finish_reason", nullptr}}})}};
}

json usage_chunk(int prompt, int generated) {
  return {{"object", "chat.completion.chunk"},
          {"model", "served-model"},
          {"choices", json::array()},
          {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", generated}, {"total_tokens", prompt + generated}}}};
}

std::string event(const json& j) { return "data: " + j.dump() + "\n\n"; }

// The events of a complete stream of `deltas` (role chunk, deltas, finish, usage, [DONE]).
std::vector<std::string> stream_events(const std::vector<std::string>& deltas) {
  std::vector<std::string> out = {event(role_chunk())};
  for (const auto& d : deltas) out.push_back(event(chunk(d)));
  out.push_back(event(chunk("", "stop")));
  out.push_back(event(usage_chunk(5, static_cast<int>(deltas.size()))));
  out.push_back(kDone);
  return out;
}

enum class End { kDone, kAbort };

// Serves `pieces` as a chunked text/event-stream, one write per piece; `before(i)` runs before
// piece i. kAbort drops the connection after the last piece (no terminating chunk).
void serve_stream(httplib::Response& res, std::vector<std::string> pieces, End end = End::kDone,
                  std::function<void(std::size_t)> before = nullptr) {
  res.set_chunked_content_provider("text/event-stream", [pieces, end, before](std::size_t, httplib::DataSink& sink) {
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      if (before) before(i);
      if (!sink.write(pieces[i].data(), pieces[i].size())) return false;
    }
    if (end == End::kAbort) return false;
    sink.done();
    return true;
  });
}

// A flag one thread waits on (at most a bound, so a broken client cannot hang a test).
class Flag {
 public:
  void set() {
    std::lock_guard lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds at_most = std::chrono::milliseconds(5000)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, at_most, [&] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

// An in-process server on 127.0.0.1 (a free port) answering POST /v1/chat/completions with
// `handler` (called with the 1-based call number); records every request.
class FakeServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&, int call)>;

  // keep_alive_s > 0: the server closes a connection idle that long (httplib's default: 5 s).
  explicit FakeServer(Handler handler, int keep_alive_s = 0) : handler_(std::move(handler)) {
    if (keep_alive_s > 0) svr_.set_keep_alive_timeout(keep_alive_s);
    svr_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      int call = 0;
      {
        std::lock_guard lock(mu_);
        call = static_cast<int>(bodies_.size()) + 1;
        bodies_.push_back(json::parse(req.body, nullptr, /*allow_exceptions=*/false));
        auth_.push_back(req.has_header("Authorization") ? req.get_header_value("Authorization") : "<none>");
        times_.push_back(Clock::now());
      }
      handler_(req, res, call);
    });
    svr_.set_tcp_nodelay(true);
    port_ = svr_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) std::abort();
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() {
    svr_.stop();
    thread_.join();
  }

  std::string url() const { return fmt::format("http://127.0.0.1:{}/v1", port_); }
  std::string endpoint() const { return url() + "/chat/completions"; }
  int calls() {
    std::lock_guard lock(mu_);
    return static_cast<int>(bodies_.size());
  }
  std::vector<json> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }
  std::vector<std::string> auth() {
    std::lock_guard lock(mu_);
    return auth_;
  }
  std::vector<Clock::time_point> times() {
    std::lock_guard lock(mu_);
    return times_;
  }

 private:
  Handler handler_;
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<json> bodies_;
  std::vector<std::string> auth_;
  std::vector<Clock::time_point> times_;
};

std::unique_ptr<ChatModel> make(const std::string& url, const std::string& extra = "") {
  auto m = make_openai_chat(fmt::format("openai:url={},model=test-model,backoff_ms=1,key_env={}{}", url, kKeyEnv, extra));
  if (!m.ok()) {
    ADD_FAILURE() << m.error().to_string();
    std::abort();
  }
  return std::move(m).value();
}

ChatRequest ask(const std::string& question) {
  ChatRequest r;
  r.messages = {{ChatRole::kUser, question}};
  return r;
}

// Collects the deltas of a stream() call.
struct Deltas {
  std::vector<std::string> got;
  ChatDeltaFn fn() {
    return [this](std::string_view d) {
      got.emplace_back(d);
      return true;
    };
  }
};

class OpenAiChatTest : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv(kKeyEnv); }
  void TearDown() override { ::unsetenv(kKeyEnv); }
};

TEST_F(OpenAiChatTest, CompleteSendsEveryRequestFieldAndParsesTheResponse) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int) {
    res.set_content(completion("Paris is the capital.", "length", 31, 5).dump(), "application/json");
  });
  auto chat = make(server.url());
  ChatRequest r;
  r.messages = {{ChatRole::kSystem, "Answer briefly."},
                {ChatRole::kUser, "Capital of France?"},
                {ChatRole::kAssistant, "Paris."},
                {ChatRole::kUser, "Say it as a sentence in JSON."}};
  r.max_tokens = 64;
  r.temperature = 0.25;
  r.top_p = 0.5;
  r.stop = {"\n\n", "END"};
  r.seed = 1234;
  r.json = true;
  auto out = chat->complete(r);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text, "Paris is the capital.");
  EXPECT_EQ(out->finish_reason, "length");
  EXPECT_EQ(out->model, "served-model");
  ASSERT_TRUE(out->usage.has_value());
  EXPECT_EQ(out->usage->prompt_tokens, 31);
  EXPECT_EQ(out->usage->completion_tokens, 5);
  EXPECT_EQ(out->usage->total_tokens, 36);
  EXPECT_EQ(out->attempts, 1);
  EXPECT_FALSE(out->streamed);
  EXPECT_GT(out->latency_ms, 0.0);

  ASSERT_EQ(server.calls(), 1);
  const json body = server.bodies()[0];
  EXPECT_EQ(body.at("model"), "test-model");
  EXPECT_EQ(body.at("messages"), json::parse(R"([{"role":"system","content":"Answer briefly."},
      {"role":"user","content":"Capital of France?"},{"role":"assistant","content":"Paris."},
      {"role":"user","content":"Say it as a sentence in JSON."}])"));
  EXPECT_EQ(body.at("n"), 1);
  EXPECT_EQ(body.at("stream"), false);
  EXPECT_FALSE(body.contains("stream_options"));
  EXPECT_EQ(body.at("max_tokens"), 64);
  EXPECT_DOUBLE_EQ(body.at("temperature").get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(body.at("top_p").get<double>(), 0.5);
  EXPECT_EQ(body.at("stop"), json::parse(R"(["\n\n","END"])"));
  EXPECT_EQ(body.at("seed"), 1234);
  EXPECT_EQ(body.at("response_format"), json::parse(R"({"type":"json_object"})"));
}

TEST_F(OpenAiChatTest, UnsetOptionalFieldsAreNotSent) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int) {
    res.set_content(completion("ok").dump(), "application/json");
  });
  auto chat = make(server.url());
  ChatRequest r = ask(std::string("bad \xff byte"));
  ASSERT_TRUE(chat->complete(r).ok());
  const json body = server.bodies().at(0);
  for (const char* field : {"max_tokens", "temperature", "top_p", "stop", "seed", "response_format"}) {
    EXPECT_FALSE(body.contains(field)) << field;
  }
  EXPECT_EQ(body.at("messages")[0].at("content"), "bad \xEF\xBF\xBD byte");  // invalid UTF-8 replaced
}

TEST_F(OpenAiChatTest, JsonSchemaIsSentAsStructuredOutput) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int) {
    res.set_content(completion(R"({"answer":"Paris"})").dump(), "application/json");
  });
  auto chat = make(server.url());
  ChatRequest r = ask("Capital of France?");
  r.json_schema = R"({"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]})";
  r.json_schema_name = "capital";
  auto out = chat->complete(r);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text, R"({"answer":"Paris"})");
  const json rf = server.bodies().at(0).at("response_format");
  EXPECT_EQ(rf.at("type"), "json_schema");
  EXPECT_EQ(rf.at("json_schema").at("name"), "capital");
  EXPECT_EQ(rf.at("json_schema").at("strict"), true);
  EXPECT_EQ(rf.at("json_schema").at("schema"), json::parse(r.json_schema));

  r.json_schema_strict = false;
  r.json = true;  // the schema wins
  ASSERT_TRUE(chat->complete(r).ok());
  const json rf2 = server.bodies().at(1).at("response_format");
  EXPECT_EQ(rf2.at("type"), "json_schema");
  EXPECT_EQ(rf2.at("json_schema").at("strict"), false);
}

TEST_F(OpenAiChatTest, BadRequestsFailBeforeAnythingIsSent) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int) {
    res.set_content(completion("ok").dump(), "application/json");
  });
  auto chat = make(server.url());
  struct Case {
    std::function<void(ChatRequest&)> spoil;
    const char* names;
  };
  const Case cases[] = {
      {[](ChatRequest& r) { r.messages.clear(); }, "messages"},
      {[](ChatRequest& r) { r.max_tokens = -1; }, "max_tokens"},
      {[](ChatRequest& r) { r.temperature = 2.5; }, "temperature"},
      {[](ChatRequest& r) { r.top_p = 0.0; }, "top_p"},
      {[](ChatRequest& r) { r.stop = {"ok", ""}; }, "stop[1]"},
      {[](ChatRequest& r) { r.json_schema = "{not json"; }, "json_schema"},
      {[](ChatRequest& r) { r.json_schema = "[1,2]"; }, "json_schema"},
      {[](ChatRequest& r) {
         r.json_schema = "{}";
         r.json_schema_name = "has space";
       },
       "json_schema_name"},
  };
  for (const Case& c : cases) {
    ChatRequest r = ask("q");
    c.spoil(r);
    auto out = chat->complete(r);
    ASSERT_FALSE(out.ok()) << c.names;
    EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument) << c.names;
    EXPECT_NE(out.error().message.find(c.names), std::string::npos) << out.error().message;
    Deltas d;
    EXPECT_FALSE(chat->stream(r, d.fn()).ok()) << c.names;
  }
  EXPECT_EQ(server.calls(), 0);
}

TEST_F(OpenAiChatTest, StreamDeliversDeltasAsTheyArrive) {
  Flag first_delta_seen;
  std::atomic<bool> rest_waited_for_client{false};
  FakeServer server([&](const httplib::Request&, httplib::Response& res, int) {
    // The rest of the stream is written only once the client has handed "Hel" to its callback.
    serve_stream(res, stream_events({"Hel", "lo", ", world"}), End::kDone, [&](std::size_t i) {
      if (i == 2) rest_waited_for_client = first_delta_seen.wait();
    });
  });
  auto chat = make(server.url());
  std::vector<std::string> got;
  auto out = chat->stream(ask("greet"), [&](std::string_view d) {
    got.emplace_back(d);
    if (got.size() == 1) first_delta_seen.set();
    return true;
  });
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_TRUE(rest_waited_for_client.load()) << "the first delta was not delivered before the stream ended";
  EXPECT_EQ(got, (std::vector<std::string>{"Hel", "lo", ", world"}));
  EXPECT_EQ(out->text, "Hello, world");
  EXPECT_EQ(out->finish_reason, "stop");
  EXPECT_EQ(out->model, "served-model");
  ASSERT_TRUE(out->usage.has_value());
  EXPECT_EQ(out->usage->prompt_tokens, 5);
  EXPECT_EQ(out->usage->completion_tokens, 3);
  EXPECT_EQ(out->usage->total_tokens, 8);
  EXPECT_TRUE(out->streamed);
  EXPECT_EQ(out->attempts, 1);
  EXPECT_LE(out->first_delta_ms, out->latency_ms);

  const json body = server.bodies().at(0);
  EXPECT_EQ(body.at("stream"), true);
  EXPECT_EQ(body.at("stream_options"), json::parse(R"({"include_usage":true})"));
  EXPECT_EQ(body.at("n"), 1);
}

// The same stream, with CRLF line ends, comments and keep-alives, cut into writes of 1..7 bytes
// (splitting "data:", CRLFs, JSON and multi-byte characters), and also sent in one piece.
TEST_F(OpenAiChatTest, StreamSplitAcrossArbitraryWriteBoundaries) {
  const std::vector<std::string> deltas = {"Gr\xC3\xBC\xC3\x9F", " Gott", ",\n", "\xE2\x82\xAC 5", "!"};
  std::string text;
  text += ": keep-alive\r\n\r\n";
  for (const std::string& e : stream_events(deltas)) {
    std::string crlf;
    for (char c : e) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    text += crlf + ": ping\r\n\r\n";
  }
  std::vector<std::string> pieces;
  for (std::size_t at = 0, step = 1; at < text.size(); at += step, step = step % 7 + 1) {
    pieces.push_back(text.substr(at, step));
  }
  std::string want;
  for (const auto& d : deltas) want += d;

  for (bool split : {true, false}) {
    FakeServer server([&](const httplib::Request&, httplib::Response& res, int) {
      if (split) {
        serve_stream(res, pieces, End::kDone, [](std::size_t i) {
          if (i % 16 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // separate reads
        });
      } else {
        res.set_content(text, "text/event-stream; charset=utf-8");
      }
    });
    auto chat = make(server.url());
    Deltas d;
    auto out = chat->stream(ask("q"), d.fn());
    ASSERT_TRUE(out.ok()) << out.error().to_string();
    EXPECT_EQ(d.got, deltas) << "split=" << split;
    EXPECT_EQ(out->text, want);
    EXPECT_EQ(out->finish_reason, "stop");
    ASSERT_TRUE(out->usage.has_value());
    EXPECT_EQ(out->usage->completion_tokens, 5);
  }
}

TEST_F(OpenAiChatTest, AServerThatIgnoresStreamGetsItsTextDeliveredOnce) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int) {
    res.set_content(completion("whole answer", "stop", 3, 2).dump(), "application/json");
  });
  auto chat = make(server.url());
  Deltas d;
  auto out = chat->stream(ask("q"), d.fn());
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(d.got, std::vector<std::string>{"whole answer"});
  EXPECT_EQ(out->text, "whole answer");
  EXPECT_FALSE(out->streamed);
  ASSERT_TRUE(out->usage.has_value());
  EXPECT_EQ(out->usage->total_tokens, 5);
}

TEST_F(OpenAiChatTest, CompleteReadsAServerThatAlwaysStreams) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int) {
    std::string all;
    for (const auto& e : stream_events({"a", "b", "c"})) all += e;
    res.set_content(all, "application/octet-stream");  // and a wrong content type
  });
  auto chat = make(server.url());
  auto out = chat->complete(ask("q"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text, "abc");
  EXPECT_TRUE(out->streamed);
  EXPECT_EQ(out->finish_reason, "stop");
}

TEST_F(OpenAiChatTest, Retries429And503HonouringRetryAfterThenSucceeds) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int call) {
    if (call == 1) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      res.set_content(R"({"error":{"message":"rate limited"}})", "application/json");
    } else if (call == 2) {
      res.status = 503;
      res.set_header("Retry-After", "0");
      res.set_content(R"({"error":{"message":"loading model"}})", "application/json");
    } else {
      res.set_content(completion("finally").dump(), "application/json");
    }
  });
  auto chat = make_openai_chat(fmt::format("openai:url={},model=m,retries=3,backoff_ms=5000", server.url()));
  ASSERT_TRUE(chat.ok()) << chat.error().to_string();
  auto out = (*chat)->complete(ask("q"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text, "finally");
  EXPECT_EQ(out->attempts, 3);
  ASSERT_EQ(server.calls(), 3);
  // Retry-After (1 s, then 0 s) replaced the 5 s backoff.
  const auto t = server.times();
  EXPECT_GE(t[1] - t[0], std::chrono::milliseconds(900));
  EXPECT_LT(t[2] - t[1], std::chrono::milliseconds(4000));
}

TEST_F(OpenAiChatTest, RetriesRunOutWithTheLastFailure) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int) {
    res.status = 503;
    res.set_content(R"({"error":{"message":"overloaded"}})", "application/json");
  });
  auto chat = make(server.url(), ",retries=2");
  auto out = chat->complete(ask("q"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kIo);
  EXPECT_NE(out.error().message.find("3 attempt(s)"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find("HTTP 503: overloaded"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find(server.endpoint()), std::string::npos) << out.error().message;
  EXPECT_EQ(server.calls(), 3);
}

TEST_F(OpenAiChatTest, StreamRetriesFailuresBeforeAnyDelta) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int call) {
    if (call == 1) {
      res.status = 503;
      res.set_content("busy", "text/plain");
    } else if (call == 2) {
      serve_stream(res, {event(role_chunk())}, End::kAbort);  // dies before any text
    } else if (call == 3) {
      serve_stream(res, {event(json{{"error", {{"message", "slot unavailable"}}}})});  // in-band error
    } else {
      serve_stream(res, stream_events({"one", " two"}));
    }
  });
  auto chat = make(server.url(), ",retries=3");
  Deltas d;
  auto out = chat->stream(ask("q"), d.fn());
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(d.got, (std::vector<std::string>{"one", " two"}));  // nothing twice
  EXPECT_EQ(out->text, "one two");
  EXPECT_EQ(out->attempts, 4);
  EXPECT_EQ(server.calls(), 4);
}

TEST_F(OpenAiChatTest, NoRetryAfterAPartialStream) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int) {
    serve_stream(res, {event(role_chunk()), event(chunk("Hel")), event(chunk("lo"))}, End::kAbort);
  });
  auto chat = make(server.url(), ",retries=3");
  Deltas d;
  auto out = chat->stream(ask("q"), d.fn());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kIo);
  EXPECT_NE(out.error().message.find("not retried"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find(server.endpoint()), std::string::npos) << out.error().message;
  EXPECT_EQ(d.got, (std::vector<std::string>{"Hel", "lo"}));
  EXPECT_EQ(server.calls(), 1);
}

TEST_F(OpenAiChatTest, AStreamEndingWithoutDoneIsIncomplete) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int call) {
    if (call == 1) {
      serve_stream(res, {event(chunk("partial"))});  // clean end, no finish_reason, no [DONE]
    } else {
      serve_stream(res, {event(chunk("all")), event(chunk("", "stop"))});  // finish_reason, no [DONE]: fine
    }
  });
  auto chat = make(server.url(), ",retries=3");
  Deltas d;
  auto out = chat->stream(ask("q"), d.fn());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kIo);
  EXPECT_NE(out.error().message.find("[DONE]"), std::string::npos) << out.error().message;
  EXPECT_EQ(server.calls(), 1);  // text was delivered: not retried

  Deltas d2;
  auto ok = chat->stream(ask("q"), d2.fn());
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->text, "all");
  EXPECT_EQ(ok->finish_reason, "stop");
}

TEST_F(OpenAiChatTest, ReturningFalseFromTheCallbackCancels) {
  std::atomic<bool> write_failed{false};
  Flag server_done;
  FakeServer server([&](const httplib::Request&, httplib::Response& res, int) {
    res.set_chunked_content_provider("text/event-stream", [&](std::size_t, httplib::DataSink& sink) {
      for (int i = 0; i < 400; ++i) {  // at most ~2 s of text
        const std::string e = event(chunk(fmt::format("t{} ", i)));
        if (!sink.write(e.data(), e.size())) {
          write_failed = true;
          server_done.set();
          return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      server_done.set();
      sink.done();
      return true;
    });
  });
  auto chat = make(server.url(), ",retries=3");
  int calls = 0;
  auto out = chat->stream(ask("q"), [&](std::string_view) { return ++calls < 2; });
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kCancelled) << out.error().to_string();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(server.calls(), 1);
  EXPECT_TRUE(server_done.wait());
  EXPECT_TRUE(write_failed.load()) << "the connection stayed open after cancelling";
}

TEST_F(OpenAiChatTest, TheKeyIsSentButNeverAppearsInErrors) {
  FakeServer server([](const httplib::Request& req, httplib::Response& res, int call) {
    const std::string key = req.get_header_value("Authorization").substr(7);
    if (call == 1) {
      res.status = 401;
      res.set_content(json{{"error", {{"message", "Incorrect API key provided: " + key}}}}.dump(), "application/json");
    } else if (call == 2) {
      res.status = 500;
      res.set_content("internal error with " + key, "text/plain");
    } else {
      serve_stream(res, {event(chunk("x")), event(json{{"error", {{"message", "key " + key + " revoked"}}}})});
    }
  });
  ::setenv(kKeyEnv, "sk-secret-123", 1);
  auto chat = make(server.url(), ",retries=0");
  EXPECT_EQ(chat->config().find("sk-secret"), std::string::npos);

  auto unauthorised = chat->complete(ask("q"));
  ASSERT_FALSE(unauthorised.ok());
  EXPECT_EQ(unauthorised.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(unauthorised.error().message.find("Incorrect API key provided"), std::string::npos);
  EXPECT_NE(unauthorised.error().message.find(kKeyEnv), std::string::npos) << unauthorised.error().message;

  auto failing = chat->complete(ask("q"));
  ASSERT_FALSE(failing.ok());
  EXPECT_NE(failing.error().message.find("internal error with"), std::string::npos) << failing.error().message;

  Deltas d;
  auto mid_stream = chat->stream(ask("q"), d.fn());
  ASSERT_FALSE(mid_stream.ok());
  EXPECT_EQ(mid_stream.error().code, ErrorCode::kIo);
  EXPECT_NE(mid_stream.error().message.find("revoked"), std::string::npos) << mid_stream.error().message;

  for (const auto* e : {&unauthorised.error(), &failing.error(), &mid_stream.error()}) {
    EXPECT_EQ(e->message.find("sk-secret-123"), std::string::npos) << e->message;
    EXPECT_NE(e->message.find("[redacted]"), std::string::npos) << e->message;
  }
  EXPECT_EQ(server.auth(), std::vector<std::string>(3, "Bearer sk-secret-123"));
}

TEST_F(OpenAiChatTest, NoKeyNoHeader) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int) {
    res.status = 401;
    res.set_content(R"({"error":"unauthorized"})", "application/json");
  });
  auto chat = make(server.url());
  auto out = chat->complete(ask("q"));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("no key was sent"), std::string::npos) << out.error().message;
  EXPECT_EQ(server.auth(), std::vector<std::string>{"<none>"});
}

TEST_F(OpenAiChatTest, ClientErrorsFailAtOnceWithTheServersMessage) {
  FakeServer server([](const httplib::Request&, httplib::Response& res, int) {
    res.status = 400;
    res.set_content(
        R"({"error":{"message":"This model's maximum context length is 4096 tokens","type":"invalid_request_error"}})",
        "application/json");
  });
  auto chat = make(server.url(), ",retries=3");
  for (bool stream : {false, true}) {
    Deltas d;
    auto out = stream ? chat->stream(ask("q"), d.fn()) : chat->complete(ask("q"));
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(out.error().message.find("maximum context length is 4096 tokens"), std::string::npos);
    EXPECT_NE(out.error().message.find("HTTP 400"), std::string::npos) << out.error().message;
    EXPECT_NE(out.error().message.find(server.endpoint()), std::string::npos) << out.error().message;
  }
  EXPECT_EQ(server.calls(), 2);

  auto missing = make(server.url() + "/nowhere");
  auto out = missing->complete(ask("q"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kNotFound) << out.error().to_string();
}

TEST_F(OpenAiChatTest, TimeoutsAreRetriedThenReported) {
  Flag release;
  FakeServer server([&](const httplib::Request&, httplib::Response& res, int) {
    release.wait(std::chrono::milliseconds(3000));  // longer than the client waits
    res.set_content(completion("late").dump(), "application/json");
  });
  auto chat = make(server.url(), ",timeout_ms=200,retries=1");
  auto out = chat->complete(ask("q"));
  release.set();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kIo);
  EXPECT_NE(out.error().message.find("timed out"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find("2 attempt(s)"), std::string::npos) << out.error().message;
  EXPECT_EQ(server.calls(), 2);
}

TEST_F(OpenAiChatTest, AStalledStreamTimesOutWithoutRetry) {
  Flag release;
  FakeServer server([&](const httplib::Request&, httplib::Response& res, int) {
    serve_stream(res, {event(chunk("first")), event(chunk("second")), kDone}, End::kDone, [&](std::size_t i) {
      if (i == 1) release.wait(std::chrono::milliseconds(3000));
    });
  });
  auto chat = make(server.url(), ",timeout_ms=200,retries=2");
  Deltas d;
  auto out = chat->stream(ask("q"), d.fn());
  release.set();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kIo);
  EXPECT_NE(out.error().message.find("timed out"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find("not retried"), std::string::npos) << out.error().message;
  EXPECT_EQ(d.got, std::vector<std::string>{"first"});
  EXPECT_EQ(server.calls(), 1);
}

TEST_F(OpenAiChatTest, AnIdleConnectionTheServerClosedIsReplacedWithoutARetry) {
  FakeServer server(
      [](const httplib::Request&, httplib::Response& res, int) {
        res.set_content(completion("ok").dump(), "application/json");
      },
      /*keep_alive_s=*/1);
  auto chat = make(server.url(), ",retries=0");
  auto first = chat->complete(ask("q"));
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the server closes the pooled connection
  for (bool stream : {false, true}) {
    Deltas d;
    auto again = stream ? chat->stream(ask("q"), d.fn()) : chat->complete(ask("q"));
    ASSERT_TRUE(again.ok()) << again.error().to_string();
    EXPECT_EQ(again->attempts, 1);
    EXPECT_EQ(again->text, "ok");
  }
}

TEST_F(OpenAiChatTest, MalformedResponsesAreCorrupt) {
  struct Case {
    std::string body;
    std::string content_type;
    const char* says;
  };
  const Case cases[] = {
      {"<html>502 Bad Gateway</html>", "text/html", "not JSON"},
      {R"({"object":"chat.completion","choices":[]})", "application/json", "choices"},
      {R"({"choices":[{"index":0,"message":{"content":42}}]})", "application/json", "content"},
      {R"({"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":"many"}})", "application/json",
       "prompt_tokens"},
      {"data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\ndata: {truncated\n\n", "text/event-stream",
       "not JSON"},
      {"data: [1,2]\n\n", "text/event-stream", "not a JSON object"},
  };
  for (const Case& c : cases) {
    FakeServer server([&](const httplib::Request&, httplib::Response& res, int) {
      res.set_content(c.body, c.content_type);
    });
    auto chat = make(server.url(), ",retries=3");
    auto out = chat->complete(ask("q"));
    ASSERT_FALSE(out.ok()) << c.body;
    EXPECT_EQ(out.error().code, ErrorCode::kCorrupt) << out.error().to_string();
    EXPECT_NE(out.error().message.find(c.says), std::string::npos) << out.error().message;
    EXPECT_NE(out.error().message.find(server.endpoint()), std::string::npos) << out.error().message;
    EXPECT_EQ(server.calls(), 1) << "a malformed response is not retried";
  }
}

TEST_F(OpenAiChatTest, ConcurrentCallsRunInParallelAndGetTheirOwnAnswers) {
  // Each request waits (at most 2 s) until another is in flight: a client that serialised its
  // calls would never have two in flight.
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0, max_in_flight = 0;
  FakeServer server([&](const httplib::Request& req, httplib::Response& res, int) {
    {
      std::unique_lock lock(mu);
      max_in_flight = std::max(max_in_flight, ++in_flight);
      cv.notify_all();
      cv.wait_for(lock, std::chrono::milliseconds(2000), [&] { return max_in_flight >= 2; });
      --in_flight;
    }
    const json in = json::parse(req.body);
    const std::string q = in.at("messages")[0].at("content");
    if (in.at("stream")) {
      serve_stream(res, stream_events({"re: ", q}));
    } else {
      res.set_content(completion("re: " + q).dump(), "application/json");
    }
  });
  auto chat = make(server.url());
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        const std::string q = fmt::format("question {} of thread {}", i, t);
        Deltas d;
        auto out = (i % 2) ? chat->stream(ask(q), d.fn()) : chat->complete(ask(q));
        if (out.ok() && out->text == "re: " + q) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 20);
  EXPECT_EQ(server.calls(), 20);
  EXPECT_GE(max_in_flight, 2);
}

TEST(OpenAiChatOptions, ParsesEveryKeyAndRoundTrips) {
  const std::string config =
      "openai:url=https://api.openai.com/v1,model=gpt-4o-mini,timeout_ms=1000,retries=5,backoff_ms=50,key_env=MY_KEY";
  auto o = OpenAiChatOptions::parse(config);
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->url, "https://api.openai.com/v1");
  EXPECT_EQ(o->model, "gpt-4o-mini");
  EXPECT_EQ(o->timeout_ms, 1000);
  EXPECT_EQ(o->retries, 5);
  EXPECT_EQ(o->backoff_ms, 50);
  EXPECT_EQ(o->key_env, "MY_KEY");
  EXPECT_EQ(o->to_config(), config);
  auto m = make_openai_chat(config);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ((*m)->config(), config);
}

TEST(OpenAiChatOptions, DefaultsAndNormalisation) {
  auto o = OpenAiChatOptions::parse("openai:model=llama3.2:3b,url=http://localhost:11434/v1/");
  ASSERT_TRUE(o.ok()) << o.error().to_string();
  EXPECT_EQ(o->to_config(),
            "openai:url=http://localhost:11434/v1,model=llama3.2:3b,timeout_ms=120000,retries=3,backoff_ms=500,"
            "key_env=OPENAI_API_KEY");
  auto again = OpenAiChatOptions::parse(o->to_config());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->to_config(), o->to_config());
}

TEST(OpenAiChatOptions, BadConfigsNameTheKey) {
  struct Case {
    const char* config;
    const char* names;
  };
  const Case cases[] = {
      {"openai:model=m", "url"},
      {"openai:url=http://h/v1", "model"},
      {"openai:url=http://h/v1,model=m,temperature=1", "temperature"},
      {"openai:url=http://h/v1,model=m,timeout_ms=0", "timeout_ms"},
      {"openai:url=http://h/v1,model=m,timeout_ms=60s", "timeout_ms"},
      {"openai:url=http://h/v1,model=m,retries=99", "retries"},
      {"openai:url=http://h/v1,model=m,backoff_ms=-1", "backoff_ms"},
      {"openai:url=http://h/v1,model=m,key_env=9X", "key_env"},
      {"openai:url=ftp://h/v1,model=m", "url"},
      {"openai:url=http://u:p@h/v1,model=m", "url"},
      {"openai:url=http://h/v1,model=m,model=n", "model"},
      {"openai:url=http://h/v1,model=a b", "model"},
  };
  for (const Case& c : cases) {
    auto o = OpenAiChatOptions::parse(c.config);
    ASSERT_FALSE(o.ok()) << c.config;
    EXPECT_EQ(o.error().code, ErrorCode::kInvalidArgument) << c.config;
    EXPECT_NE(o.error().message.find(c.names), std::string::npos) << c.config << ": " << o.error().message;
    EXPECT_FALSE(make_openai_chat(c.config).ok()) << c.config;
  }
  auto other_kind = OpenAiChatOptions::parse("extractive:max=3");
  ASSERT_FALSE(other_kind.ok());
  EXPECT_EQ(other_kind.error().code, ErrorCode::kInvalidArgument);

  OpenAiChatOptions in_code;
  in_code.url = "http://127.0.0.1:1/v1";
  in_code.model = "m,n";
  auto bad = make_openai_chat(in_code);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("model"), std::string::npos);
}

}  // namespace
}  // namespace ragft
