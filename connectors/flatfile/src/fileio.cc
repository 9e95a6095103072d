#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

namespace fachadapter::flatfile {

namespace {

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

FileStamp FromStat(const struct stat& st) {
  FileStamp s;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return s;
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool WriteAll(int fd, std::string_view b) {
  while (!b.empty()) {
    ssize_t n = ::write(fd, b.data(), b.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    b.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

FileStamp StampOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return FileStamp{};
  return FromStat(st);
}

MappedFile::~MappedFile() {
  if (addr_ && size_) ::munmap(addr_, size_);
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (addr_ && size_) ::munmap(addr_, size_);
    addr_ = o.addr_;
    size_ = o.size_;
    stamp_ = o.stamp_;
    o.addr_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

Result<MappedFile> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("file " + path + " does not exist", "FILE_NOT_FOUND");
    return Unavailable(Errno("cannot open", path));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Unavailable(Errno("cannot stat", path));
  }
  MappedFile m;
  m.stamp_ = FromStat(st);
  m.size_ = static_cast<size_t>(st.st_size);
  if (m.size_ > 0) {
    void* a = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (a == MAP_FAILED) {
      ::close(fd);
      return Unavailable(Errno("cannot map", path));
    }
    ::madvise(a, m.size_, MADV_SEQUENTIAL);
    m.addr_ = a;
  }
  ::close(fd);
  return m;
}

FileLock::~FileLock() { Release(); }

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    Release();
    fd_ = o.fd_;
    lock_file_ = std::move(o.lock_file_);
    o.fd_ = -1;
    o.lock_file_.clear();
  }
  return *this;
}

void FileLock::Release() {
  if (!lock_file_.empty()) {
    ::unlink(lock_file_.c_str());
    lock_file_.clear();
  }
  if (fd_ >= 0) {
    ::close(fd_);  // releases flock and OFD locks
    fd_ = -1;
  }
}

Result<FileLock> FileLock::Acquire(const std::string& path, const LockSpec& spec, bool exclusive) {
  FileLock lock;
  if (spec.kind == LockKind::kNone) return lock;
  auto deadline = std::chrono::steady_clock::now() + spec.timeout;
  auto backoff = std::chrono::microseconds(200);
  auto wait = [&]() -> bool {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(backoff);
    // Short polls: a legacy writer that takes the lock again right after releasing it must not
    // starve us (its blocking wait is queued in the kernel, our non-blocking tries are not).
    if (backoff < std::chrono::milliseconds(2)) backoff *= 2;
    return true;
  };
  auto timeout = [&]() {
    return Status(StatusCode::kUnavailable,
                  "could not take the lock of " + path + " within " +
                      std::to_string(spec.timeout.count()) + " ms (the legacy program holds it)",
                  "LOCK_TIMEOUT");
  };
  if (spec.kind == LockKind::kLockFile) {
    // The lock file appears atomically with our pid in it: written under a private name, then
    // hard-linked to the lock name (link fails if it exists). So a lock file of ours is never
    // empty, and one whose pid is gone is stale.
    std::string lf = spec.lock_file.empty() ? path + ".lock" : spec.lock_file;
    std::string mine = lf + "." + std::to_string(::getpid()) + ".new";
    {
      int fd = ::open(mine.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) return Unavailable(Errno("cannot create lock file", mine));
      std::string pid = std::to_string(::getpid()) + "\n";
      bool ok = WriteAll(fd, pid);
      ::close(fd);
      if (!ok) {
        ::unlink(mine.c_str());
        return Unavailable(Errno("cannot write lock file", mine));
      }
    }
    while (true) {
      if (::link(mine.c_str(), lf.c_str()) == 0) {
        ::unlink(mine.c_str());
        lock.lock_file_ = lf;
        // Private files of processes that died between writing and linking them.
        std::string dir = DirOf(lf), base = lf.substr(lf.rfind('/') == std::string::npos ? 0 : lf.rfind('/') + 1) + ".";
        if (DIR* d = ::opendir(dir.c_str())) {
          while (struct dirent* de = ::readdir(d)) {
            std::string n = de->d_name;
            if (n.size() > base.size() + 4 && n.compare(0, base.size(), base) == 0 &&
                n.compare(n.size() - 4, 4, ".new") == 0) {
              long pid = std::strtol(n.c_str() + base.size(), nullptr, 10);
              if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
                ::unlink((dir + "/" + n).c_str());
              }
            }
          }
          ::closedir(d);
        }
        return lock;
      }
      if (errno != EEXIST) {
        Status st = Unavailable(Errno("cannot create lock file", lf));
        ::unlink(mine.c_str());
        return st;
      }
      // Stale lock file of a process that died?
      int rfd = ::open(lf.c_str(), O_RDONLY | O_CLOEXEC);
      if (rfd >= 0) {
        char buf[32] = {};
        ssize_t n = ::read(rfd, buf, sizeof buf - 1);
        ::close(rfd);
        long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
        if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
          // Remove it only if it is still the same stale file (rename to a unique name first).
          std::string grave = lf + ".stale." + std::to_string(::getpid());
          if (::rename(lf.c_str(), grave.c_str()) == 0) {
            char buf2[32] = {};
            int gfd = ::open(grave.c_str(), O_RDONLY | O_CLOEXEC);
            if (gfd >= 0) {
              ssize_t n2 = ::read(gfd, buf2, sizeof buf2 - 1);
              ::close(gfd);
              if (n2 > 0 && std::strtol(buf2, nullptr, 10) != pid) {
                ::link(grave.c_str(), lf.c_str());  // someone else's live lock: put it back
              }
            }
            ::unlink(grave.c_str());
          }
          continue;
        }
      }
      if (!wait()) {
        ::unlink(mine.c_str());
        return timeout();
      }
    }
  }
  const std::string& target = spec.lock_file.empty() ? path : spec.lock_file;
  while (true) {
    int fd = ::open(target.c_str(), (exclusive ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT && !exclusive) return lock;  // nothing to read, nothing to protect
      if (errno == ENOENT) {
        fd = ::open(target.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      }
      if (fd < 0) return Unavailable(Errno("cannot open for locking", target));
    }
    bool got = false;
    while (true) {
      int rc;
      if (spec.kind == LockKind::kFlock) {
        rc = ::flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
      } else {
        struct flock fl {};
        fl.l_type = exclusive ? F_WRLCK : F_RDLCK;
        fl.l_whence = SEEK_SET;
        fl.l_start = spec.range_start;
        fl.l_len = spec.range_length;
        rc = ::fcntl(fd, F_OFD_SETLK, &fl);
      }
      if (rc == 0) {
        got = true;
        break;
      }
      if (errno != EWOULDBLOCK && errno != EAGAIN && errno != EACCES && errno != EINTR) {
        ::close(fd);
        return Unavailable(Errno("cannot lock", target));
      }
      if (!wait()) break;
    }
    if (!got) {
      ::close(fd);
      return timeout();
    }
    // The path may name a new file by now (renamed over the one we locked): lock again.
    struct stat a, b;
    if (::fstat(fd, &a) == 0 && ::stat(target.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino) {
      lock.fd_ = fd;
      return lock;
    }
    ::close(fd);
  }
}

std::string TempPrefix(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return dir + "." + base + ".fa-tmp-";
}

Status SyncParentDir(const std::string& path) {
  std::string dir = DirOf(path);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Unavailable(Errno("cannot open directory", dir));
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return Unavailable(Errno("cannot fsync directory", dir));
  return Status::OK();
}

Result<std::string> WriteTempFile(const std::string& path,
                                  const std::vector<std::string_view>& pieces) {
  static std::atomic<uint64_t> counter{0};
  std::string tmp = TempPrefix(path) + std::to_string(::getpid()) + "-" +
                    std::to_string(counter.fetch_add(1));
  mode_t mode = 0644;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Unavailable(Errno("cannot create temporary file", tmp));
  ::fchmod(fd, mode);
  bool ok = true;
  for (std::string_view p : pieces) {
    if (!WriteAll(fd, p)) {
      ok = false;
      break;
    }
  }
  if (ok && ::fsync(fd) != 0) ok = false;
  int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    errno = saved;
    return Unavailable(Errno("cannot write temporary file", tmp));
  }
  return tmp;
}

Status CommitTempFile(const std::string& tmp, const std::string& path) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    return Unavailable(Errno("cannot rename temporary file over", path));
  }
  return SyncParentDir(path);
}

Status ReplaceFileAtomically(const std::string& path, const std::vector<std::string_view>& pieces) {
  FA_ASSIGN_OR_RETURN(std::string tmp, WriteTempFile(path, pieces));
  return CommitTempFile(tmp, path);
}

Status AppendDurably(const std::string& path, std::string_view bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable(Errno("cannot open for appending", path));
  bool ok = WriteAll(fd, bytes) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) {
    errno = saved;
    return Unavailable(Errno("cannot append to", path));
  }
  return Status::OK();
}

std::string HashHex(std::string_view b) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : b) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  static const char kHex[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i) {
    s[static_cast<size_t>(i)] = kHex[h & 15];
    h >>= 4;
  }
  return s;
}

}  // namespace fachadapter::flatfile
