#include "serve/rate_limit.h"

#include <algorithm>

#include "core/check.h"

namespace ragft::serve {

RateLimiter::RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {
  RAGFT_CHECK(rate > 0 && burst >= 1);
}

double RateLimiter::take(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto [it, added] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!added && now > b.at) {
    b.tokens = std::min(burst_, b.tokens + std::chrono::duration<double>(now - b.at).count() * rate_);
    b.at = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return (1 - b.tokens) / rate_;
}

}  // namespace ragft::serve
