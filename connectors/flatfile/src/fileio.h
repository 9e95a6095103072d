// File access of the flat-file connector: memory-mapped reads, the legacy program's lock
// protocols, and crash-safe writes (temporary file, fsync, rename, fsync of the directory).
#ifndef FACHADAPTER_CONNECTORS_FLATFILE_FILEIO_H_
#define FACHADAPTER_CONNECTORS_FLATFILE_FILEIO_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fachadapter/status.h"

namespace fachadapter::flatfile {

/// Identity of a file version: changes when the file is replaced or written.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  int64_t size = -1;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns;
  }
  bool operator!=(const FileStamp& o) const { return !(*this == o); }
};

/// Stats `path`; size -1 if it does not exist.
FileStamp StampOf(const std::string& path);

/// A read-only memory mapping of a whole file (a snapshot: a file renamed over it later does
/// not change what this mapping shows).
class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  /// Maps `path`. NOT_FOUND if it does not exist.
  static Result<MappedFile> Open(const std::string& path);
  std::string_view data() const { return {static_cast<const char*>(addr_), size_}; }
  const FileStamp& stamp() const { return stamp_; }

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
  FileStamp stamp_;
};

/// The lock protocol the legacy program uses for a file.
enum class LockKind {
  kNone,      ///< no locking
  kFlock,     ///< flock(2) on the data file
  kFcntl,     ///< fcntl(2) byte-range lock on the data file (open file description locks, which
              ///< conflict with the classic POSIX locks of the legacy program)
  kLockFile,  ///< a lock file created with O_EXCL holding the owner's pid; removed to unlock
};

/// Lock settings of one file.
struct LockSpec {
  LockKind kind = LockKind::kFlock;
  /// kLockFile: path of the lock file (default: data file + ".lock"). kFlock/kFcntl: lock this
  /// file instead of the data file (a file that is never replaced, so no inode re-check races).
  std::string lock_file;
  off_t range_start = 0;        ///< kFcntl: byte range (length 0 = to the end, growing)
  off_t range_length = 0;
  std::chrono::milliseconds timeout{10000};
};

/// A held lock; released on destruction.
class FileLock {
 public:
  FileLock() = default;
  ~FileLock();
  FileLock(FileLock&& o) noexcept { *this = std::move(o); }
  FileLock& operator=(FileLock&& o) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  /// Takes the lock on `path` (exclusive for writers, shared for readers where the protocol
  /// has shared locks). For flock/fcntl the lock is on the file's current inode: after taking
  /// it, the path is checked to still name that inode (a writer may have renamed a new file
  /// over it meanwhile) and the lock is taken again if not. A lock file left by a process that
  /// no longer exists is removed. UNAVAILABLE/LOCK_TIMEOUT after spec.timeout.
  static Result<FileLock> Acquire(const std::string& path, const LockSpec& spec, bool exclusive);
  void Release();

 private:
  int fd_ = -1;
  std::string lock_file_;
};

/// Writes `pieces` to a new temporary file beside `path` (same directory, mode of the old
/// file), fsyncs it, renames it over `path` and fsyncs the directory.
Status ReplaceFileAtomically(const std::string& path, const std::vector<std::string_view>& pieces);

/// The two halves of ReplaceFileAtomically: WriteTempFile writes and fsyncs the temporary
/// file and returns its path; CommitTempFile renames it over `path` and fsyncs the directory.
Result<std::string> WriteTempFile(const std::string& path, const std::vector<std::string_view>& pieces);
Status CommitTempFile(const std::string& tmp, const std::string& path);

/// Appends `bytes` with one write(2) and fsyncs before returning.
Status AppendDurably(const std::string& path, std::string_view bytes);

/// fsyncs the directory holding `path`.
Status SyncParentDir(const std::string& path);

/// Prefix of the temporary files ReplaceFileAtomically creates for `path` (".NAME.fa-tmp-").
std::string TempPrefix(const std::string& path);

/// 64-bit FNV-1a of the bytes as 16 hex digits (the etag of a record).
std::string HashHex(std::string_view bytes);

}  // namespace fachadapter::flatfile

#endif  // FACHADAPTER_CONNECTORS_FLATFILE_FILEIO_H_
