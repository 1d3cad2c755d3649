// A short load test of `ragft serve` on loopback with wrk (bench/e2e/serve_load.sh is the long
// one): 64 connections for a few seconds of POST /v1/search on a workspace built here, with
// bench/e2e/serve_search.lua checking every response. It asserts what must hold under load:
// no socket error, no timeout, no non-2xx answer, and every response a search result with hits.
// Throughput and latency are printed, never asserted (they depend on the machine and its load).
// The checker itself is checked: a request mix with bad bodies, or a wrong route, must not pass.
// Skipped when wrk is not installed (scripts/setup installs it).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/serve_process.h"
#include "apps/test_util.h"

namespace ragft {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::make_temp_dir;
using testing::quote;
using testing::run_ragft;
using testing::ServeProcess;
using testing::write_file;

bool have_wrk() { return std::system("command -v wrk > /dev/null 2>&1") == 0; }

// wrk with serve_search.lua; the JSON its done() prints (null when it printed none).
json run_wrk(const std::string& url, const fs::path& bodies, int connections, int seconds,
             const std::string& path = "/v1/search") {
  const fs::path script = fs::path(RAGFT_SOURCE_DIR) / "bench" / "e2e" / "serve_search.lua";
  const std::string cmd = "wrk -c " + std::to_string(connections) + " -t 2 -d " + std::to_string(seconds) +
                          "s --timeout 10s -s " + quote(script.string()) + " " + quote(url) + " -- " +
                          quote(bodies.string()) + " " + quote(path) + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return json();
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  const std::string marker = "ragft_load_result: ";
  const std::size_t at = out.find(marker);
  if (at == std::string::npos) {
    ADD_FAILURE() << "wrk printed no result:\n" << out;
    return json();
  }
  const std::size_t end = out.find('\n', at);
  return json::parse(out.substr(at + marker.size(), end == std::string::npos ? std::string::npos : end - at - marker.size()));
}

// A corpus of made-up words (no stopwords among them), every query drawn from its vocabulary so
// every search has hits.
struct Corpus {
  std::vector<std::string> vocabulary;
  std::string jsonl;
  std::vector<std::string> queries;
};
Corpus make_corpus(int docs, int queries) {
  const std::vector<std::string> syllables = {"ka", "lo", "mi", "ne", "ru", "ta", "zi", "po", "sef", "dun"};
  Corpus c;
  for (const auto& a : syllables) {
    for (const auto& b : syllables) {
      for (const auto& d : {"ral", "mox", "tin"}) c.vocabulary.push_back(a + b + d);
    }
  }
  std::mt19937 rng(2024);
  auto word = [&] { return c.vocabulary[rng() % c.vocabulary.size()]; };
  for (int i = 0; i < docs; ++i) {
    std::string text;
    for (int w = 0; w < 80; ++w) {
      if (w > 0) text += w % 12 == 0 ? ". " : " ";
      text += word();
    }
    c.jsonl += json({{"_id", "doc" + std::to_string(i)}, {"title", word() + " " + word()}, {"text", text + "."}}).dump();
    c.jsonl += '\n';
  }
  for (int q = 0; q < queries; ++q) c.queries.push_back(word() + " " + word() + " " + word());
  return c;
}

class ServeLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_wrk()) GTEST_SKIP() << "wrk is not installed (scripts/setup installs it)";
    root_ = make_temp_dir("ragft_load_");
    corpus_ = make_corpus(400, 60);
    write_file(root_ / "corpus.jsonl", corpus_.jsonl);
    data_ = (root_ / "ws").string();
    ASSERT_EQ(run_ragft("--data " + quote(data_) + " index " + quote((root_ / "corpus.jsonl").string())).exit_code, 0);
    std::string bodies;
    for (const auto& q : corpus_.queries) bodies += json({{"query", q}, {"k", 10}}).dump() + "\n";
    bodies_ = root_ / "bodies.jsonl";
    write_file(bodies_, bodies);
  }
  void TearDown() override {
    if (!root_.empty()) fs::remove_all(root_);
  }

  fs::path root_;
  Corpus corpus_;
  std::string data_;
  fs::path bodies_;
};

TEST_F(ServeLoadTest, SixtyFourConnectionsGetOnlyValidSearchResults) {
  ServeProcess serve;
  ASSERT_NO_FATAL_FAILURE(serve.start({"--data", data_, "--json", "serve", "--port", "0"}));
  EXPECT_GE(serve.started["threads"].get<int>(), 64) << "the default threads cannot hold 64 connections";

  // What the script counts as valid is what a search result is: check one response by hand.
  {
    httplib::Client client("127.0.0.1", serve.started["port"].get<int>());
    const auto res = client.Post("/v1/search", json({{"query", corpus_.queries[0]}, {"k", 10}}).dump(),
                                 "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const json j = json::parse(res->body);
    EXPECT_EQ(j["object"], "search.result");
    ASSERT_FALSE(j["hits"].empty()) << res->body;
    EXPECT_EQ(j["hits"][0]["rank"], 1);
    EXPECT_NE(res->body.find("\"object\":\"search.result\""), std::string::npos);
    EXPECT_NE(res->body.find("\"rank\":1,"), std::string::npos);
  }

  const json r = run_wrk(serve.url(), bodies_, 64, 6);
  ASSERT_TRUE(r.is_object());
  std::cout << "load: 64 connections, 6 s: " << r["rps"] << " requests/s, p50 " << r["latency_ms"]["p50"]
            << " ms, p99 " << r["latency_ms"]["p99"] << " ms, max " << r["latency_ms"]["max"] << " ms, "
            << r["requests"] << " requests\n";
  const std::int64_t requests = r["requests"].get<std::int64_t>();
  EXPECT_GT(requests, 0);
  EXPECT_EQ(r["socket_errors"]["connect"], 0) << r;
  EXPECT_EQ(r["socket_errors"]["read"], 0) << r;
  EXPECT_EQ(r["socket_errors"]["write"], 0) << r;
  EXPECT_EQ(r["socket_errors"]["timeout"], 0) << r;
  EXPECT_EQ(r["status_errors"], 0) << r;
  EXPECT_EQ(r["non_2xx"], 0) << r;
  EXPECT_EQ(r["invalid"], 0) << r;
  EXPECT_EQ(r["valid"].get<std::int64_t>(), requests) << r;
  EXPECT_EQ(r["statuses"], json({{"200", requests}})) << r;
  EXPECT_EQ(r["bodies"], corpus_.queries.size());
  EXPECT_EQ(serve.stop(), 0);  // SIGTERM after the load: drains and exits 0
}

// The checker is not fooled: bad bodies among good ones, and a wrong route, are counted as
// what they are, never as valid search results.
TEST_F(ServeLoadTest, AWrongRequestMixIsNotCountedAsSuccess) {
  ServeProcess serve;
  ASSERT_NO_FATAL_FAILURE(serve.start({"--data", data_, "--json", "serve", "--port", "0"}));
  std::string mixed;
  mixed += json({{"query", corpus_.queries[0]}, {"k", 10}}).dump() + "\n";
  mixed += json({{"query", "   "}}).dump() + "\n";                           // 400: empty query
  mixed += json({{"query", corpus_.queries[1]}, {"k", 0}}).dump() + "\n";    // 400: k out of range
  mixed += json({{"query", "zzzzqqqq"}, {"k", 10}}).dump() + "\n";          // 200 but no hits
  mixed += "{not json\n";                                                   // 400: not JSON
  const fs::path bad = root_ / "mixed.jsonl";
  write_file(bad, mixed);
  json r = run_wrk(serve.url(), bad, 4, 1);
  ASSERT_TRUE(r.is_object());
  const std::int64_t requests = r["requests"].get<std::int64_t>();
  ASSERT_GE(requests, 5);
  EXPECT_GT(r["valid"].get<std::int64_t>(), 0) << r;
  EXPECT_GT(r["invalid"].get<std::int64_t>(), 0) << r;
  EXPECT_EQ(r["valid"].get<std::int64_t>() + r["invalid"].get<std::int64_t>(), requests) << r;
  EXPECT_GT(r["non_2xx"].get<std::int64_t>(), 0) << r;
  EXPECT_GT(r["statuses"].value("400", 0), 0) << r;
  EXPECT_GT(r["statuses"].value("200", 0), r["valid"].get<std::int64_t>()) << "the hitless 200s are not valid: " << r;

  // Good bodies on a route that is not search: 404s, none valid.
  r = run_wrk(serve.url(), bodies_, 4, 1, "/v1/searches");
  ASSERT_TRUE(r.is_object());
  EXPECT_GT(r["requests"].get<std::int64_t>(), 0);
  EXPECT_EQ(r["valid"], 0) << r;
  EXPECT_EQ(r["non_2xx"], r["requests"]) << r;
  EXPECT_EQ(r["statuses"].value("404", 0), r["requests"].get<std::int64_t>()) << r;
  EXPECT_EQ(serve.stop(), 0);
}

}  // namespace
}  // namespace ragft
