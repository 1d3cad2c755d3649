#include "serve/metrics.h"

#include <cmath>

#include <fmt/format.h>

namespace ragft::serve {

ServeMetrics::ServeMetrics(std::vector<std::pair<std::string, std::string>> routes)
    : routes_(std::move(routes)), series_(new Series[routes_.size()]) {}

void ServeMetrics::record(std::size_t route, int status, double seconds) {
  if (route >= routes_.size()) return;
  Series& s = series_[route];
  const int cls = status >= 100 && status < 600 ? status / 100 : 0;
  s.by_class[static_cast<std::size_t>(cls)].fetch_add(1, std::memory_order_relaxed);
  std::size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  s.buckets[b].fetch_add(1, std::memory_order_relaxed);
  const double us = std::max(0.0, seconds) * 1e6;
  s.sum_us.fetch_add(static_cast<std::uint64_t>(std::llround(us)), std::memory_order_relaxed);
}

std::string ServeMetrics::render(double uptime_seconds) const {
  std::string out;
  out += "# HELP ragft_http_requests_total Requests answered, by route and status class.\n";
  out += "# TYPE ragft_http_requests_total counter\n";
  static constexpr const char* kClass[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (std::size_t r = 0; r < routes_.size(); ++r) {
    for (std::size_t c = 0; c < 6; ++c) {
      const std::uint64_t n = series_[r].by_class[c].load(std::memory_order_relaxed);
      if (n == 0 && c != 2) continue;  // 2xx always shown, so every route appears
      out += fmt::format("ragft_http_requests_total{{method=\"{}\",route=\"{}\",code=\"{}\"}} {}\n", routes_[r].first,
                         routes_[r].second, kClass[c], n);
    }
  }
  out += "# HELP ragft_http_request_duration_seconds Time until the response headers (a stream's first delta).\n";
  out += "# TYPE ragft_http_request_duration_seconds histogram\n";
  for (std::size_t r = 0; r < routes_.size(); ++r) {
    const Series& s = series_[r];
    const std::string labels = fmt::format("method=\"{}\",route=\"{}\"", routes_[r].first, routes_[r].second);
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += s.buckets[b].load(std::memory_order_relaxed);
      out += fmt::format("ragft_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels, kBuckets[b], cumulative);
    }
    cumulative += s.buckets[kBuckets.size()].load(std::memory_order_relaxed);
    out += fmt::format("ragft_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels, cumulative);
    out += fmt::format("ragft_http_request_duration_seconds_sum{{{}}} {}\n", labels,
                       static_cast<double>(s.sum_us.load(std::memory_order_relaxed)) / 1e6);
    out += fmt::format("ragft_http_request_duration_seconds_count{{{}}} {}\n", labels, cumulative);
  }
  out += "# HELP ragft_http_requests_in_flight Requests being answered now.\n";
  out += "# TYPE ragft_http_requests_in_flight gauge\n";
  out += fmt::format("ragft_http_requests_in_flight {}\n", in_flight_.load(std::memory_order_relaxed));
  out += "# HELP ragft_process_uptime_seconds Seconds since the server started.\n";
  out += "# TYPE ragft_process_uptime_seconds gauge\n";
  out += fmt::format("ragft_process_uptime_seconds {}\n", uptime_seconds);
  return out;
}

}  // namespace ragft::serve
