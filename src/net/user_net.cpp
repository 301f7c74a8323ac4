#include "net/user_net.h"

#include "base/monotonic_clock.h"
#include "net/guest_forward.h"
#include "net/guestfwd_chardevs.h"
#include "net/libslirp.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace kestrel {

namespace {

constexpr unsigned kInputBudget = 256;    // frames into slirp per wake-up
constexpr size_t kMinFrame = 60;          // Ethernet's minimum without FCS

int64_t now_ns() { return int64_t(monotonic_ns()); }

uint32_t to_epoll(int slirp_events) {
    uint32_t e = 0;
    if (slirp_events & SLIRP_POLL_IN) e |= EPOLLIN;
    if (slirp_events & SLIRP_POLL_OUT) e |= EPOLLOUT;
    if (slirp_events & SLIRP_POLL_PRI) e |= EPOLLPRI;
    return e;
}

int to_slirp(uint32_t epoll_events) {
    int e = 0;
    if (epoll_events & EPOLLIN) e |= SLIRP_POLL_IN;
    if (epoll_events & EPOLLOUT) e |= SLIRP_POLL_OUT;
    if (epoll_events & EPOLLPRI) e |= SLIRP_POLL_PRI;
    if (epoll_events & EPOLLERR) e |= SLIRP_POLL_ERR;
    if (epoll_events & EPOLLHUP) e |= SLIRP_POLL_HUP;
    return e;
}

} // namespace

struct UserNetBackend::Timer {
    SlirpTimerId id;
    void* cb_opaque;
    int64_t expire_ms = -1;   // -1: not armed
};

// libslirp's callbacks: the loop thread, inside calls into slirp.
struct UserNetBackend::Callbacks {
    static ssize_t send_packet(const void* buf, size_t len, void* opaque);
    static void guest_error(const char* msg, void* opaque);
    static int64_t clock_get_ns(void* opaque);
    static void* timer_new_opaque(SlirpTimerId id, void* cb_opaque, void* opaque);
    static void timer_free(void* timer, void* opaque);
    static void timer_mod(void* timer, int64_t expire_ms, void* opaque);
    static void register_poll_fd(int fd, void* opaque);
    static void unregister_poll_fd(int fd, void* opaque);
    static void notify(void* opaque);
    static void init_completed(Slirp* slirp, void* opaque);
    static int add_poll(int fd, int events, void* opaque);
    static int get_revents(int idx, void* opaque);
};

UserNetBackend::UserNetBackend(std::string id, const UserNetConfig& config, EventLoop& loop,
                               GuestFwdChardevs* chardevs)
    : NetBackend(std::move(id)), loop_(loop), chardevs_(chardevs), config_(config), addresses_(resolve_user_net(config)) {
    info_ = std::string("net=") + inet_ntoa(addresses_.net) + ",restrict=" + (config_.restrict ? "on" : "off");
}

// A stack without forwarding rules has nothing to do before the guest's
// first frame: libslirp (and glib) are loaded then, so the default network
// of a plain command line costs nothing until the guest uses it.
std::unique_ptr<UserNetBackend> UserNetBackend::open(const std::string& id, const UserNetConfig& config,
                                                     EventLoop& loop, GuestFwdChardevs* chardevs) {
    check_user_net_names(config);
    std::unique_ptr<UserNetBackend> backend(new UserNetBackend(id, config, loop, chardevs));
    if (!config.hostfwd.empty() || !config.guestfwd.empty()) backend->start();
    loop.add_fd(backend->from_guest_.fd(), EPOLLIN, [b = backend.get()](uint32_t) { b->from_guest(); });
    backend->in_loop_ = true;
    return backend;
}

void UserNetBackend::start() {
    lib_ = &LibSlirp::get();
    buffer_.resize(kMaxFrameSize);
    const UserNetAddresses& a = addresses_;
    epoll_ = UniqueFd(epoll_create1(EPOLL_CLOEXEC));
    timer_fd_ = UniqueFd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!epoll_ || !timer_fd_) throw std::runtime_error(std::string("user network: ") + std::strerror(errno));

    static const SlirpCb callbacks = {
        .send_packet = Callbacks::send_packet,
        .guest_error = Callbacks::guest_error,
        .clock_get_ns = Callbacks::clock_get_ns,
        .timer_new = nullptr,
        .timer_free = Callbacks::timer_free,
        .timer_mod = Callbacks::timer_mod,
        .register_poll_fd = Callbacks::register_poll_fd,
        .unregister_poll_fd = Callbacks::unregister_poll_fd,
        .notify = Callbacks::notify,
        .init_completed = Callbacks::init_completed,
        .timer_new_opaque = Callbacks::timer_new_opaque,
    };
    for (const std::string& name : config_.dnssearch) dnssearch_.push_back(name.c_str());
    dnssearch_.push_back(nullptr);
    auto c_str = [](const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; };

    SlirpConfig cfg{};
    cfg.version = 4;
    cfg.restricted = config_.restrict;
    cfg.in_enabled = a.ipv4;
    cfg.vnetwork = a.net;
    cfg.vnetmask = a.mask;
    cfg.vhost = a.host;
    cfg.in6_enabled = a.ipv6;
    cfg.vprefix_addr6 = a.prefix6;
    cfg.vprefix_len = uint8_t(a.prefix6_len);
    cfg.vhost6 = a.host6;
    cfg.vhostname = c_str(config_.hostname);
    cfg.tftp_server_name = c_str(config_.tftp_server_name);
    cfg.tftp_path = c_str(config_.tftp);
    cfg.bootfile = c_str(config_.bootfile);
    cfg.vdhcp_start = a.dhcp;
    cfg.vnameserver = a.dns;
    cfg.vnameserver6 = a.dns6;
    cfg.vdnssearch = config_.dnssearch.empty() ? nullptr : dnssearch_.data();
    cfg.vdomainname = c_str(config_.domainname);
    slirp_ = lib_->new_stack(&cfg, &callbacks, this);
    if (!slirp_) throw std::runtime_error("user network: libslirp could not start");

    add_rules();

    loop_.add_fd(epoll_.get(), EPOLLIN, [this](uint32_t) { service(); });
    loop_.add_fd(timer_fd_.get(), EPOLLIN, [this](uint32_t) {
        uint64_t expirations;
        [[maybe_unused]] auto r = ::read(timer_fd_.get(), &expirations, sizeof expirations);
        armed_ns_ = INT64_MAX;
        service();
    });
    polling_ = true;
    refresh();
}

// QEMU adds the rules last first, guest forwarding before host forwarding.
// A rule that fails deletes the chardevs the ones before it opened (QEMU
// deletes the whole net client).
void UserNetBackend::add_rules() {
    try {
        for (auto it = config_.guestfwd.rbegin(); it != config_.guestfwd.rend(); ++it) add_guestfwd(*it);
        for (auto it = config_.hostfwd.rbegin(); it != config_.hostfwd.rend(); ++it) add_hostfwd(*it);
    } catch (const std::runtime_error&) {
        if (chardevs_) release_guestfwd_chardevs(*chardevs_);
        throw;
    }
}

void UserNetBackend::ensure_started() {
    if (!slirp_) start();
}

UserNetBackend::~UserNetBackend() {
    if (in_loop_) loop_.remove_fd(from_guest_.fd());
    if (polling_) {
        loop_.remove_fd(epoll_.get());
        loop_.remove_fd(timer_fd_.get());
    }
    if (slirp_) lib_->cleanup(slirp_);
}

ssize_t UserNetBackend::receive(std::span<const iovec> iov) { return ssize_t(to_guest_.pop(iov)); }

ssize_t UserNetBackend::send(std::span<const iovec> iov) {
    size_t total = 0;
    for (const iovec& v : iov) total += v.iov_len;
    if (!link_down()) from_guest_.push(iov);  // a full queue drops it, as a busy wire would
    return ssize_t(total);
}

void UserNetBackend::from_guest() {
    if (!slirp_) {
        try {
            start();
        } catch (const std::runtime_error& e) {
            if (!start_failed_) spdlog::error("user network {}: {}", id(), e.what());
            start_failed_ = true;
            from_guest_.clear();
            return;
        }
    }
    for (unsigned i = 0; i < kInputBudget; ++i) {
        if (guestfwd_backlogged()) {
            pause_input(true);
            break;
        }
        iovec v{buffer_.data(), buffer_.size()};
        size_t n = from_guest_.pop({&v, 1});
        if (n == 0) break;
        lib_->input(slirp_, buffer_.data(), int(std::min(n, buffer_.size())));
    }
    refresh();
}

void UserNetBackend::service() {
    epoll_event events[256];
    int n = epoll_wait(epoll_.get(), events, 256, 0);
    std::map<int, uint32_t> ready;
    for (int i = 0; i < n; ++i) ready[events[i].data.fd] = events[i].events;
    for (pollfd& p : polled_) {
        auto it = ready.find(p.fd);
        p.revents = short(it == ready.end() ? 0 : to_slirp(it->second));
    }
    lib_->pollfds_poll(slirp_, 0, Callbacks::get_revents, this);

    int64_t now_ms = now_ns() / 1000000;
    for (size_t i = 0; i < timers_.size(); ++i) {  // a handler may add or free timers
        Timer& t = *timers_[i];
        if (t.expire_ms >= 0 && t.expire_ms <= now_ms) {
            t.expire_ms = -1;
            lib_->handle_timer(slirp_, t.id, t.cb_opaque);
        }
    }
    refresh();
}

void UserNetBackend::refresh() {
    polled_.clear();
    uint32_t timeout = UINT32_MAX;
    lib_->pollfds_fill(slirp_, &timeout, Callbacks::add_poll, this);
    sync_epoll();
    for (auto& fwd : guestfwds_) fwd->poll();
    if (input_paused_ && !guestfwd_backlogged()) pause_input(false);  // a chardev's writable() ends here
    arm_timer(timeout);
}

bool UserNetBackend::guestfwd_backlogged() const {
    for (const auto& fwd : guestfwds_)
        if (fwd->backlog() > kGuestFwdBacklog) return true;
    return false;
}

// Frames stay in from_guest_ meanwhile: the guest's TCP stops at its
// window (without acknowledgements), nothing it sent is dropped.
void UserNetBackend::pause_input(bool paused) {
    if (paused == input_paused_) return;
    input_paused_ = paused;
    loop_.modify_fd(from_guest_.fd(), paused ? 0u : uint32_t(EPOLLIN));
}

// The epoll set follows slirp's wishes: new sockets in, changed ones
// modified, the ones it no longer polls out.
void UserNetBackend::sync_epoll() {
    std::map<int, uint32_t> wanted;
    for (const pollfd& p : polled_) wanted[p.fd] |= uint32_t(p.events);
    for (auto& [fd, events] : wanted) {
        auto it = registered_.find(fd);
        if (it != registered_.end() && it->second == events) continue;
        epoll_event ev{};
        ev.events = events;
        ev.data.fd = fd;
        int op = it == registered_.end() ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
        if (epoll_ctl(epoll_.get(), op, fd, &ev) != 0) {
            op = errno == EEXIST ? EPOLL_CTL_MOD : errno == ENOENT ? EPOLL_CTL_ADD : -1;
            if (op < 0 || epoll_ctl(epoll_.get(), op, fd, &ev) != 0)
                spdlog::warn("user network: cannot watch socket {}: {}", fd, std::strerror(errno));
        }
    }
    for (const auto& [fd, events] : registered_)
        if (!wanted.count(fd)) epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    registered_ = std::move(wanted);
}

// The earlier of slirp's own deadline (its TCP timers) and its timers'.
void UserNetBackend::arm_timer(uint32_t slirp_timeout_ms) {
    int64_t now = now_ns();
    int64_t deadline = slirp_timeout_ms == UINT32_MAX ? INT64_MAX : now + int64_t(slirp_timeout_ms) * 1000000;
    for (const auto& t : timers_)
        if (t->expire_ms >= 0) deadline = std::min(deadline, t->expire_ms * 1000000);
    // A timer set to go off no later is kept: waking early only runs
    // service() once more, and re-arming at every call into slirp cost a
    // syscall per packet.
    if (deadline >= armed_ns_) return;
    itimerspec spec{};
    deadline = std::max(deadline, now + 1);
    spec.it_value.tv_sec = deadline / 1000000000;
    spec.it_value.tv_nsec = deadline % 1000000000;
    timerfd_settime(timer_fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
    armed_ns_ = deadline;
}

// "cmd:" rules run a command per connection (slirp forks it); the others
// talk through a chardev: netdev_add's open it here, in QEMU's order
// (chardev, then slirp, which deletes the chardev when it refuses); the
// command line's are connected by each_guestfwd_chardev().
void UserNetBackend::add_guestfwd(const std::string& text) {
    GuestFwdRule rule = parse_guestfwd(text);
    auto conflicting = [&] {
        return std::runtime_error("Conflicting/invalid host:port in guest forwarding rule '" + text + "'");
    };
    if (rule.exec) {
        if (lib_->add_exec(slirp_, rule.command.c_str(), &rule.server, rule.port) < 0) throw conflicting();
        return;
    }
    Chardev* chardev = chardevs_ ? &chardevs_->open(rule) : nullptr;
    auto fwd = std::make_unique<GuestForward>(*lib_, slirp_, rule.chardev_id(), [this] { refresh(); });
    if (!fwd->add(rule.server, rule.port)) {
        if (chardev) chardevs_->remove(rule.chardev_id());
        throw conflicting();
    }
    if (chardev) fwd->connect(*chardev);
    guestfwds_.push_back(std::move(fwd));
}

// The forwarders stay registered with slirp, without a chardev.
void UserNetBackend::release_guestfwd_chardevs(GuestFwdChardevs& chardevs) {
    for (auto& fwd : guestfwds_) {
        fwd->disconnect();
        chardevs.remove(fwd->chardev_id());
    }
}

void UserNetBackend::each_guestfwd_chardev(
    const std::function<void(const std::string&, std::function<void(Chardev&)>)>& use) {
    for (auto& fwd : guestfwds_) use(fwd->chardev_id(), [f = fwd.get()](Chardev& c) { f->connect(c); });
}

void UserNetBackend::add_hostfwd(const std::string& text) {
    HostFwdRule rule = parse_hostfwd(text);
    ensure_started();
    if (lib_->add_hostfwd(slirp_, rule.udp, rule.host_addr, rule.host_port, rule.guest_addr, rule.guest_port) < 0)
        throw std::runtime_error("Could not set up host forwarding rule '" + text + "'");
    if (polling_) refresh();
}

bool UserNetBackend::remove_hostfwd(const HostFwdRule& rule) {
    if (!slirp_) return false;
    bool removed = lib_->remove_hostfwd(slirp_, rule.udp, rule.host_addr, rule.host_port) == 0;
    refresh();
    return removed;
}

std::string UserNetBackend::connection_info() const {
    if (!slirp_) return "  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\n";
    char* text = lib_->connection_info(slirp_);
    std::string out = text ? text : "";
    lib_->free(text);
    return out;
}


ssize_t UserNetBackend::Callbacks::send_packet(const void* buf, size_t len, void* opaque) {
    auto* self = static_cast<UserNetBackend*>(opaque);
    if (self->link_down()) return ssize_t(len);
    uint8_t padded[kMinFrame] = {};
    iovec v{const_cast<void*>(buf), len};
    if (len < kMinFrame) {  // NICs see at least a minimal Ethernet frame
        std::memcpy(padded, buf, len);
        v = {padded, kMinFrame};
    }
    self->to_guest_.push(std::span<const iovec>(&v, 1));
    return ssize_t(len);
}

void UserNetBackend::Callbacks::guest_error(const char* msg, void* opaque) {
    spdlog::debug("user network {}: guest error: {}", static_cast<UserNetBackend*>(opaque)->id(), msg);
}

int64_t UserNetBackend::Callbacks::clock_get_ns(void*) { return now_ns(); }

void UserNetBackend::Callbacks::init_completed(Slirp* slirp, void* opaque) {
    static_cast<UserNetBackend*>(opaque)->slirp_ = slirp;
}

void* UserNetBackend::Callbacks::timer_new_opaque(SlirpTimerId id, void* cb_opaque, void* opaque) {
    auto* self = static_cast<UserNetBackend*>(opaque);
    self->timers_.push_back(std::make_unique<Timer>(Timer{id, cb_opaque, -1}));
    return self->timers_.back().get();
}

void UserNetBackend::Callbacks::timer_free(void* timer, void* opaque) {
    auto* self = static_cast<UserNetBackend*>(opaque);
    std::erase_if(self->timers_, [timer](const auto& t) { return t.get() == timer; });
}

// Inside a call into slirp, which ends with refresh(): that arms the timerfd.
void UserNetBackend::Callbacks::timer_mod(void* timer, int64_t expire_ms, void*) {
    static_cast<Timer*>(timer)->expire_ms = std::max<int64_t>(expire_ms, 0);
}

void UserNetBackend::Callbacks::register_poll_fd(int, void*) {}

// slirp closes the socket right after: out of the set before its number is reused.
void UserNetBackend::Callbacks::unregister_poll_fd(int fd, void* opaque) {
    auto* self = static_cast<UserNetBackend*>(opaque);
    if (self->registered_.erase(fd)) epoll_ctl(self->epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void UserNetBackend::Callbacks::notify(void*) {}   // every call into slirp ends with refresh()

int UserNetBackend::Callbacks::add_poll(int fd, int events, void* opaque) {
    auto* self = static_cast<UserNetBackend*>(opaque);
    self->polled_.push_back({fd, short(to_epoll(events)), 0});
    return int(self->polled_.size() - 1);
}

int UserNetBackend::Callbacks::get_revents(int idx, void* opaque) {
    auto* self = static_cast<UserNetBackend*>(opaque);
    if (idx < 0 || size_t(idx) >= self->polled_.size()) return 0;
    return self->polled_[size_t(idx)].revents;
}

} // namespace kestrel
