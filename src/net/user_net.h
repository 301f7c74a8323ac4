#pragma once
// -netdev user: QEMU's user-mode network on Debian's libslirp. A stack
// without forwarding rules starts at the guest's first frame. The stack
// runs on the main loop: its sockets sit in an epoll set of their own (one
// descriptor in the loop), its timers on one timerfd, so there is no thread
// per connection and nothing to lock. NICs hand frames over through queues
// (any thread): frames to slirp wake the loop, frames from slirp wake the
// NIC's thread (rx_fd). A NIC that can serve its queues on any loop uses
// this one (service_loop), so no frame crosses threads.
#include "base/event_loop.h"
#include "base/unique_fd.h"
#include "net/frame_queue.h"
#include "net/net_backend.h"
#include "net/netdev_config.h"
#include "net/user_net_options.h"

#include <functional>
#include <map>
#include <memory>
#include <poll.h>
#include <string>
#include <vector>

struct Slirp;

namespace kestrel {

class Chardev;
class GuestForward;
class GuestFwdChardevs;
struct LibSlirp;

class UserNetBackend final : public NetBackend, public NetPort {
public:
    // Loads libslirp, starts the stack and its forwarding rules. Throws
    // std::runtime_error with QEMU's text. Loop thread (or before run()).
    // `chardevs` (netdev_add) opens the guestfwd= rules' chardevs as each
    // rule is added; without it (the command line) the machine connects
    // them later (each_guestfwd_chardev).
    static std::unique_ptr<UserNetBackend> open(const std::string& id, const UserNetConfig& config, EventLoop& loop,
                                                GuestFwdChardevs* chardevs = nullptr);
    ~UserNetBackend() override;

    std::string_view type() const override { return "user"; }
    std::string info(unsigned) const override { return info_; }
    NetPort& port(unsigned) override { return *this; }
    EventLoop* service_loop() const override { return &loop_; }

    // NetPort (the NIC's thread)
    int rx_fd() const override { return to_guest_.fd(); }
    ssize_t receive(std::span<const iovec> iov) override;
    bool frame_waiting() const override { return !to_guest_.empty(); }
    ssize_t send(std::span<const iovec> iov) override;
    int tx_fd() const override { return -1; }

    // The monitor (loop thread): hostfwd_add (throws QEMU's texts),
    // hostfwd_remove (false: no such rule), info usernet's table.
    void add_hostfwd(const std::string& rule);
    bool remove_hostfwd(const HostFwdRule& rule);
    std::string connection_info() const;

    // The chardevs its guestfwd= rules use, by id, each with the call that
    // connects it (the machine makes them after the backends).
    void each_guestfwd_chardev(const std::function<void(const std::string&, std::function<void(Chardev&)>)>& use);
    // netdev_del: the rules let go of their chardevs and `chardevs` deletes
    // them, as QEMU's slirp cleanup does.
    void release_guestfwd_chardevs(GuestFwdChardevs& chardevs);
    // While a guestfwd chardev holds more unsent guest bytes than this,
    // the guest's frames wait in their queue.
    static constexpr size_t kGuestFwdBacklog = 1024 * 1024;

private:
    struct Timer;
    UserNetBackend(std::string id, const UserNetConfig& config, EventLoop& loop, GuestFwdChardevs* chardevs);
    void start();               // libslirp, the stack, its rules; throws QEMU's texts
    void add_rules();
    void ensure_started();

    void from_guest();          // frames the NIC sent, into slirp
    void service();             // sockets that are ready, timers that expired
    void refresh();             // the sockets and deadline slirp wants now
    void sync_epoll();
    void arm_timer(uint32_t slirp_timeout_ms);
    void add_guestfwd(const std::string& text);
    bool guestfwd_backlogged() const;
    void pause_input(bool paused);

    struct Callbacks;   // libslirp's callbacks (user_net.cpp)
    friend struct Callbacks;

    const LibSlirp* lib_ = nullptr;   // loaded by start()
    EventLoop& loop_;
    GuestFwdChardevs* chardevs_;  // netdev_add's: opens the rules' chardevs
    UserNetConfig config_;        // slirp keeps pointers to some of its strings
    UserNetAddresses addresses_;
    std::vector<const char*> dnssearch_;
    std::string info_;
    Slirp* slirp_ = nullptr;
    FrameQueue to_guest_{4096};
    FrameQueue from_guest_{4096};
    UniqueFd epoll_;              // slirp's sockets
    UniqueFd timer_fd_;
    int64_t armed_ns_ = INT64_MAX;  // the timerfd's deadline; INT64_MAX: not armed
    std::vector<pollfd> polled_;  // slirp's last fill; revents from epoll
    std::map<int, uint32_t> registered_;   // fd -> epoll events in epoll_
    std::vector<std::unique_ptr<Timer>> timers_;
    std::vector<std::unique_ptr<GuestForward>> guestfwds_;   // rules to chardevs
    std::vector<uint8_t> buffer_;   // sized when the stack starts
    bool in_loop_ = false;        // from_guest_ registered with loop_
    bool polling_ = false;        // the stack's sockets and timer registered with loop_
    bool start_failed_ = false;
    bool input_paused_ = false;   // a guestfwd chardev is backlogged
};

} // namespace kestrel
