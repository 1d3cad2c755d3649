// Chat client overhead (target: <= 1 ms per request beyond raw HTTP): on loopback, against one
// in-process httplib server returning a fixed completion, each iteration sends one request with
// a raw httplib POST of a fixed body (keep-alive, the body read whole, nothing parsed) and one
// through the OpenAI chat client (generate/openai_chat.h: builds the JSON, takes a pooled
// connection, parses the response, or the event stream delta by delta). Interleaving the two,
// in alternating order, cancels drift on a noisy machine.
//
// Built as its own binary, ragft_chat_bench. RAGFT_BENCH_REQUESTS sets the requests per series
// (default 2000).
//   counters: raw_p50_us, client_p50_us, overhead_us = client_p50 - raw_p50,
//             paired_overhead_us = median over iterations of (client - raw)
// BM_RawFreshConnection: p50_us of a raw POST on a new connection each time (the pool's worth).
#include <benchmark/benchmark.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "canned_chat_server.h"  // beside this file
#include "generate/openai_chat.h"

namespace {

using namespace ragft;
using bench::raw_body;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kDeltas = 64;  // events of a streamed answer

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

// A RAG-sized request: a system prompt and ~1.5 KB of question with sources.
ChatRequest bench_request() {
  ChatRequest r;
  std::string sources;
  for (int i = 1; i <= 5; ++i) {
    sources += fmt::format("[{}] Retrieved passage number {} about the topic of the question, long enough to stand "
                           "for a chunk of a document. ",
                           i, i);
    sources += std::string(180, 'x') + "\n";
  }
  r.messages = {{ChatRole::kSystem, "Answer from the sources only and cite them as [n]."},
                {ChatRole::kUser, "Sources:\n" + sources + "\nQuestion: what does the corpus say?"}};
  r.max_tokens = 256;
  r.temperature = 0.0;
  return r;
}

// The canned answer: kDeltas words as a stream (role, deltas, finish, usage, [DONE]) and the same
// text twice as a whole completion.
std::pair<std::string, std::vector<std::string>> canned_answer() {
  std::vector<std::string> events;
  std::string completion;
  std::string text;
  json stream_usage = {{"prompt_tokens", 420}, {"completion_tokens", kDeltas}, {"total_tokens", 420 + kDeltas}};
  events.push_back("data: " + json{{"object", "chat.completion.chunk"}, {"model", "bench-model"},
                                   {"choices", json::array({{{"index", 0}, {"delta", {{"role", "assistant"}}},
                                                             {"finish_reason", nullptr}}})}}
                                  .dump() +
                   "\n\n");
  for (int i = 0; i < kDeltas; ++i) {
    const std::string piece = fmt::format(" word{}", i);
    text += piece;
    events.push_back("data: " + json{{"id", "chatcmpl-bench"}, {"object", "chat.completion.chunk"},
                                     {"created", 1700000000}, {"model", "bench-model"},
                                     {"choices", json::array({{{"index", 0}, {"delta", {{"content", piece}}},
                                                               {"finish_reason", nullptr}}})}}
                                    .dump() +
                     "\n\n");
  }
  events.push_back("data: " + json{{"object", "chat.completion.chunk"}, {"model", "bench-model"},
                                   {"choices", json::array({{{"index", 0}, {"delta", json::object()},
                                                             {"finish_reason", "stop"}}})}}
                                  .dump() +
                   "\n\n");
  events.push_back("data: " + json{{"object", "chat.completion.chunk"}, {"model", "bench-model"},
                                   {"choices", json::array()}, {"usage", stream_usage}}
                                  .dump() +
                   "\n\n");
  events.push_back("data: [DONE]\n\n");
  completion = json{{"id", "chatcmpl-bench"},
                    {"object", "chat.completion"},
                    {"created", 1700000000},
                    {"model", "bench-model"},
                    {"choices", json::array({{{"index", 0},
                                              {"message", {{"role", "assistant"}, {"content", text + text}}},
                                              {"finish_reason", "stop"}}})},
                    {"usage", {{"prompt_tokens", 420}, {"completion_tokens", 128}, {"total_tokens", 548}}}}
                   .dump();
  return {std::move(completion), std::move(events)};
}

struct Server {
  bench::CannedChatServer canned;
  int port;
  Server() : Server(canned_answer()) {}
  explicit Server(std::pair<std::string, std::vector<std::string>> answer)
      : canned(std::move(answer.first), std::move(answer.second)), port(canned.port()) {}
  std::string url() const { return fmt::format("http://127.0.0.1:{}/v1", port); }
};

Server& server() {
  static Server s;
  return s;
}

std::unique_ptr<ChatModel> client() {
  auto c = make_openai_chat(fmt::format("openai:url={},model=bench-model,key_env=", server().url()));
  if (!c.ok()) std::abort();
  return std::move(c).value();
}

std::unique_ptr<httplib::Client> raw_client() {
  auto c = std::make_unique<httplib::Client>(fmt::format("http://127.0.0.1:{}", server().port));
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  return c;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double us_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

void BM_ChatOverhead(benchmark::State& state) {
  const bool stream = state.range(0) != 0;
  const ChatRequest request = bench_request();
  const std::string body = raw_body(request, stream);
  auto chat = client();
  auto raw = raw_client();
  std::vector<double> raw_us, client_us, diff_us;
  std::size_t text_bytes = 0;
  const auto delta_sink = [](std::string_view d) {
    benchmark::DoNotOptimize(d.data());
    return true;
  };
  for (auto _ : state) {
    double r = 0, c = 0;
    // Alternate which goes first, so neither always follows the other's teardown.
    for (int k = 0; k < 2; ++k) {
      if ((k == 0) == (raw_us.size() % 2 == 0)) {
        const auto t0 = Clock::now();
        auto res = raw->Post("/v1/chat/completions", body, "application/json");
        r = us_since(t0);
        if (!res || res->status != 200) {
          state.SkipWithError("raw request failed");
          return;
        }
        benchmark::DoNotOptimize(res->body.data());
      } else {
        const auto t0 = Clock::now();
        Result<ChatResponse> out = stream ? chat->stream(request, delta_sink) : chat->complete(request);
        c = us_since(t0);
        if (!out.ok()) {
          state.SkipWithError(out.error().to_string().c_str());
          return;
        }
        text_bytes = out->text.size();
      }
    }
    raw_us.push_back(r);
    client_us.push_back(c);
    diff_us.push_back(c - r);
  }
  state.counters["raw_p50_us"] = median(raw_us);
  state.counters["client_p50_us"] = median(client_us);
  state.counters["overhead_us"] = median(client_us) - median(raw_us);
  state.counters["paired_overhead_us"] = median(diff_us);
  state.counters["text_bytes"] = static_cast<double>(text_bytes);
  state.SetLabel(stream ? "stream (64 deltas)" : "complete");
}
BENCHMARK(BM_ChatOverhead)->Arg(0)->Arg(1)->Iterations(env_int("RAGFT_BENCH_REQUESTS", 2000))->UseRealTime();

// A raw POST on a new connection each time: what a client without a connection pool pays on
// loopback (TLS to a remote server costs far more).
void BM_RawFreshConnection(benchmark::State& state) {
  const std::string body = raw_body(bench_request(), false);
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    auto res = raw_client()->Post("/v1/chat/completions", body, "application/json");
    us.push_back(us_since(t0));
    if (!res || res->status != 200) {
      state.SkipWithError("raw request failed");
      return;
    }
  }
  state.counters["p50_us"] = median(us);
}
BENCHMARK(BM_RawFreshConnection)->Iterations(env_int("RAGFT_BENCH_REQUESTS", 2000))->UseRealTime();

}  // namespace
