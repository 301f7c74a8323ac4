// The VNC server's sockets: where it listens (QEMU's rules for -vnc
// addresses, to= and websocket=), the accept thread, and what the
// monitors ask (status, passwords).
#include "ui/vnc/libvnc.h"
#include "ui/vnc/vnc_server.h"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace kestrel {

namespace {

struct BindError : std::runtime_error {
    BindError(const std::string& what, int err) : std::runtime_error(what), error(err) {}
    int error;
};

int bound_socket(const sockaddr* addr, socklen_t len, int family) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw BindError(std::string("Failed to create socket: ") + std::strerror(errno), errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, addr, len) != 0 || listen(fd, 16) != 0) {
        int err = errno;
        close(fd);
        throw BindError(std::string("Failed to bind socket: ") + std::strerror(err), err);
    }
    return fd;
}

std::string numeric_host(const sockaddr* addr, socklen_t len) {
    char host[NI_MAXHOST];
    if (getnameinfo(addr, len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) return "";
    return host;
}

} // namespace

// One TCP port: for an empty host, "::" and "0.0.0.0" (as allowed by
// ipv6=/ipv4=); else the first address the name resolves to that binds.
void VncServer::listen_tcp(const std::string& host, int port, bool websocket) {
    std::vector<std::string> hosts;
    if (host.empty()) {
        if (config_.ipv6) hosts.push_back("::");
        if (config_.ipv4) hosts.push_back("0.0.0.0");
    } else {
        hosts.push_back(host);
    }
    for (const std::string& name : hosts) {
        addrinfo hints{};
        hints.ai_family = name == "::" ? AF_INET6 : name == "0.0.0.0" ? AF_INET : AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        if (!config_.ipv4 && !host.empty()) hints.ai_family = AF_INET6;
        if (!config_.ipv6 && !host.empty()) hints.ai_family = AF_INET;
        addrinfo* found = nullptr;
        std::string service = std::to_string(port);
        if (int rc = getaddrinfo(name.c_str(), service.c_str(), &hints, &found); rc != 0)
            throw std::runtime_error("address resolution failed for " + name + ":" + service + ": " + gai_strerror(rc));
        std::optional<BindError> failure;
        bool bound = false;
        for (addrinfo* ai = found; ai && !bound; ai = ai->ai_next) {
            try {
                int fd = bound_socket(ai->ai_addr, ai->ai_addrlen, ai->ai_family);
                VncAddress a{numeric_host(ai->ai_addr, ai->ai_addrlen), service,
                             ai->ai_family == AF_INET6 ? "ipv6" : "ipv4", websocket};
                listeners_.push_back({fd, a});
                bound = true;
            } catch (const BindError& e) {
                failure = e;
            }
        }
        freeaddrinfo(found);
        if (!bound && failure) throw *failure;
    }
}

// The display's port (trying up to display `to` when it is taken), then
// the websocket port.
void VncServer::listen_all() {
    if (config_.unix_socket) {
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        if (config_.path.size() >= sizeof sun.sun_path)
            throw std::runtime_error("UNIX socket path '" + config_.path + "' is too long");
        std::strcpy(sun.sun_path, config_.path.c_str());
        unlink(config_.path.c_str());
        try {
            int fd = bound_socket(reinterpret_cast<sockaddr*>(&sun), sizeof sun, AF_UNIX);
            listeners_.push_back({fd, {"", config_.path, "unix", false}});
        } catch (const BindError& e) {
            throw std::runtime_error("Failed to bind socket to " + config_.path + ": " + std::strerror(e.error));
        }
    } else {
        int last = config_.to.value_or(config_.display);
        for (int display = config_.display;; ++display) {
            try {
                listen_tcp(config_.host, 5900 + display, false);
                config_.display = display;
                break;
            } catch (const BindError& e) {
                for (const Listener& l : listeners_) close(l.fd);
                listeners_.clear();
                if (e.error != EADDRINUSE || display >= last)
                    throw std::runtime_error(e.error == EADDRINUSE
                                                 ? std::string("Failed to find an available port: ") + std::strerror(e.error)
                                                 : e.what());
            }
        }
    }
    if (config_.websocket_port) {
        try {
            listen_tcp(config_.unix_socket ? "" : config_.host, *config_.websocket_port, true);
        } catch (const BindError& e) {
            throw std::runtime_error(std::string("Failed to find an available port: ") + std::strerror(e.error));
        }
    }
}

std::string VncServer::running_message() const {
    for (const Listener& l : listeners_)
        if (!l.address.websocket && l.address.family != "unix")
            return "VNC server running on " + l.address.host + ":" + l.address.service;
    return {};
}

void VncServer::accept_loop() {
    std::vector<pollfd> fds;
    for (const Listener& l : listeners_) fds.push_back({l.fd, POLLIN, 0});
    fds.push_back({wake_fd_, POLLIN, 0});
    while (true) {
        if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
        if (fds.back().revents) return;
        for (size_t i = 0; i < listeners_.size(); ++i)
            if (fds[i].revents & POLLIN) accept_one(listeners_[i]);
    }
}

extern thread_local const VncAddress* vnc_accepting_on;

void VncServer::accept_one(const Listener& listener) {
    int fd = accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    vnc_accepting_on = &listener.address;
    rfbClientPtr cl;
    {
        std::lock_guard guard(format_lock_);  // it copies the server format
        if (!open_library_locked()) {
            vnc_accepting_on = nullptr;
            close(fd);
            return;
        }
        cl = lib_->new_client(screen_.load(), fd);  // RFB or WebSocket, the library tells
    }
    vnc_accepting_on = nullptr;
    if (cl && !cl->onHold) lib_->start_on_hold_client(cl);
}

// --- For the monitors ---

void VncServer::set_password(const std::string& password) {
    if (!config_.password)
        throw VncError("If you want use passwords please enable password auth using '-vnc ${dpy},password'.");
    std::lock_guard guard(lock_);
    password_ = password.substr(0, 8);
    password_expiry_.reset();
}

void VncServer::expire_password(const std::string& when) {
    std::optional<int64_t> at;
    using namespace std::chrono;
    int64_t now = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
    auto number = [&](std::string_view text) {
        int64_t v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size()) throw VncError("Invalid parameter 'time'");
        return v;
    };
    if (when == "now")
        at = now;
    else if (when == "never")
        at.reset();
    else if (when.starts_with("+"))
        at = now + number(std::string_view(when).substr(1));
    else
        at = number(when);
    if (!config_.password)
        throw VncError("If you want use passwords please enable password auth using '-vnc ${dpy},password'.");
    std::lock_guard guard(lock_);
    password_expiry_ = at;
}

} // namespace kestrel
