#pragma once
// File descriptors clients pass to QMP over SCM_RIGHTS: a monitor's named
// fds (getfd/closefd) and the process's fd sets (add-fd/remove-fd/
// query-fdsets), kept as QEMU keeps them until closed or removed.
#include "base/fd_sets.h"
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

// Every monitor's fd sets: the process's (base/fd_sets.h).
using kestrel::FdSet;
using kestrel::fd_sets;

} // namespace kestrel::qmp
