// `ragft serve` as a child process of a test.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/test_util.h"

namespace ragft::testing {

// `ragft ARGS...` as a child process (RAGFT_LOG=warn, stderr discarded): start() reads the
// {"url": ..., "port": N, ...} line `serve --json` prints; stop() sends SIGTERM and returns the
// exit status (-1 when it did not exit normally).
struct ServeProcess {
  pid_t pid = -1;
  int port = 0;
  nlohmann::json started;  // the line serve printed

  std::string url() const { return started["url"].get<std::string>(); }

  void start(const std::vector<std::string>& args) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const std::string bin = testing::ragft_binary().string();
    std::vector<char*> argv{const_cast<char*>(bin.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid = ::fork();
    if (pid == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, STDERR_FILENO);
      ::close(fds[0]);
      ::setenv("RAGFT_LOG", "warn", 1);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string line;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(fds[0]);
    ASSERT_FALSE(line.empty()) << "ragft serve printed nothing";
    started = nlohmann::json::parse(line);
    port = started["port"].get<int>();
    ASSERT_GT(port, 0);
  }
  int stop() {
    if (pid <= 0 || ::kill(pid, SIGTERM) != 0) return -1;
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // SIGKILL: no draining, no cleanup. Returns true when the process died of it.
  bool kill9() {
    if (pid <= 0 || ::kill(pid, SIGKILL) != 0) return false;
    int status = 0;
    const bool reaped = ::waitpid(pid, &status, 0) == pid;
    pid = -1;
    return reaped && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  }
  ~ServeProcess() {
    if (pid > 0) stop();
  }
};

}  // namespace ragft::testing
