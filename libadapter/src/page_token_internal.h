// Page and resume tokens: opaque to clients, they name a position in a query's order by the
// raw sort-key values of the last record delivered (keyset paging), so they stay correct while
// other clients insert or delete. Those values may be personal data and a token ends up in
// client logs and URLs, so tokens are sealed (AES-256-GCM): unreadable and unforgeable.
#ifndef FACHADAPTER_SRC_PAGE_TOKEN_INTERNAL_H_
#define FACHADAPTER_SRC_PAGE_TOKEN_INTERNAL_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "fachadapter/status.h"
#include "fachadapter/v1/value.pb.h"

namespace fachadapter {

/// A decoded token.
struct PageToken {
  uint64_t query_fingerprint = 0;         ///< Which query it belongs to.
  std::vector<v1::Value> last_sort_values;  ///< Raw sort-key values of the last record.
};

/// Seals and opens tokens under one 256-bit key.
class PageTokenSealer {
 public:
  /// Bytes of a key.
  static constexpr size_t kKeyBytes = 32;
  /// A fresh random key: tokens stay valid as long as this process runs.
  static PageTokenSealer Random();
  /// A configured key (server.page_token_key_file), so tokens survive restarts and are
  /// accepted by every replica sharing it. INVALID_ARGUMENT unless it has kKeyBytes bytes.
  static Result<PageTokenSealer> FromKey(const std::string& key);

  /// Seals a token as URL-safe base64 text.
  std::string Encode(const PageToken& token) const;
  /// Opens a token; INVALID_ARGUMENT/INVALID_PAGE_TOKEN if it is malformed, altered or was
  /// sealed under another key.
  Result<PageToken> Decode(const std::string& text) const;

 private:
  PageTokenSealer() = default;  // no all-zero key by accident
  std::array<unsigned char, kKeyBytes> key_{};
};

/// 64-bit FNV-1a over bytes, continuing from `seed`.
uint64_t Fnv1a64(const std::string& bytes, uint64_t seed = 0xcbf29ce484222325ULL);

}  // namespace fachadapter

#endif  // FACHADAPTER_SRC_PAGE_TOKEN_INTERNAL_H_
