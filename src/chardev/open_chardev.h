#pragma once
// Opens the backend a ChardevConfig names. The lead calls this after all
// command-line validation (opening a file backend creates/truncates it).
#include "chardev/chardev.h"
#include "config/config.h"
#include "machine/event_loop.h"

#include <memory>

namespace kestrel {

// Backends: "null", "stdio" (options: signal=on|off; default on, off when
// cfg.mux — QEMU's mon:stdio passes Ctrl-C to the guest), "file" (cfg.path or
// options["path"]; options: append=on|off). cfg.mux itself is not handled
// here: the caller wraps the returned backend in a mux.
// Throws std::runtime_error with QEMU's wording (without the
// "program: -serial ...: " prefix, which the caller adds), e.g.
//   Could not open '/x/y': No such file or directory
//   'foo' is not a valid char driver name
//   cannot use stdio by multiple character devices
//   Parameter 'append' expects 'on' or 'off'
std::unique_ptr<Chardev> open_chardev(const ChardevConfig& cfg, EventLoop& loop);

} // namespace kestrel
