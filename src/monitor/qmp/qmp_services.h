#pragma once
// What QMP commands act on; the lead builds one and hands it to every
// QmpSession. All members must outlive the sessions.
#include "monitor/vm_control.h"

#include <functional>
#include <optional>
#include <string>

namespace kestrel {
class GuestDumper;
}

namespace kestrel::qmp {

class QmpEventHub;

struct QmpServices {
    VmControl& vm;
    QmpEventHub& events;
    // Runs one HMP command line (human-monitor-command) as if typed at
    // the (qemu) prompt with `cpu` as the current CPU (none: the default);
    // returns its output. Lines may end in "\n"; QMP sends them as "\r\n".
    std::function<std::string(const std::string& line, std::optional<unsigned> cpu)> hmp;
    GuestDumper* dumper = nullptr;   // dump-guest-memory; none: the commands are absent
};

} // namespace kestrel::qmp
