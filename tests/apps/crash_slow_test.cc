// kill -9 at random moments during `ragft index` (ingest and indexing): afterwards the store
// opens, every acknowledged document is present with its chunks, and after the next open the
// index holds exactly the store's chunks.
#include <gtest/gtest.h>

#include <csignal>
#include <fcntl.h>
#include <random>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "apps/crash_test_util.h"
#include "apps/test_util.h"
#include "store/store.h"

namespace ragft {
namespace {

using testing::make_temp_dir;
using testing::write_file;

std::string doc_text(int i, int version) {
  std::string s = "Document " + std::to_string(i) + " version " + std::to_string(version) + ". ";
  for (int k = 0; k < 40; ++k) {
    s += "word" + std::to_string((i * 7 + k * 13 + version) % 997) + " ";
    if (k % 10 == 9) s += ".\n\n";
  }
  return s;
}

struct Child {
  pid_t pid = -1;
  int out_fd = -1;
};

Child spawn_index(const std::filesystem::path& data, const std::filesystem::path& docs) {
  int fds[2];
  if (::pipe(fds) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDERR_FILENO);
    ::close(fds[0]);
    std::string bin = testing::ragft_binary().string();
    std::string d = data.string(), p = docs.string();
    ::execl(bin.c_str(), bin.c_str(), "--data", d.c_str(), "index", "--prune", "--acks", p.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

// Reads everything the child printed (after it died) and collects the acknowledged ids.
void collect_acks(int fd, std::set<std::string>& acked) {
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) all.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  std::size_t pos = 0;
  while (true) {
    std::size_t nl = all.find('\n', pos);
    if (nl == std::string::npos) break;  // a partial last line was not fully acknowledged
    std::string line = all.substr(pos, nl - pos);
    if (line.rfind("ack ", 0) == 0) acked.insert(line.substr(4));
    pos = nl + 1;
  }
}

TEST(CrashTest, KillNineDuringIndexLosesNothingAcknowledged) {
  auto root = make_temp_dir("ragft_crash_");
  auto docs = root / "docs";
  auto data = root / "ws";
  constexpr int kDocs = 400;
  for (int i = 0; i < kDocs; ++i) write_file(docs / ("d" + std::to_string(i) + ".txt"), doc_text(i, 0));

  // Calibrate: how long does a full run take?
  auto t0 = std::chrono::steady_clock::now();
  {
    auto cal_data = root / "cal";
    Child c = spawn_index(cal_data, docs);
    std::set<std::string> ignore;
    collect_acks(c.out_fd, ignore);
    int status = 0;
    ::waitpid(c.pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_EQ(ignore.size(), static_cast<std::size_t>(kDocs));
  }
  // ... and an incremental run that changes as many files as each iteration below does.
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> pick(0, kDocs - 1);
  constexpr int kChangedPerRun = 150;
  for (int j = 0; j < kChangedPerRun; ++j) {
    int i = pick(rng);
    write_file(docs / ("d" + std::to_string(i) + ".txt"), doc_text(i, 1000));
  }
  t0 = std::chrono::steady_clock::now();
  {
    Child c = spawn_index(root / "cal", docs);
    std::set<std::string> ignore;
    collect_acks(c.out_fd, ignore);
    int status = 0;
    ::waitpid(c.pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  double run_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  std::set<std::string> acked;
  // Runs until 20 runs were killed (at most 60 runs): a run that finished before its kill says
  // this machine is now faster than during the calibration, so the kill window shrinks.
  constexpr int kKills = 20;
  int kills = 0;
  for (int iter = 0; iter < 60 && kills < kKills; ++iter) {
    // Change files between runs so every run adds or changes documents.
    for (int j = 0; j < kChangedPerRun; ++j) {
      int i = pick(rng);
      write_file(docs / ("d" + std::to_string(i) + ".txt"), doc_text(i, iter + 1));
    }
    // The first run adds everything and takes longer; later ones change kChangedPerRun files.
    // Every third run may also finish (acknowledging its documents) before the kill, so acks
    // accumulate even when the machine is slower than it was during the calibration.
    std::uniform_real_distribution<double> when(0.0, iter == 0 ? run_ms * 3 : iter % 3 == 2 ? run_ms * 2 : run_ms);
    Child c = spawn_index(data, docs);
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long>(when(rng) * 1000)));
    ::kill(c.pid, SIGKILL);
    int status = 0;
    ::waitpid(c.pid, &status, 0);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      ++kills;
    } else if (iter % 3 != 2) {
      run_ms *= 0.7;
    }
    collect_acks(c.out_fd, acked);

    // The store opens and holds every acknowledged document, each with chunks.
    auto store = Store::open(data / "store.db");
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    for (const std::string& id : acked) {
      auto doc = store->find("default", id);
      ASSERT_TRUE(doc.ok()) << doc.error().to_string();
      ASSERT_TRUE(doc->has_value()) << "acknowledged document lost: " << id << " (iteration " << iter << ")";
      auto chunks = store->chunks_of((*doc)->id);
      ASSERT_TRUE(chunks.ok());
      EXPECT_FALSE(chunks->empty()) << id;
    }
  }
  EXPECT_EQ(kills, kKills);
  EXPECT_FALSE(acked.empty());

  // After the next open the index matches the store exactly.
  EXPECT_TRUE(testing::index_matches_store(data));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace ragft
