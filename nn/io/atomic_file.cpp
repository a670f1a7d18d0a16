#include "nn/io/atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>

namespace ag::nn::detail {

namespace {

// Names stay within NAME_MAX: the file's own name is cut short if need be.
constexpr std::size_t kNameMax = 255;

// The machine's name, reduced to characters safe in a file name: a folder shared over the
// network may hold temporaries of other machines, whose processes this one cannot see.
const std::string& host_tag() {
  static const std::string tag = [] {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return std::string("localhost");
    std::string out;
    for (const char* c = name; *c && out.size() < 32; ++c) {
      const bool safe = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-';
      out += safe ? *c : '-';
    }
    return out;
  }();
  return tag;
}

struct Split {
  std::string folder;  // "" for the current folder
  std::string stem;    // the prefix of every temporary name of the file: "NAME.tmp.HOST."
};

Split split(const std::string& path) {
  const std::filesystem::path p(path);
  std::string name = p.filename().string();
  const std::string tail = ".tmp." + host_tag() + ".";
  const std::size_t room = kNameMax - tail.size() - 20 - 1 - 16;  // pid, '.', random
  if (name.size() > room) name.resize(room);
  return {p.parent_path().string(), name + tail};
}

std::string join(const std::string& folder, const std::string& name) {
  return folder.empty() ? name : (std::filesystem::path(folder) / name).string();
}

std::uint64_t random_tag() {
  thread_local std::mt19937_64 generator{(std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}()};
  return generator();
}

// Removes PATH's temporaries whose process is gone: ours (this machine's name, the stem), and
// stale (no process has that id). A process with a reused id keeps its temporary: harmless.
void remove_stale_temporaries(const Split& s) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(s.folder.empty() ? "." : s.folder.c_str()), ::closedir);
  if (!dir) return;
  const long self = static_cast<long>(::getpid());
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string name = entry->d_name;
    if (name.size() <= s.stem.size() || name.compare(0, s.stem.size(), s.stem) != 0) continue;
    const std::string rest = name.substr(s.stem.size());  // PID.RANDOM
    const std::size_t dot = rest.find('.');
    if (dot == 0 || dot == std::string::npos || dot > 10 || rest.size() - dot - 1 != 16) continue;
    if (rest.find_first_not_of("0123456789") != dot) continue;
    if (rest.find_first_not_of("0123456789abcdef", dot + 1) != std::string::npos) continue;
    const long pid = std::stol(rest.substr(0, dot));
    if (pid <= 0 || pid == self) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    ::unlink(join(s.folder, name).c_str());
  }
}

// The temporary file of one save: removed unless it was renamed over the target.
class Temporary {
 public:
  explicit Temporary(const std::string& path) : path_(path) {
    const Split s = split(path);
    remove_stale_temporaries(s);
    for (int attempt = 0; fd_ < 0; ++attempt) {
      name_ = join(s.folder, fmt::format("{}{}.{:016x}", s.stem, static_cast<long>(::getpid()), random_tag()));
      fd_ = ::open(name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ < 0 && (errno != EEXIST || attempt == 16)) fail("cannot create the temporary file " + name_);
    }
    // A file being replaced keeps its permissions (a checkpoint made private stays private).
    struct stat old {};
    if (::stat(path.c_str(), &old) == 0 && S_ISREG(old.st_mode)) ::fchmod(fd_, old.st_mode & 07777);
  }
  Temporary(const Temporary&) = delete;
  Temporary& operator=(const Temporary&) = delete;
  ~Temporary() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(name_.c_str());
  }

  void write(const void* data, std::size_t size) {
    const char* at = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t n = ::write(fd_, at, std::min<std::size_t>(size, std::size_t{1} << 30));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("cannot write " + name_);
      at += n;
      size -= static_cast<std::size_t>(n);
    }
  }

  void commit() {
    if (::fsync(fd_) != 0) fail("cannot sync " + name_);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("cannot close " + name_);
    if (::rename(name_.c_str(), path_.c_str()) != 0) fail("cannot rename " + name_ + " over it");
    renamed_ = true;
    // The rename itself reaches the disk with the folder's entry.
    const std::string folder = std::filesystem::path(path_).parent_path().string();
    const int dir = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw AtomicWriteError(
        fmt::format("{}: {}: {} (the previous file, if any, is unchanged)", path_, what, std::strerror(errno)));
  }

  std::string path_, name_;
  int fd_ = -1;
  bool renamed_ = false;
};

}  // namespace

std::string temporary_path(const std::string& path, long pid, std::uint64_t random) {
  const Split s = split(path);
  return join(s.folder, fmt::format("{}{}.{:016x}", s.stem, pid, random));
}

void write_atomically(const std::string& path, const std::function<void(const Sink&)>& fill) {
  Temporary temporary(path);
  fill([&](const void* data, std::size_t size) { temporary.write(data, size); });
  temporary.commit();
}

}  // namespace ag::nn::detail
