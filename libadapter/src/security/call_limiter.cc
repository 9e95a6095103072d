// Token bucket per caller: `rate_limit_burst` calls at once, refilled at
// `rate_limit_per_second`. Buckets of idle callers are dropped so the map stays small.
#include "fachadapter/security/call_limiter.h"

#include <algorithm>
#include <cmath>

namespace fachadapter::security {

CallLimiter::Slot& CallLimiter::Slot::operator=(Slot&& o) noexcept {
  if (this != &o) {
    if (limiter_) limiter_->Release(key_);
    limiter_ = o.limiter_;
    key_ = std::move(o.key_);
    o.limiter_ = nullptr;
  }
  return *this;
}

CallLimiter::Slot::~Slot() {
  if (limiter_) limiter_->Release(key_);
}

CallLimiter::CallLimiter(const LimitsConfig& limits) : limits_(limits) {}

Status CallLimiter::Admit(const std::string& key, Slot* slot, std::chrono::milliseconds* retry_after) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (buckets_.size() > 10000) {
    const double burst = limits_.rate_limit_burst;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      const double secs = std::chrono::duration<double>(now - it->second.refilled).count();
      const bool full = limits_.rate_limit_per_second == 0 ||
                        it->second.tokens + secs * limits_.rate_limit_per_second >= burst;
      it = it->second.running == 0 && full ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = buckets_.try_emplace(key);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = limits_.rate_limit_burst;
    b.refilled = now;
  }
  if (b.running >= limits_.max_concurrent_calls_per_principal) {
    *retry_after = std::chrono::milliseconds(1000);
    return Status(StatusCode::kResourceExhausted,
                  "too many calls at once (limit " + std::to_string(limits_.max_concurrent_calls_per_principal) +
                      " per caller); wait for running calls to finish",
                  "TOO_MANY_CALLS", "");
  }
  if (limits_.rate_limit_per_second > 0) {
    const double secs = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min<double>(limits_.rate_limit_burst, b.tokens + secs * limits_.rate_limit_per_second);
    b.refilled = now;
    if (b.tokens < 1.0) {
      *retry_after = std::chrono::milliseconds(
          static_cast<int64_t>(std::ceil((1.0 - b.tokens) * 1000.0 / limits_.rate_limit_per_second)));
      return Status(StatusCode::kResourceExhausted,
                    "rate limit of " + std::to_string(limits_.rate_limit_per_second) +
                        " calls per second reached; retry later",
                    "RATE_LIMITED", "");
    }
    b.tokens -= 1.0;
  }
  ++b.running;
  *slot = Slot();
  slot->limiter_ = this;
  slot->key_ = key;
  return Status::OK();
}

void CallLimiter::Release(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(key);
  if (it != buckets_.end() && it->second.running > 0) --it->second.running;
}

}  // namespace fachadapter::security
