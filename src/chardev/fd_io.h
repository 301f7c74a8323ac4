#pragma once
// Small fd helpers shared by the chardev backends.
#include <cstdint>
#include <span>

namespace kestrel {

// Writes all of data to fd. Handles EINTR, short writes and, for
// non-blocking fds, EAGAIN by sleeping in poll() until the fd is writable
// (no spinning). Returns false with errno set on a real error (EPIPE, EIO, …).
bool write_all_fd(int fd, std::span<const uint8_t> data);

// Whether epoll can watch fd. Regular files and /dev/null cannot (EPERM):
// they are always "ready", so callers read them directly instead.
bool fd_supports_epoll(int fd);

// Whether a read() on fd would not block right now (data, EOF or error).
bool fd_readable_now(int fd);

} // namespace kestrel
