#pragma once
// -chardev udp,host=H,port=P[,localaddr=A][,localport=L]: each write() is
// one datagram to H:P; datagrams from there are input. Always "connected";
// a datagram the socket cannot take at once is dropped.
#include "chardev/socket_address.h"
#include "chardev/stream_chardev.h"

namespace kestrel {

class UdpChardev final : public StreamChardev {
public:
    UdpChardev(std::string label, EventLoop& loop, const InetAddress& remote, const InetAddress& local);
    std::string filename() const override { return "udp"; }
};

} // namespace kestrel
