#include "chardev/open_chardev.h"

#include "chardev/chardev_options.h"
#include "chardev/file_chardev.h"
#include "chardev/null_chardev.h"
#include "chardev/pipe_chardev.h"
#include "chardev/pty_chardev.h"
#include "chardev/socket_chardev.h"
#include "chardev/stdio_chardev.h"
#include "chardev/udp_chardev.h"

#include <stdexcept>

namespace kestrel {

namespace {

std::unique_ptr<Chardev> open_file(const ChardevConfig& cfg, EventLoop& loop) {
    bool append = bool_option(cfg, "append", false);
    // An empty path fails in open() as "Could not open '': ...", as -serial
    // file: does in QEMU.
    return std::make_unique<FileChardev>(cfg.id, loop, path_option(cfg), append);
}

std::unique_ptr<Chardev> open_pipe(const ChardevConfig& cfg, EventLoop& loop) {
    std::string path = path_option(cfg);
    if (path.empty()) throw std::runtime_error("chardev: pipe: no device path given");
    return std::make_unique<PipeChardev>(cfg.id, loop, path);
}

int inet_family(const ChardevConfig& cfg) {
    if (bool_option(cfg, "ipv4", false)) return AF_INET;
    if (bool_option(cfg, "ipv6", false)) return AF_INET6;
    return AF_UNSPEC;
}

SocketOptions socket_options(const ChardevConfig& cfg) {
    SocketOptions o;
    o.path = path_option(cfg);
    auto host = text_option(cfg, "host");
    if (!o.path.empty() && host) throw std::runtime_error("None or one of 'path', 'fd' or 'host' option required.");
    o.is_unix = !o.path.empty();
    if (auto fd = text_option(cfg, "fd")) {  // checked by the parser: a socket
        o.fd = std::stoi(*fd);
    } else if (!o.is_unix) {
        if (!host) throw std::runtime_error("Unable to parse FD number ");
        auto port = text_option(cfg, "port");
        if (!port) throw std::runtime_error("chardev: socket: no port given");
        o.inet = {*host, *port, inet_family(cfg)};
    }
    o.server = bool_option(cfg, "server", false);
    bool has_wait = text_option(cfg, "wait").has_value();
    o.wait = bool_option(cfg, "wait", true);
    o.reconnect = number_option(cfg, "reconnect", 0);
    if (o.server && o.reconnect > 0)
        throw std::runtime_error("'reconnect' option is incompatible with socket in server listen mode");
    if (!o.server && has_wait)
        throw std::runtime_error("'wait' option is incompatible with socket in client connect mode");
    return o;
}

std::unique_ptr<Chardev> open_udp(const ChardevConfig& cfg, EventLoop& loop) {
    auto port = text_option(cfg, "port");
    if (!port) throw std::runtime_error("chardev: udp: remote port not specified");
    std::string host = text_option(cfg, "host").value_or("");
    InetAddress remote{host.empty() ? "localhost" : host, *port, inet_family(cfg)};
    std::string local_port = text_option(cfg, "localport").value_or("");
    InetAddress local{text_option(cfg, "localaddr").value_or(""), local_port.empty() ? "0" : local_port, AF_UNSPEC};
    return std::make_unique<UdpChardev>(cfg.id, loop, remote, local);
}

} // namespace

std::unique_ptr<Chardev> open_chardev(const ChardevConfig& cfg, EventLoop& loop, const ChardevMessages& messages) {
    const std::string& b = cfg.backend;
    if (b == "null") return std::make_unique<NullChardev>(cfg.id);
    if (b == "stdio") return std::make_unique<StdioChardev>(cfg.id, loop, bool_option(cfg, "signal", !cfg.mux));
    if (b == "file") return open_file(cfg, loop);
    if (b == "pipe") return open_pipe(cfg, loop);
    if (b == "pty") return std::make_unique<PtyChardev>(cfg.id, loop);
    if (b == "socket") return std::make_unique<SocketChardev>(cfg.id, loop, socket_options(cfg), messages);
    if (b == "udp") return open_udp(cfg, loop);
    throw std::runtime_error("'" + b + "' is not a valid char driver name");
}

std::unique_ptr<Chardev> open_chardev(const ChardevConfig& cfg, EventLoop& loop) {
    return open_chardev(cfg, loop, ChardevMessages{});
}

} // namespace kestrel
