#include "chardev/socket_address.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <netdb.h>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/un.h>
#include <unistd.h>

namespace kestrel {

namespace {

[[noreturn]] void fail(const std::string& what, int err) {
    throw std::runtime_error(what + ": " + std::strerror(err));
}

sockaddr_un unix_address(const std::string& path) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path)
        throw std::runtime_error("UNIX socket path '" + path + "' is too long");
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    return sa;
}

using AddrList = std::unique_ptr<addrinfo, decltype(&freeaddrinfo)>;

AddrList resolve(const InetAddress& addr, int socktype, bool passive) {
    addrinfo hints{};
    hints.ai_family = addr.family;
    hints.ai_socktype = socktype;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    addrinfo* res = nullptr;
    const char* host = addr.host.empty() ? nullptr : addr.host.c_str();
    int rc = getaddrinfo(host, addr.port.c_str(), &hints, &res);
    if (rc != 0)
        throw std::runtime_error("address resolution failed for " + addr.host + ":" + addr.port + ": " +
                                 gai_strerror(rc));
    return AddrList(res, freeaddrinfo);
}

std::string format_address(const sockaddr_storage& ss, socklen_t len) {
    if (ss.ss_family == AF_UNIX) {
        auto* sun = reinterpret_cast<const sockaddr_un*>(&ss);
        if (len <= offsetof(sockaddr_un, sun_path)) return "";
        return std::string(sun->sun_path, strnlen(sun->sun_path, len - offsetof(sockaddr_un, sun_path)));
    }
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (getnameinfo(reinterpret_cast<const sockaddr*>(&ss), len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return "";
    bool v6 = ss.ss_family == AF_INET6;
    std::string out;
    out.append(v6 ? "[" : "").append(host).append(v6 ? "]:" : ":").append(port);
    return out;
}

} // namespace

UniqueFd listen_unix(const std::string& path) {
    sockaddr_un sa = unix_address(path);
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) fail("Failed to create Unix socket", errno);
    unlink(path.c_str());
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd.get(), 1) != 0)
        fail("Failed to bind socket to " + path, errno);
    return fd;
}

UniqueFd listen_tcp(const InetAddress& addr, InetAddress& bound) {
    AddrList list = resolve(addr, SOCK_STREAM, true);
    int err = EADDRINUSE;
    for (addrinfo* ai = list.get(); ai; ai = ai->ai_next) {
        UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
        if (!fd) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd.get(), 1) == 0) {
            char host[NI_MAXHOST], port[NI_MAXSERV];
            getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, port, sizeof port,
                        NI_NUMERICHOST | NI_NUMERICSERV);
            bound = {host, port, ai->ai_family};
            sockaddr_storage ss{};
            socklen_t len = sizeof ss;
            if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) == 0)
                bound.port = std::to_string(ntohs(ss.ss_family == AF_INET6
                                                      ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                                      : reinterpret_cast<sockaddr_in*>(&ss)->sin_port));
            return fd;
        }
        err = errno;
        if (err != EADDRINUSE) fail("Failed to bind socket", err);
    }
    fail("Failed to find an available port", err);
}

UniqueFd connect_unix(const std::string& path) {
    sockaddr_un sa = unix_address(path);
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) fail("Failed to create socket", errno);
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
        fail("Failed to connect to '" + path + "'", errno);
    return fd;
}

UniqueFd connect_tcp(const InetAddress& addr) {
    AddrList list = resolve(addr, SOCK_STREAM, false);
    int err = ECONNREFUSED;
    for (addrinfo* ai = list.get(); ai; ai = ai->ai_next) {
        UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
        if (!fd) {
            err = errno;
            continue;
        }
        if (connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) return fd;
        err = errno;
    }
    fail("Failed to connect to '" + addr.host + ":" + addr.port + "'", err);
}

UniqueFd open_udp(const InetAddress& remote, const InetAddress& local) {
    AddrList peers = resolve(remote, SOCK_DGRAM, false);
    addrinfo* peer = peers.get();
    InetAddress here = local;
    here.family = peer->ai_family;
    AddrList locals = resolve(here, SOCK_DGRAM, true);
    UniqueFd fd(socket(peer->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) fail("Failed to create socket", errno);
    int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd.get(), locals->ai_addr, locals->ai_addrlen) != 0) fail("Failed to bind socket", errno);
    if (connect(fd.get(), peer->ai_addr, peer->ai_addrlen) != 0) {
        int err = errno;
        std::string target = remote.host;
        target.append(":").append(remote.port);
        fail("Failed to connect to '" + target + "'", err);
    }
    return fd;
}

std::string local_address(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
    return format_address(ss, len);
}

std::string peer_address(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
    return format_address(ss, len);
}

} // namespace kestrel
