#include "chardev/udp_chardev.h"

namespace kestrel {

UdpChardev::UdpChardev(std::string label, EventLoop& loop, const InetAddress& remote, const InetAddress& local)
    : StreamChardev(std::move(label), loop) {
    set_datagram();
    int fd = open_udp(remote, local);
    connect_fds(fd, fd);
}

} // namespace kestrel
