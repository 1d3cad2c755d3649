// Request metrics of the server in Prometheus' text exposition format (GET /metrics):
//
//   ragft_http_requests_total{method,route,code}        counter; code is the status class: 2xx, 4xx, 5xx
//   ragft_http_request_duration_seconds{method,route}   histogram: time until the response's
//       headers (for a streamed reply, until its first delta), buckets 1 ms .. 10 s
//   ragft_http_requests_in_flight                       gauge
//   ragft_process_uptime_seconds                        gauge
//
// Only the server's own routes are counted (httplib's 404s and 413s are not). The figures are
// counts and durations of requests, never of documents, so they reveal nothing of any tenant's
// data; with API keys on, /metrics still needs an admin key.
//
// Thread-safe: record() and the in-flight counter are lock-free atomics (relaxed: a scrape may
// see a request counted in one series and not yet in another).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ragft::serve {

class ServeMetrics {
 public:
  // Upper bounds of the duration histogram's buckets, in seconds (then +Inf).
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1,    2.5,   10};

  // One series set per (method, route), in the order given; record() takes its index.
  explicit ServeMetrics(std::vector<std::pair<std::string, std::string>> routes);

  void record(std::size_t route, int status, double seconds);
  void begin() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void end() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

  // The exposition text ("# HELP", "# TYPE" and samples; ends with a newline).
  std::string render(double uptime_seconds) const;

 private:
  struct Series {
    std::array<std::atomic<std::uint64_t>, 6> by_class{};  // index status / 100 (0: anything else)
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};  // not cumulative; last: +Inf
    std::atomic<std::uint64_t> sum_us{0};
  };
  std::vector<std::pair<std::string, std::string>> routes_;
  std::unique_ptr<Series[]> series_;
  std::atomic<std::int64_t> in_flight_{0};
};

}  // namespace ragft::serve
