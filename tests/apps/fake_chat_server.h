// A scripted OpenAI-compatible chat server on loopback for the CLI tests: every
// /v1/chat/completions request gets the same reply (with usage 90 + 12 tokens) and its body is
// recorded.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace ragft::testing {

class ChatServer {
 public:
  explicit ChatServer(std::string reply) : reply_(std::move(reply)) {
    svr_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        bodies_.push_back(nlohmann::json::parse(req.body));
      }
      nlohmann::json out = {{"id", "x"},
                            {"object", "chat.completion"},
                            {"model", "fake"},
                            {"choices", {{{"index", 0},
                                          {"message", {{"role", "assistant"}, {"content", reply_}}},
                                          {"finish_reason", "stop"}}}},
                            {"usage", {{"prompt_tokens", 90}, {"completion_tokens", 12}, {"total_tokens", 102}}}};
      res.set_content(out.dump(), "application/json");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) std::abort();
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ChatServer() {
    svr_.stop();
    thread_.join();
  }
  std::string config() const { return "openai:url=http://127.0.0.1:" + std::to_string(port_) + "/v1,model=fake,key_env="; }
  std::vector<nlohmann::json> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  std::string reply_;
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<nlohmann::json> bodies_;
};

}  // namespace ragft::testing
