#include "chardev/udp_chardev.h"

namespace kestrel {

UdpChardev::UdpChardev(std::string label, EventLoop& loop, const InetAddress& remote, const InetAddress& local)
    : StreamChardev(std::move(label), loop) {
    set_datagram();
    connect_fd(open_udp(remote, local));
}

} // namespace kestrel
