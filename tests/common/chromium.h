// Headless Chromium for tests that check what a browser makes of a page (the decide reports, the
// server's web page): finding a browser, and running it on a URL with a fresh profile. Tests
// skip (GTEST_SKIP) when find_chromium() finds none.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ragft::testing {

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// $RAGFT_CHROMIUM, then chromium-headless-shell, then a full Chromium/Chrome on PATH (or in
// /usr/bin); "" when there is none.
inline std::string find_chromium() {
  if (const char* env = std::getenv("RAGFT_CHROMIUM"); env && *env) return env;
  std::vector<std::string> dirs{"/usr/bin"};
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    for (std::string d; std::getline(ss, d, ':');) {
      if (!d.empty()) dirs.push_back(d);
    }
  }
  for (const char* name : {"chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"}) {
    for (const auto& d : dirs) {
      std::string p = d + "/" + name;
      if (::access(p.c_str(), X_OK) == 0) return p;
    }
  }
  return {};
}

// What GTEST_SKIP says when there is no browser.
inline constexpr const char* kNoChromium =
    "no headless Chromium found (looked for $RAGFT_CHROMIUM, chromium-headless-shell, chromium, chromium-browser, "
    "google-chrome); install the Debian package chromium-headless-shell";

struct Command {
  int exit_code = -1;
  std::string out;  // stdout
};

// Runs `cmd` under /bin/sh, capturing stdout.
inline Command run_command(const std::string& cmd) {
  Command r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string read_text_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One browser, run once per call with a fresh profile directory under `work_dir` (which the
// caller owns). `url` is a file:// or http:// URL; `flags` are added as given (e.g. "--dump-dom",
// "--screenshot=PATH"). Stops it after 60 s. stderr goes to a log file whose text `log()`
// returns, for failure messages.
class Chromium {
 public:
  Chromium(std::string browser, std::filesystem::path work_dir)
      : browser_(std::move(browser)), dir_(std::move(work_dir)) {}

  Command run(const std::string& url, const std::string& flags) {
    ++runs_;
    const std::filesystem::path profile = dir_ / ("profile-" + std::to_string(runs_));
    log_ = dir_ / ("chromium-" + std::to_string(runs_) + ".log");
    const std::string cmd = "timeout 60 " + shell_quote(browser_) +
                            " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"
                            " --no-default-browser-check --disable-extensions --disable-background-networking"
                            " --user-data-dir=" +
                            shell_quote(profile.string()) + " " + flags + " " + shell_quote(url) + " 2>" +
                            shell_quote(log_.string());
    return run_command(cmd);
  }
  // The stderr of the last run (at most `max` bytes).
  std::string log(std::size_t max = 2000) const { return read_text_file(log_).substr(0, max); }

 private:
  std::string browser_;
  std::filesystem::path dir_;
  std::filesystem::path log_;
  int runs_ = 0;
};

}  // namespace ragft::testing
