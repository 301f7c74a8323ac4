#pragma once
// -netdev, -nic and -net as QEMU 7.2 reads them (options_net.cpp). The
// monitor's netdev_add reads its options with parse_netdev too.
#include "base/qemu_opts.h"
#include "net/netdev_config.h"

#include <string>
#include <vector>

namespace kestrel {

// One backend from key=value pairs ("type" and "id" among them), checked
// as far as can be without opening anything: keys, values, combinations,
// that fd=/fds=/vhostfd= name open descriptors. Throws ConfigError with
// QEMU's text (no location).
// `generated_id`: the id is one of QEMU's "#net..." for -nic and -net.
NetdevConfig parse_netdev(const std::vector<qopts::OptPair>& pairs, bool generated_id = false);

// The backend types QEMU 7.2 lists for -netdev help, and whether kestrel has them.
bool is_qemu_netdev_type(std::string_view type);
bool is_kestrel_netdev_type(std::string_view type);

} // namespace kestrel
