// Durable ingest through `ragft serve`'s API: SciFact's documents POSTed to /v1/documents by C
// concurrent clients in batches of B documents each, over loopback, into a fresh workspace. A
// request is answered when its documents are committed to the store (fsynced) and searchable
// (serve/ingestor.h), so docs/s here is durable, visible documents per second.
//
//   serve_ingest [--corpus data/scifact/corpus.jsonl.gz] [--docs N] [--batch 1,10,100]
//                [--clients 1,4,16] [--dir DIR]
//
// One JSON line per (batch, clients): docs, requests, seconds (first request sent to last
// answer), docs_per_s, request p50/p99 ms, store commit groups (several requests share one
// when they arrive together), and a check that the store holds every document afterwards.
// Request bodies are built before the clock starts.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "evaluate/latency.h"
#include "ingest/loader.h"
#include "serve/ingestor.h"
#include "serve/server.h"

using namespace ragft;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<int> int_list(const std::string& s) {
  std::vector<int> out;
  std::size_t at = 0;
  while (at <= s.size()) {
    const std::size_t comma = std::min(s.find(',', at), s.size());
    out.push_back(std::stoi(s.substr(at, comma - at)));
    at = comma + 1;
  }
  return out;
}

int run(int argc, char** argv) {
  std::string corpus = "data/scifact/corpus.jsonl.gz", dir;
  std::size_t max_docs = 0;
  std::vector<int> batches{1, 10, 100}, clients{1, 4, 16};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--corpus") corpus = value;
    else if (flag == "--docs") max_docs = std::stoul(value);
    else if (flag == "--batch") batches = int_list(value);
    else if (flag == "--clients") clients = int_list(value);
    else if (flag == "--dir") dir = value;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  auto loaded = load_file(corpus);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.error().to_string().c_str());
    return 1;
  }
  std::vector<LoadedDocument>& docs = loaded->documents;
  if (max_docs > 0 && docs.size() > max_docs) docs.resize(max_docs);
  const fs::path root = dir.empty() ? fs::temp_directory_path() / fmt::format("ragft_serve_ingest_{}", ::getpid()) : fs::path(dir);

  for (int batch : batches) {
    for (int n_clients : clients) {
      const fs::path ws_dir = root / fmt::format("b{}_c{}", batch, n_clients);
      fs::remove_all(ws_dir);
      if (auto ws = Workspace::open(ws_dir); !ws.ok()) {
        std::fprintf(stderr, "%s\n", ws.error().to_string().c_str());
        return 1;
      }
      auto opened = serve::WorkspacePool::open(ws_dir, {});
      if (!opened.ok()) {
        std::fprintf(stderr, "%s\n", opened.error().to_string().c_str());
        return 1;
      }
      std::shared_ptr<serve::WorkspacePool> pool = std::move(*opened);
      auto ingestor = serve::Ingestor::start(pool);
      if (!ingestor.ok()) {
        std::fprintf(stderr, "%s\n", ingestor.error().to_string().c_str());
        return 1;
      }
      serve::ServeComponents c;
      c.workspaces = pool;
      c.ingestor = std::move(*ingestor);
      serve::ServeOptions o;
      o.port = 0;
      o.threads = n_clients + 2;
      o.max_body_bytes = std::size_t{64} << 20;
      auto server = serve::Server::make(o, c);
      if (!server.ok() || !(*server)->start().ok()) {
        std::fprintf(stderr, "cannot start the server\n");
        return 1;
      }
      // Client k sends batches k, k + C, k + 2C, ...
      std::vector<std::string> bodies;
      for (std::size_t at = 0; at < docs.size(); at += static_cast<std::size_t>(batch)) {
        json body = {{"documents", json::array()}};
        for (std::size_t i = at; i < std::min(docs.size(), at + static_cast<std::size_t>(batch)); ++i) {
          body["documents"].push_back({{"id", docs[i].ext_id}, {"title", docs[i].title}, {"text", docs[i].text}});
        }
        bodies.push_back(body.dump());
      }
      std::vector<std::vector<double>> latencies(static_cast<std::size_t>(n_clients));
      std::vector<int> failures(static_cast<std::size_t>(n_clients), 0);
      const int port = (*server)->port();
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<std::thread> threads;
      for (int k = 0; k < n_clients; ++k) {
        threads.emplace_back([&, k] {
          httplib::Client cli("127.0.0.1", port);
          cli.set_read_timeout(120, 0);
          for (std::size_t b = static_cast<std::size_t>(k); b < bodies.size(); b += static_cast<std::size_t>(n_clients)) {
            const auto r0 = std::chrono::steady_clock::now();
            auto r = cli.Post("/v1/documents", bodies[b], "application/json");
            latencies[static_cast<std::size_t>(k)].push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - r0).count());
            if (!r || r->status != 200) ++failures[static_cast<std::size_t>(k)];
          }
        });
      }
      for (auto& t : threads) t.join();
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::vector<double> all;
      for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
      int failed = 0;
      for (int f : failures) failed += f;
      const std::size_t groups = c.ingestor->groups();
      (*server)->stop();
      c.ingestor->stop();
      auto store = Store::open(ws_dir / "store.db");
      auto stats = store.ok() ? store->stats() : Result<StoreStats>(store.error());
      json line = {{"bench", "serve_ingest"},
                   {"corpus", fs::path(corpus).filename().string()},
                   {"docs", docs.size()},
                   {"batch", batch},
                   {"clients", n_clients},
                   {"requests", bodies.size()},
                   {"failed_requests", failed},
                   {"seconds", seconds},
                   {"docs_per_s", static_cast<double>(docs.size()) / seconds},
                   {"request_p50_ms", percentile(all, 0.5)},
                   {"request_p99_ms", percentile(all, 0.99)},
                   {"commit_groups", groups},
                   {"stored_docs", stats.ok() ? static_cast<std::int64_t>(stats->documents) : -1}};
      std::printf("%s\n", line.dump().c_str());
      std::fflush(stdout);
      fs::remove_all(ws_dir);
    }
  }
  if (dir.empty()) fs::remove_all(root);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
