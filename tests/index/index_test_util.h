// Helpers shared by the lexical index tests: scratch directories and a synthetic corpus.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "index/lexical/bm25_index.h"

namespace ragft::testing_index {

// A fresh, empty directory removed at destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("ragft_index_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Draws ranks 0..n-1 with probability proportional to 1 / (rank + 1)^s.
class Zipf {
 public:
  Zipf(std::size_t n, double s) : cdf_(n) {
    double acc = 0;
    for (std::size_t i = 0; i < n; ++i) cdf_[i] = acc += 1.0 / std::pow(double(i + 1), s);
    for (auto& c : cdf_) c /= acc;
  }
  template <typename Rng>
  std::size_t operator()(Rng& rng) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return std::min<std::size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin(),
                                 cdf_.size() - 1);
  }

 private:
  std::vector<double> cdf_;
};

// prefix followed by the decimal n, e.g. tag("g", 3) == "g3".
inline std::string tag(const char* prefix, std::uint64_t n) {
  std::string s(prefix);
  s.append(std::to_string(n));
  return s;
}

inline std::string word(std::size_t rank) { return tag("w", rank); }

struct Doc {
  ChunkId id = 0;
  ChunkAttrs attrs;
  std::vector<std::string> terms;
};

}  // namespace ragft::testing_index
