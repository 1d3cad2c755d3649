// `ragft serve` overhead per chat request over loopback (serve/server.h), with a fake chat model
// that answers at once (so what is measured is the server: parsing, routing, the JSON or the
// event stream it writes). Each iteration sends the same RAG-sized request three ways, in
// rotating order to cancel drift on a noisy machine:
//   bare:   a raw httplib POST to a bare httplib server that returns a fixed completion of the
//           same size (the floor: HTTP on loopback, nothing parsed)
//   serve:  a raw httplib POST to ragft's server
//   client: ragft's OpenAI chat client (generate/openai_chat.h) to ragft's server
// counters (µs, medians): bare_p50_us, serve_p50_us, client_p50_us,
//   server_overhead_us = median over iterations of (serve - bare),
//   client_overhead_us = median over iterations of (client - serve).
// Arg 0: complete; arg 1: stream (64 deltas). Built as its own binary, ragft_serve_bench;
// RAGFT_BENCH_REQUESTS sets the requests per series (default 2000).
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
#include "serve/server.h"

namespace {

using namespace ragft;
using bench::raw_body;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kDeltas = 64;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

ChatRequest bench_request() {
  ChatRequest r;
  std::string sources;
  for (int i = 1; i <= 5; ++i) {
    sources += fmt::format("[{}] Retrieved passage number {} about the topic of the question. ", i, i);
    sources += std::string(180, 'x') + "\n";
  }
  r.messages = {{ChatRole::kSystem, "Answer from the sources only and cite them as [n]."},
                {ChatRole::kUser, "Sources:\n" + sources + "\nQuestion: what does the corpus say?"}};
  r.max_tokens = 256;
  r.temperature = 0.0;
  return r;
}

std::vector<std::string> pieces() {
  std::vector<std::string> out;
  for (int i = 0; i < kDeltas; ++i) out.push_back(fmt::format(" word{}", i));
  return out;
}

// Answers at once with 64 words (streamed one per delta).
class InstantModel final : public ChatModel {
 public:
  std::string config() const override { return "instant:"; }
  Result<ChatResponse> complete(const ChatRequest&) const override {
    ChatResponse r;
    for (const auto& p : pieces_) r.text += p;
    r.finish_reason = "stop";
    r.usage = ChatUsage{420, kDeltas, 420 + kDeltas};
    return r;
  }
  Result<ChatResponse> stream(const ChatRequest& request, const ChatDeltaFn& on_delta) const override {
    for (const auto& p : pieces_) {
      if (!on_delta(p)) return make_error(ErrorCode::kCancelled, "cancelled");
    }
    return complete(request);
  }

 private:
  const std::vector<std::string> pieces_ = pieces();
};

// The canned answer of the same shape as the served one, whole and streamed.
std::pair<std::string, std::vector<std::string>> bare_answer() {
  std::string completion;
  std::vector<std::string> events;
  auto m = InstantModel();
  ChatResponse r = *m.complete({});
  completion = json{{"id", "chatcmpl-0123456789abcdef01234567"}, {"object", "chat.completion"},
                    {"created", 1700000000}, {"model", "bench-model"},
                    {"choices", json::array({{{"index", 0}, {"message", {{"role", "assistant"}, {"content", r.text}}},
                                              {"logprobs", nullptr}, {"finish_reason", "stop"}}})},
                    {"usage", {{"prompt_tokens", 420}, {"completion_tokens", kDeltas}, {"total_tokens", 420 + kDeltas}}}}
                   .dump();
  auto chunk = [](const json& delta, const json& finish) {
    return "data: " +
           json{{"id", "chatcmpl-0123456789abcdef01234567"}, {"object", "chat.completion.chunk"},
                {"created", 1700000000}, {"model", "bench-model"},
                {"choices", json::array({{{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", finish}}})}}
               .dump() +
           "\n\n";
  };
  events.push_back(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
  for (const auto& p : pieces()) events.push_back(chunk({{"content", p}}, nullptr));
  events.push_back(chunk(json::object(), "stop"));
  events.push_back("data: [DONE]\n\n");
  return {std::move(completion), std::move(events)};
}

// The floor: a bare httplib server writing a precomputed answer of the same shape.
struct Bare {
  bench::CannedChatServer canned;
  int port;
  Bare() : Bare(bare_answer()) {}
  explicit Bare(std::pair<std::string, std::vector<std::string>> answer)
      : canned(std::move(answer.first), std::move(answer.second)), port(canned.port()) {}
};

struct Served {
  std::unique_ptr<serve::Server> server;
  Served() {
    serve::ServeOptions o;
    o.port = 0;
    serve::ServeComponents c;
    c.chat = std::make_shared<InstantModel>();
    auto made = serve::Server::make(o, std::move(c));
    if (!made.ok() || !(*made)->start().ok()) std::abort();
    server = std::move(*made);
  }
};

std::unique_ptr<httplib::Client> raw_client(int port) {
  auto c = std::make_unique<httplib::Client>(fmt::format("http://127.0.0.1:{}", port));
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

void BM_ServeOverhead(benchmark::State& state) {
  const bool stream = state.range(0) != 0;
  static Bare bare;
  static Served served;
  const ChatRequest request = bench_request();
  const std::string body = raw_body(request, stream);
  auto to_bare = raw_client(bare.port);
  auto to_serve = raw_client(served.server->port());
  auto chat = make_openai_chat(
      fmt::format("openai:url=http://127.0.0.1:{}/v1,model=bench-model,key_env=", served.server->port()));
  if (!chat.ok()) std::abort();
  std::vector<double> bare_us, serve_us, client_us, server_diff, client_diff;
  const auto delta_sink = [](std::string_view d) {
    benchmark::DoNotOptimize(d.data());
    return true;
  };
  std::size_t i = 0;
  for (auto _ : state) {
    double t[3] = {0, 0, 0};
    for (int k = 0; k < 3; ++k) {
      const int which = static_cast<int>((i + k) % 3);
      const auto t0 = Clock::now();
      if (which < 2) {
        auto res = (which == 0 ? to_bare : to_serve)->Post("/v1/chat/completions", body, "application/json");
        t[which] = us_since(t0);
        if (!res || res->status != 200) {
          state.SkipWithError("raw request failed");
          return;
        }
        benchmark::DoNotOptimize(res->body.data());
      } else {
        Result<ChatResponse> out = stream ? (*chat)->stream(request, delta_sink) : (*chat)->complete(request);
        t[2] = us_since(t0);
        if (!out.ok()) {
          state.SkipWithError(out.error().to_string().c_str());
          return;
        }
      }
    }
    ++i;
    bare_us.push_back(t[0]);
    serve_us.push_back(t[1]);
    client_us.push_back(t[2]);
    server_diff.push_back(t[1] - t[0]);
    client_diff.push_back(t[2] - t[1]);
  }
  state.counters["bare_p50_us"] = median(bare_us);
  state.counters["serve_p50_us"] = median(serve_us);
  state.counters["client_p50_us"] = median(client_us);
  state.counters["server_overhead_us"] = median(server_diff);
  state.counters["client_overhead_us"] = median(client_diff);
  state.SetLabel(stream ? "stream (64 deltas)" : "complete");
}
BENCHMARK(BM_ServeOverhead)->Arg(0)->Arg(1)->Iterations(env_int("RAGFT_BENCH_REQUESTS", 2000))->UseRealTime();

}  // namespace
