#pragma once
// Opens the backend a ChardevConfig names. The lead calls this after all
// command-line validation (opening a file backend creates/truncates it, a
// socket server with wait=on blocks here until its first client).
#include "chardev/chardev.h"
#include "chardev/chardev_messages.h"
#include "chardev/chardev_config.h"
#include "base/event_loop.h"

#include <memory>

namespace kestrel {

// Backends and the options read (QEMU's keys, in cfg.options unless noted):
//   null
//   stdio   signal=on|off (default on, off when cfg.mux: mon:stdio passes
//           Ctrl-C to the guest)
//   file    cfg.path or path=; append=on|off
//   pipe    cfg.path or path=
//   pty     -
//   socket  cfg.path or path= (Unix), else host= (default: any/localhost)
//           and port= (TCP; ipv4=on / ipv6=on pick the family);
//           server=on|off (off), wait=on|off (on; server only),
//           reconnect=SECONDS (client only)
//   udp     host= (default localhost), port=, localaddr=, localport=
// cfg.mux itself is not handled here: ChardevSet wraps the backend in a mux.
// Throws std::runtime_error with QEMU's wording, without the location
// prefix, e.g.
//   Could not open '/x/y': No such file or directory
//   Failed to bind socket to /nonexistent/s: No such file or directory
//   Failed to connect to '127.0.0.1:1': Connection refused
//   'foo' is not a valid char driver name
//   cannot use stdio by multiple character devices
//   Parameter 'append' expects 'on' or 'off'
std::unique_ptr<Chardev> open_chardev(const ChardevConfig& cfg, EventLoop& loop,
                                      const ChardevMessages& messages);
std::unique_ptr<Chardev> open_chardev(const ChardevConfig& cfg, EventLoop& loop);

} // namespace kestrel
