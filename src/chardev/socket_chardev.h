#pragma once
// -chardev socket: a Unix (path=) or TCP (host=,port=) stream socket.
//
// Server (server=on): listens at open; one client at a time, as QEMU:
// while one is connected the listening fd is not watched, so further
// clients wait in the backlog until it leaves. wait=on (the default for a
// server) blocks the open until the first client connects, after printing
// "info: QEMU waiting for connection on: disconnected:...". The Unix socket
// file is removed when the chardev closes.
// fd=N: the socket is already there (libvirt passes its monitor socket
// this way): a listening one with server=on, a connected one otherwise.
// Client (server=off): connects at open, failing with QEMU's error, unless
// reconnect=N (seconds) is set: then a failed or lost connection is retried
// every N seconds, the first failure reported as "Unable to connect
// character device ID: <reason>". Reconnect attempts connect synchronously
// on the loop thread (immediate for Unix and reachable TCP peers).
#include "chardev/chardev_messages.h"
#include "chardev/socket_address.h"
#include "chardev/stream_chardev.h"

namespace kestrel {

struct SocketOptions {
    bool is_unix = false;
    std::string path;   // Unix
    InetAddress inet;   // TCP
    bool server = false;
    bool wait = true;   // server only
    long reconnect = 0; // client only, seconds; 0: never
    int fd = -1;        // fd=: an inherited socket (listening if server), taken over
};

class SocketChardev final : public StreamChardev {
public:
    // Throws std::runtime_error with QEMU's reason (no location prefix).
    SocketChardev(std::string label, EventLoop& loop, SocketOptions opts, ChardevMessages messages);
    ~SocketChardev() override;
    std::string filename() const override;

private:
    void on_disconnected() override;
    void open_server();
    void adopt_inherited_fd();
    void accept_client();
    void set_listening(bool on);
    bool try_connect();   // client; false: failed (reported once)
    void start_reconnect_timer();
    void stop_reconnect_timer();
    std::string endpoint() const;  // "unix:/p,server=on", "tcp:h:p"

    SocketOptions opts_;
    ChardevMessages messages_;
    UniqueFd listen_fd_;
    bool listening_ = false;
    UniqueFd timer_fd_;  // while reconnecting
    bool error_reported_ = false;
    std::string local_;  // of the current connection
    std::string peer_;
};

} // namespace kestrel
