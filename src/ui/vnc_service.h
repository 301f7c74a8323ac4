#pragma once
// What the monitors ask of the VNC server (info vnc, query-vnc,
// query-vnc-servers, set_password, expire_password, change vnc password)
// and the client events it reports (VNC_CONNECTED, VNC_INITIALIZED,
// VNC_DISCONNECTED). Registered in the machine's ServiceRegistry.
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kestrel {

struct VncAddress {
    std::string host;
    std::string service;  // the port, or the socket's path
    std::string family;   // "ipv4", "ipv6", "unix"
    bool websocket = false;
};

struct VncStatus {
    bool enabled = false;
    std::string id = "default";
    std::string auth;                  // "none" or "vnc"
    std::vector<VncAddress> servers;   // every listening socket
    std::vector<VncAddress> clients;
};

struct VncClientEvent {
    enum class Kind { Connected, Initialized, Disconnected } kind;
    VncAddress server;
    VncAddress client;
    std::string auth;
};

// A request the server refuses, with QEMU's text.
struct VncError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class VncService {
public:
    virtual ~VncService() = default;
    virtual VncStatus status() const = 0;
    // Throws VncError when the server has no password authentication.
    virtual void set_password(const std::string& password) = 0;
    // "now", "never", "+SECONDS" or an absolute time in seconds since the
    // epoch. Throws VncError for anything else.
    virtual void expire_password(const std::string& when) = 0;
    // Called from the server's threads; the machine hands events to its
    // loop for QMP.
    virtual void set_event_handler(std::function<void(const VncClientEvent&)> handler) = 0;
};

} // namespace kestrel
