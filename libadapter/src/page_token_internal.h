// Page and resume tokens: opaque to clients, they name a position in a query's order by the
// raw sort-key values of the last record delivered (keyset paging), so they stay correct while
// other clients insert or delete.
#ifndef FACHADAPTER_SRC_PAGE_TOKEN_INTERNAL_H_
#define FACHADAPTER_SRC_PAGE_TOKEN_INTERNAL_H_

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

/// Encodes a token as URL-safe base64 text.
std::string EncodePageToken(const PageToken& token);
/// Decodes a token; INVALID_ARGUMENT/INVALID_PAGE_TOKEN if it is not one.
Result<PageToken> DecodePageToken(const std::string& text);

/// 64-bit FNV-1a over bytes, continuing from `seed`.
uint64_t Fnv1a64(const std::string& bytes, uint64_t seed = 0xcbf29ce484222325ULL);

}  // namespace fachadapter

#endif  // FACHADAPTER_SRC_PAGE_TOKEN_INTERNAL_H_
