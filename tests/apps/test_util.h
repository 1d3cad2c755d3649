// Helpers for tests that drive the `ragft` binary.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace ragft::testing {

inline std::filesystem::path ragft_binary() { return std::filesystem::path(RAGFT_BINARY_DIR) / "bin" / "ragft"; }

inline std::filesystem::path make_temp_dir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  char* made = ::mkdtemp(tmpl.data());
  if (!made) std::abort();
  return made;
}

inline void write_file(const std::filesystem::path& p, const std::string& content) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
}

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
};

// Runs `ragft ARGS` (ARGS already shell-quoted); stderr is dropped, or with `with_stderr`
// captured into `out` after stdout's lines as they interleave.
inline CommandResult run_ragft(const std::string& args, bool with_stderr = false) {
  std::string cmd = ragft_binary().string() + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  CommandResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// For tests whose ragft processes load libtorch (libragft_torch.so): under LeakSanitizer
// (scripts/sanitize) the leak check at exit of such a process can crash in LSan's thread tracer
// ("Tracer caught signal 11"), so the processes started from now on skip the leak check only;
// AddressSanitizer still checks them, and the library code is leak-checked in-process.
inline void skip_leak_check_in_child_processes() {
  const char* cur = std::getenv("ASAN_OPTIONS");
  std::string opts = cur ? cur : "";
  if (opts.find("detect_leaks=0") != std::string::npos) return;
  ::setenv("ASAN_OPTIONS", (opts.empty() ? std::string() : opts + ":").append("detect_leaks=0").c_str(), 1);
}

}  // namespace ragft::testing
