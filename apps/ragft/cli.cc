#include "apps/ragft/cli.h"

#include <cstdio>
#include <unistd.h>

#include <fmt/format.h>

namespace ragft::cli {

Result<WorkspaceOptions> workspace_options(const Globals& g) {
  WorkspaceOptions o;
  RAGFT_TRY(o.bm25, Bm25Options::parse(g.bm25_config));
  if (!g.analyzer_config.empty()) {
    RAGFT_TRY(o.analyzer, AnalyzerOptions::parse(g.analyzer_config));
  }
  if (!g.embedder.empty()) o.dense = DenseOptions{g.embedder, g.vectors};
  if (stderr_is_tty()) {
    o.on_catch_up_progress = [](std::size_t done, std::size_t total) {
      progress_bar(done, total, 0, "changes");
    };
  }
  return o;
}

Result<Workspace> open_workspace(const Globals& g, const std::filesystem::path& dir) {
  RAGFT_TRY(WorkspaceOptions o, workspace_options(g));
  auto ws = Workspace::open(dir.empty() ? std::filesystem::path(g.data_dir) : dir, o);
  if (stderr_is_tty()) progress_done();
  return ws;
}

void add_dense_options(CLI::App* cmd, Globals& g) {
  cmd->add_option("--embedder", g.embedder,
                  "Keep a dense index with this embedder: ict or sif (trained on the corpus), "
                  "bert:path=DIR, openai:url=URL,model=NAME; recorded in the workspace");
  cmd->add_option("--vectors", g.vectors,
                  "Vector index: flat (exact), hnsw[:m=32,efc=80,efs=128] or ivf[:nlist=1024,nprobe=16]")
      ->capture_default_str();
}

int report(const Error& e) {
  fmt::print(stderr, "error: {}\n", e.to_string());
  return 1;
}

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

void progress_bar(std::size_t done, std::size_t total, double seconds, const char* unit) {
  if (!stderr_is_tty()) return;
  constexpr int kWidth = 30;
  double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
  int fill = static_cast<int>(frac * kWidth);
  double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
  fmt::print(stderr, "\r[{:=<{}}{: <{}}] {}/{} {}  {:.0f}/s  ETA {:.0f}s   ", "", fill, "", kWidth - fill,
             done, total, unit, rate, eta);
  std::fflush(stderr);
}

void train_progress_bar(const TrainProgress& p) {
  if (!stderr_is_tty()) return;
  constexpr int kWidth = 24;
  double frac = p.fraction();
  int fill = static_cast<int>(frac * kWidth);
  double eta = frac > 0 ? p.seconds * (1 - frac) / frac : 0.0;
  fmt::print(stderr, "\r{} [{:=<{}}{: <{}}] epoch {}/{} step {}/{} loss {:.4f}  ETA {:.0f}s   ", p.model, "", fill, "",
             kWidth - fill, p.epoch, p.epochs, p.step, p.steps, p.loss, eta);
  std::fflush(stderr);
}

void progress_done() {
  if (!stderr_is_tty()) return;
  fmt::print(stderr, "\r{: <80}\r", "");
  std::fflush(stderr);
}

std::uint64_t dir_bytes(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::uint64_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) n += it->file_size(ec);
  }
  return n;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace ragft::cli
