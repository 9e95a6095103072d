// Per-caller limits: concurrent calls (including open streams) and a token-bucket rate.
#ifndef FACHADAPTER_SECURITY_CALL_LIMITER_H_
#define FACHADAPTER_SECURITY_CALL_LIMITER_H_

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "fachadapter/config.h"
#include "fachadapter/export.h"
#include "fachadapter/status.h"

namespace fachadapter::security {

/// Admits calls per caller. Thread-safe.
class FACHADAPTER_API CallLimiter {
 public:
  /// A call slot; returned to the limiter on destruction.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& o) noexcept : limiter_(o.limiter_), key_(std::move(o.key_)) { o.limiter_ = nullptr; }
    Slot& operator=(Slot&& o) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();

   private:
    friend class CallLimiter;
    CallLimiter* limiter_ = nullptr;
    std::string key_;
  };

  /// With the limits of `limits`.
  explicit CallLimiter(const LimitsConfig& limits);

  /// Takes a slot for a call of `key` (the caller's principal). RESOURCE_EXHAUSTED with
  /// reason RATE_LIMITED or TOO_MANY_CALLS when a limit is reached; `retry_after` then says
  /// when trying again makes sense.
  Status Admit(const std::string& key, Slot* slot, std::chrono::milliseconds* retry_after);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled;
    int running = 0;
  };
  void Release(const std::string& key);

  LimitsConfig limits_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace fachadapter::security

#endif  // FACHADAPTER_SECURITY_CALL_LIMITER_H_
