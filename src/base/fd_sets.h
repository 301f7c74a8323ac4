#pragma once
// The process's fd sets (QEMU's mon_fdsets): descriptors given with
// `-add-fd fd=N,set=M` at start-up or QMP `add-fd` later, which a path
// "/dev/fdset/M" then names wherever kestrel opens a file (libvirt opens
// files itself and passes them so).
#include "base/unique_fd.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {

struct FdSet {
    struct Entry {
        UniqueFd fd;
        std::optional<std::string> opaque;
    };
    std::vector<Entry> fds;
};
std::map<int64_t, FdSet>& fd_sets();

// One -add-fd, checked as the command line was parsed.
struct AddFdConfig {
    int fd = -1;
    int64_t set = -1;
    std::optional<std::string> opaque;
};

// Puts a close-on-exec copy of each inherited fd into its set and closes
// the original, as QEMU does at start-up.
void add_command_line_fds(const std::vector<AddFdConfig>& fds);

bool is_fdset_path(const std::string& path);
// For "/dev/fdset/M": a copy of the first fd of set M whose access mode
// (O_RDONLY/O_WRONLY/O_RDWR) is `flags`'s, given the status flags in
// `flags` and truncated if they say so (O_TRUNC); an invalid fd with errno
// ENOENT (no such set or a malformed path) or EACCES (no fd with that mode).
UniqueFd dup_from_fdset(const std::string& path, int flags);

} // namespace kestrel
