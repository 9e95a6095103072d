// Heap in use by the test process, for the tests that stream large results and check that
// memory stays bounded.
#ifndef FACHADAPTER_TESTS_INTEGRATION_ODBC_HEAP_USAGE_H_
#define FACHADAPTER_TESTS_INTEGRATION_ODBC_HEAP_USAGE_H_

#include <malloc.h>

#include <cstddef>
#include <cstdint>

#if defined(__SANITIZE_ADDRESS__)
// From the sanitizer runtime (its header, sanitizer/allocator_interface.h, is not installed).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace fachadapter::testing {

/// Heap memory in use by this process in KiB: live allocations, not what the allocator keeps
/// resident after frees (so earlier tests in the same process do not hide growth).
inline int64_t HeapInUseKiB() {
#if defined(__SANITIZE_ADDRESS__)
  return static_cast<int64_t>(__sanitizer_get_current_allocated_bytes() / 1024);
#else
  struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>((mi.uordblks + mi.hblkhd) / 1024);
#endif
}

}  // namespace fachadapter::testing

#endif  // FACHADAPTER_TESTS_INTEGRATION_ODBC_HEAP_USAGE_H_
