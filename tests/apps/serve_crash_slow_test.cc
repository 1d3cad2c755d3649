// kill -9 of `ragft serve` while clients write documents through POST /v1/documents and
// POST /v1/documents/delete: after each kill the store holds every acknowledged document with the
// acknowledged text (and none whose delete was acknowledged), a restarted server answers
// searches for them, and its index holds exactly the store's chunks.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "apps/crash_test_util.h"
#include "apps/serve_process.h"
#include "apps/test_util.h"
#include "store/store.h"

namespace ragft {
namespace {

using nlohmann::json;
using testing::make_temp_dir;
using testing::ServeProcess;

// A word only one document holds: letters only (so the analyzer keeps it whole) and ending in x
// (so the stemmer strips no suffix that would make two markers one).
std::string marker(int writer, int n) {
  std::string s = "mk";
  for (int v : {writer, n / 676, (n / 26) % 26, n % 26}) s += static_cast<char>('a' + v % 26);
  return s + "x";
}

// What one writer thread was told, and what it had in flight when the server died.
struct WriterLog {
  std::map<std::string, std::string> acked_text;  // id -> text of its acknowledged upsert
  std::set<std::string> acked_deleted;            // ids whose delete was acknowledged
  std::set<std::string> in_flight;                // ids of the request that got no answer
  // Ids whose delete got no answer: it may have landed before the kill, so from then on the
  // document may or may not exist (and is not written again).
  std::set<std::string> maybe_deleted;
};

// Writes batches of new documents and deletes some acknowledged ones, until a request fails.
void write_until_killed(int port, int writer, int round, WriterLog& log, std::atomic<int>& acks) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(30, 0);
  std::mt19937 rng(static_cast<unsigned>(writer * 1000 + round));
  int n = 0;
  std::vector<std::string> live;
  for (const auto& [id, text] : log.acked_text) {
    if (!log.acked_deleted.count(id) && !log.maybe_deleted.count(id)) live.push_back(id);
  }
  while (true) {
    const bool remove = !live.empty() && rng() % 4 == 0;
    json body;
    std::vector<std::pair<std::string, std::string>> batch;  // id, text
    if (remove) {
      const std::string id = live[rng() % live.size()];
      body = {{"ids", {id}}};
      batch.emplace_back(id, "");
    } else {
      body = {{"documents", json::array()}};
      const int size = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < size; ++i, ++n) {
        const std::string id = fmt::format("w{}/r{}/d{}", writer, round, n);
        const std::string text = fmt::format("Document {} holds the marker {} and some filler words about rocks.", id,
                                             marker(writer, round * 1000 + n));
        body["documents"].push_back({{"id", id}, {"text", text}});
        batch.emplace_back(id, text);
      }
    }
    auto r = cli.Post(remove ? "/v1/documents/delete" : "/v1/documents", body.dump(), "application/json");
    if (!r || r->status != 200) {
      for (const auto& [id, text] : batch) {
        log.in_flight.insert(id);
        if (remove) log.maybe_deleted.insert(id);
      }
      return;  // the server died (or refused): stop
    }
    for (const auto& [id, text] : batch) {
      if (remove) {
        log.acked_deleted.insert(id);
        live.erase(std::find(live.begin(), live.end(), id));
      } else {
        log.acked_text[id] = text;
        live.push_back(id);
      }
    }
    ++acks;
  }
}

TEST(ServeCrashTest, KillNineDuringApiWritesLosesNothingAcknowledged) {
  const auto root = make_temp_dir("ragft_serve_crash_");
  const std::string data = (root / "ws").string();
  constexpr int kWriters = 4, kRounds = 12;
  std::vector<WriterLog> logs(kWriters);
  std::mt19937 rng(4242);
  int kills = 0;
  for (int round = 0; round < kRounds; ++round) {
    ServeProcess serve;
    ASSERT_NO_FATAL_FAILURE(serve.start({"--data", data, "--json", "serve", "--create", "--port", "0"}));
    std::atomic<int> acks{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] { write_until_killed(serve.port, w, round, logs[w], acks); });
    }
    // Let some writes be acknowledged, then kill at a random moment.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);  // a hang guard only
    while (acks < 5 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_GE(acks.load(), 5) << "the server acknowledged no writes";
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 300)(rng)));
    if (serve.kill9()) ++kills;
    for (auto& t : writers) t.join();

    // Every acknowledged write is in the store, whatever was in flight.
    auto store = Store::open(root / "ws" / "store.db");
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    std::size_t checked = 0;
    for (const WriterLog& log : logs) {
      for (const auto& [id, text] : log.acked_text) {
        if (log.maybe_deleted.count(id)) continue;  // a delete of it may or may not have landed
        auto doc = store->find("default", id);
        ASSERT_TRUE(doc.ok()) << doc.error().to_string();
        if (log.acked_deleted.count(id)) {
          EXPECT_FALSE(doc->has_value()) << "acknowledged delete undone: " << id << " (round " << round << ")";
          continue;
        }
        ASSERT_TRUE(doc->has_value()) << "acknowledged document lost: " << id << " (round " << round << ")";
        EXPECT_EQ((*doc)->text, text) << id;
        ++checked;
      }
    }
    EXPECT_GT(checked, 0u);
    for (WriterLog& log : logs) log.in_flight.clear();
  }
  EXPECT_GE(kills, kRounds - 1);
  std::size_t acked_docs = 0, acked_deletes = 0, unknown = 0;
  for (const WriterLog& log : logs) {
    acked_docs += log.acked_text.size();
    acked_deletes += log.acked_deleted.size();
    unknown += log.maybe_deleted.size();
  }
  std::printf("%d kills; %zu documents and %zu deletes acknowledged, %zu deletes cut off\n", kills, acked_docs,
              acked_deletes, unknown);

  // A restarted server finds acknowledged documents by their markers, and its index equals the
  // store.
  ServeProcess serve;
  ASSERT_NO_FATAL_FAILURE(serve.start({"--data", data, "--json", "serve", "--port", "0"}));
  httplib::Client cli("127.0.0.1", serve.port);
  int searched = 0;
  for (int w = 0; w < kWriters; ++w) {
    int picked = 0;
    for (const auto& [id, text] : logs[w].acked_text) {
      if (logs[w].acked_deleted.count(id) || logs[w].maybe_deleted.count(id) || picked++ % 7 != 0) continue;
      const std::string mk = text.substr(text.find("marker ") + 7, 7);
      auto r = cli.Post("/v1/search", json{{"query", mk}, {"k", 5}}.dump(), "application/json");
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body;
      const json hits = json::parse(r->body)["hits"];
      ASSERT_FALSE(hits.empty()) << mk << " of " << id;
      EXPECT_EQ(hits[0]["doc_id"], id);
      ++searched;
    }
  }
  EXPECT_GT(searched, 0);
  EXPECT_EQ(serve.stop(), 0);
  EXPECT_TRUE(testing::index_matches_store(root / "ws"));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace ragft
