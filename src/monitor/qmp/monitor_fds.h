#pragma once
// File descriptors clients pass to QMP over SCM_RIGHTS: a monitor's named
// fds (getfd/closefd) and the process's fd sets (add-fd/remove-fd/
// query-fdsets), kept as QEMU keeps them until closed or removed.
#include "base/unique_fd.h"
#include "chardev/chardev.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kestrel::qmp {

// One QMP monitor's: the chardev the fds arrive on, the names getfd gave.
struct MonitorFds {
    explicit MonitorFds(Chardev& c) : chardev(c) {}
    Chardev& chardev;
    std::map<std::string, UniqueFd> named;
};

// Every monitor's fd sets (one table per process, as QEMU's mon_fdsets).
struct FdSet {
    struct Entry {
        UniqueFd fd;
        std::optional<std::string> opaque;
    };
    std::vector<Entry> fds;
};
std::map<int64_t, FdSet>& fd_sets();

} // namespace kestrel::qmp
