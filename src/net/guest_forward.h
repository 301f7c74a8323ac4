#pragma once
// One guestfwd= rule to a character device (QEMU's struct GuestFwd): what
// the guest sends on its TCP connection to SERVER:PORT goes to the chardev;
// what the chardev reads goes to that connection. Everything runs on the
// loop thread, inside the user network's stack.
//
// Flow control. Towards the guest: the chardev hands over at most what
// slirp's socket buffer has room for (slirp_socket_can_recv); the rest
// waits in the chardev, which stops reading its peer; poll() wakes it when
// room opens (the guest acknowledged data, or connected). Towards the
// chardev: slirp counts everything it hands over as sent (a guestfwd
// socket that took less would never be written again), so the rule keeps
// what the chardev does not take (write_some) and gives it more on the
// chardev's writable(); the user network stops feeding the guest's frames
// to slirp while that backlog is long (backlog()) and resumes on the
// refresh that follows each writable().
//
// As in QEMU, neither side's end reaches the other: a guest closing its
// connection leaves the chardev's connection up, a chardev peer going away
// leaves the guest's connection open (its bytes are dropped meanwhile).
#include "chardev/chardev.h"

#include <functional>
#include <netinet/in.h>
#include <string>
#include <vector>

struct Slirp;

namespace kestrel {

struct LibSlirp;

class GuestForward final : public CharFrontend {
public:
    // `refresh` runs after bytes went into slirp (the stack wants its
    // sockets and timers refreshed) and after the backlog went down.
    GuestForward(const LibSlirp& lib, Slirp* slirp, std::string chardev_id, std::function<void()> refresh);
    ~GuestForward() override;
    GuestForward(const GuestForward&) = delete;
    GuestForward& operator=(const GuestForward&) = delete;

    // slirp_add_guestfwd for SERVER:PORT (server 0: slirp's default, which
    // it writes back). False when slirp refuses (outside the network, the
    // host's or DNS address, taken).
    bool add(in_addr server, int port);
    const std::string& chardev_id() const { return chardev_id_; }
    // The chardev the rule reads and writes (the machine's, once it exists).
    void connect(Chardev& chardev);
    // Lets go of the chardev (netdev_del deletes it); the guest's bytes are
    // dropped from then on.
    void disconnect();
    // Bytes from the guest the chardev has not delivered yet (its queue and
    // what it has not taken).
    size_t backlog() const { return pending_.size() - sent_ + (chardev_ ? chardev_->output_backlog() : 0); }
    // After each pass of the stack: lets a waiting chardev go on if slirp
    // has room now.
    void poll();

    // slirp's write callback: the guest's bytes, to the chardev.
    static ssize_t write_to_chardev(const void* buf, size_t len, void* opaque);

    // CharFrontend (loop thread)
    size_t can_receive() override;
    void receive(std::span<const uint8_t> data) override;
    void writable() override;
    void closed() override;

private:
    const LibSlirp& lib_;
    Slirp* slirp_;
    std::string chardev_id_;
    std::function<void()> refresh_;
    in_addr server_{};
    int port_ = 0;
    Chardev* chardev_ = nullptr;
    bool waiting_ = false;   // can_receive() said 0: the chardev holds input
    std::vector<uint8_t> pending_;   // the guest's bytes the chardev has not taken, from sent_
    size_t sent_ = 0;

    void to_chardev(std::span<const uint8_t> data);
    size_t give(std::span<const uint8_t> data);
    void drop_pending();
};

} // namespace kestrel
