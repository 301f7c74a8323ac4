#pragma once
// A VNC server as -vnc / -display vnc= describe it (QEMU's option names).
#include <optional>
#include <string>

namespace kestrel {

struct VncConfig {
    bool enabled = false;   // listens (-vnc none gives a server that does not)
    bool announce = false;  // print "VNC server running on HOST:PORT" (QEMU does with to=)
    std::string id = "default";
    std::string location;   // "-vnc :1" or "-display vnc=:1" (empty for the default), for messages
    // Where: a unix socket, or a host (empty: every address) and display
    // number (port 5900 + display), trying up to display `to` when taken.
    bool unix_socket = false;
    std::string path;
    std::string audiodev;   // audiodev=: an -audiodev id (driver none: no audio to stream)
    std::string host;
    bool ipv4 = true, ipv6 = true;
    int display = 0;
    std::optional<int> to;
    // websocket=on (port 5700 + display) or websocket=PORT: RFB over
    // WebSocket for browser clients (noVNC).
    std::optional<int> websocket_port;
    bool password = false;  // password=on: VNC authentication (set_password)
    enum class Share { AllowExclusive, ForceShared, Ignore } share = Share::AllowExclusive;
    bool lossy = false;     // accepted; the encodings are the library's
    int key_delay_ms = 10;
};

} // namespace kestrel
