#pragma once
// QEMU's bridge helper protocol (qemu-bridge-helper): the helper is run as
// "HELPER --use-vnet --fd=N --br=BRIDGE" (through /bin/sh -c when HELPER
// holds a space, adding --br= only when it has none), creates a tap, adds it
// to the bridge its ACL (/etc/qemu/bridge.conf) allows, and sends the tap's
// descriptor back over the socket N with SCM_RIGHTS.
#include "base/unique_fd.h"

#include <string>

namespace kestrel {

// Throws std::runtime_error "bridge helper failed" (the helper's own
// messages go to stderr) or "failed to recv file descriptor".
UniqueFd run_bridge_helper(const std::string& helper, const std::string& bridge);

} // namespace kestrel
