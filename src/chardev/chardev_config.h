#pragma once
#include <map>
#include <string>

namespace kestrel {

// A character device backend: one -chardev, or one that -serial, -monitor,
// -qmp or -nographic implies (QEMU names those "serial0", "compat_monitor0",
// ...). `backend` is QEMU's driver name: null, stdio, file, pipe, pty,
// socket, udp. Everything else the user gave is in `options` with QEMU's
// key names, values as typed: path, append, signal, host, port, server,
// wait, reconnect, localaddr, localport, ipv4, ipv6, ... (bare legacy
// booleans such as "server" or "nowait" are stored as server=on / wait=off).
struct ChardevConfig {
    std::string id;         // label, e.g. "serial0" or the -chardev id=
    std::string backend;    // "stdio", "null", "file", "socket", ...
    std::string path;       // file:, pipe:, socket path= (also in options)
    bool mux = false;       // mux=on / "mon:" prefix: shared by several frontends
    // The option as typed ("-qmp unix:/tmp/q,server=on"): QEMU's prefix of
    // open errors and notices; empty for a default chardev.
    std::string location;
    // A line QEMU adds after an open error, with the same location (the
    // chardev of a guestfwd= rule: "Could not open guest forwarding device 'L'").
    std::string open_failure;
    std::map<std::string, std::string> options;  // backend-specific extras
};

} // namespace kestrel
