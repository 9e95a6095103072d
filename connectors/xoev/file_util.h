// File helpers of the XÖV connector: durable atomic writes (temp file in the same folder, fsync,
// rename without replacing, fsync of the folder), whole-file reads with a size limit, and
// SHA-256 for receipts.
#ifndef FACHADAPTER_CONNECTORS_XOEV_FILE_UTIL_H_
#define FACHADAPTER_CONNECTORS_XOEV_FILE_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "fachadapter/status.h"

namespace fachadapter::xoev {

/// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

/// Writes `content` to dir/name durably and atomically: readers see either no file or the
/// whole file. With `replace` false an existing file is ALREADY_EXISTS and left untouched.
Status WriteFileAtomically(const std::string& dir, const std::string& name, std::string_view content,
                           bool replace);

/// Reads a whole file of at most `max_bytes`, not following a symlink in the last component.
/// NOT_FOUND if missing, RESOURCE_EXHAUSTED if larger, UNAVAILABLE if it cannot be read.
Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes);

/// A random RFC 4122 version 4 UUID (lower-case).
std::string RandomUuid();

/// A UUID (version 4 layout) derived from `seed` by SHA-256: the same seed gives the same UUID.
std::string UuidFromSeed(std::string_view seed);

}  // namespace fachadapter::xoev

#endif  // FACHADAPTER_CONNECTORS_XOEV_FILE_UTIL_H_
