// raw_body(): the body ragft's OpenAI client sends for a request (same fields, same size), for
// raw POSTs. CannedChatServer: a bare cpp-httplib server on loopback that answers POST /v1/chat/completions with a
// precomputed reply: `completion` as JSON, or, when the body asks for "stream":true, `events`
// (server-sent-event frames, one write each). The floor the chat client's and the server's
// overhead benches measure against.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "generate/chat.h"

namespace ragft::bench {

inline std::string raw_body(const ChatRequest& r, bool stream) {
  using nlohmann::json;
  json messages = json::array();
  for (const auto& m : r.messages) messages.push_back({{"role", chat_role_name(m.role)}, {"content", m.content}});
  json j = {{"model", "bench-model"}, {"messages", messages}, {"n", 1}, {"stream", stream},
            {"max_tokens", r.max_tokens}, {"temperature", r.temperature.value_or(0.0)}};
  if (stream) j["stream_options"] = {{"include_usage", true}};
  return j.dump();
}

class CannedChatServer {
 public:
  CannedChatServer(std::string completion, std::vector<std::string> events)
      : completion_(std::move(completion)), events_(std::move(events)) {
    svr_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.body.find("\"stream\":true") == std::string::npos) {
        res.set_content(completion_, "application/json");
        return;
      }
      res.set_chunked_content_provider("text/event-stream", [this](std::size_t, httplib::DataSink& sink) {
        for (const auto& e : events_) {
          if (!sink.write(e.data(), e.size())) return false;
        }
        sink.done();
        return true;
      });
    });
    svr_.set_tcp_nodelay(true);
    port_ = svr_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) std::abort();
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~CannedChatServer() {
    svr_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  std::string completion_;
  std::vector<std::string> events_;
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace ragft::bench
