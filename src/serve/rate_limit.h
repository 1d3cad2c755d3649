// Requests per second per API key (ServeOptions::rate_limit): a token bucket per key.
//
// Each key's bucket holds at most `burst` tokens and refills at `rate` tokens per second; a
// request takes one, and a request that finds none is refused (429 rate_limited, with
// Retry-After: the whole seconds until a token is back). Buckets are keyed by the key's public
// lookup id (Identity::key_id), so a key's limit holds across its connections; requests without
// a key (keys off, /health) are not limited. Memory: one small entry per key seen.
//
// Thread-safe (one mutex: a lookup and a few arithmetic operations under it).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ragft::serve {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // rate > 0 tokens per second, burst >= 1.
  RateLimiter(double rate, double burst);

  // Takes a token of `key`'s bucket at time `now`: 0 when there was one, else the seconds until
  // one is back (> 0).
  double take(const std::string& key, Clock::time_point now);

  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point at;
  };
  const double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace ragft::serve
