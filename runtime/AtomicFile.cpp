//===- AtomicFile.cpp - Files written whole or not at all -----------------===//
#include "runtime/AtomicFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace bertc::rt {

bool writeFileAtomically(const std::string &path, const std::vector<std::string_view> &parts,
                         std::string &error) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    error = path + ": cannot create: " + std::strerror(errno);
    return false;
  }
  bool ok = true;
  for (std::string_view part : parts) {
    const char *p = part.data();
    size_t size = part.size();
    while (ok && size > 0) {
      ssize_t n = ::write(fd, p, size);
      if (n < 0 && errno == EINTR)
        continue;
      ok = n > 0;
      if (ok) {
        p += n;
        size -= static_cast<size_t>(n);
      }
    }
  }
  ok = ok && ::fsync(fd) == 0;
  int savedErrno = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string reason = std::strerror(ok ? errno : savedErrno);
    ::unlink(tmp.c_str());
    error = path + ": cannot write: " + reason;
    return false;
  }
  size_t slash = path.rfind('/');
  syncDirectory(slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash));
  return true;
}

void syncDirectory(const std::string &dir) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

} // namespace bertc::rt
