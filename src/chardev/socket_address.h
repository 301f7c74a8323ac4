#pragma once
// Socket set-up for the socket and udp chardevs, failing with QEMU's texts.
// All fds are CLOEXEC and blocking; the caller makes them non-blocking.
#include "base/unique_fd.h"

#include <string>
#include <sys/socket.h>

namespace kestrel {

struct InetAddress {
    std::string host;   // as given; "" = any address (listen) or localhost
    std::string port;
    int family = AF_UNSPEC;  // AF_INET with ipv4=on, AF_INET6 with ipv6=on
};

// Removes a stale socket file first, as QEMU does.
// "Failed to bind socket to PATH: <strerror>".
UniqueFd listen_unix(const std::string& path);
// SO_REUSEADDR. "address resolution failed for HOST:PORT: <reason>",
// "Failed to find an available port: Address already in use",
// "Failed to bind socket: <strerror>". `bound` gets the numeric address
// and port actually bound ("127.0.0.1", "4444").
UniqueFd listen_tcp(const InetAddress& addr, InetAddress& bound);
// "Failed to connect to 'PATH': <strerror>".
UniqueFd connect_unix(const std::string& path);
// "Failed to connect to 'HOST:PORT': <strerror>".
UniqueFd connect_tcp(const InetAddress& addr);
// A UDP socket bound to `local` (port "0" / host "": any) and connected
// to `remote`.
UniqueFd open_udp(const InetAddress& remote, const InetAddress& local);

// "127.0.0.1:4444" / "[::1]:4444" for an inet socket, the path for a unix
// one ("" when unnamed), "" on error.
std::string local_address(int fd);
std::string peer_address(int fd);

} // namespace kestrel
