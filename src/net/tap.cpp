#include "net/tap.h"

#include "net/bridge_helper.h"
#include "net/child_process.h"
#include "net/vhost_net.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace kestrel {

namespace {

std::runtime_error errno_error(const std::string& what, int err) {
    return std::runtime_error(what + ": " + std::strerror(err));
}

bool script_given(const std::string& script) { return !script.empty() && script != "no"; }

// QEMU's tap_open: IFF_TAP | IFF_NO_PI, the vnet header when the kernel has
// it (or as required), IFF_MULTI_QUEUE for several queues.
UniqueFd open_tun(std::string& ifname, bool& vnet_hdr, bool vnet_hdr_required, bool multiqueue) {
    UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!fd) throw errno_error("could not open /dev/net/tun", errno);
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    unsigned int features = 0;
    if (ioctl(fd.get(), TUNGETFEATURES, &features) == -1) {
        spdlog::warn("TUNGETFEATURES failed: {}", std::strerror(errno));
        features = 0;
    }
    if (vnet_hdr) {
        vnet_hdr = features & IFF_VNET_HDR;
        if (vnet_hdr_required && !vnet_hdr)
            throw std::runtime_error("vnet_hdr=1 requested, but no kernel support for IFF_VNET_HDR available");
        if (vnet_hdr) ifr.ifr_flags |= IFF_VNET_HDR;
    }
    if (multiqueue) {
        if (!(features & IFF_MULTI_QUEUE))
            throw std::runtime_error("multiqueue required, but no kernel support for IFF_MULTI_QUEUE available");
        ifr.ifr_flags |= IFF_MULTI_QUEUE;
    }
    std::strncpy(ifr.ifr_name, ifname.empty() ? "tap%d" : ifname.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd.get(), TUNSETIFF, &ifr) != 0) {
        int err = errno;
        throw errno_error(ifname.empty() ? "could not configure /dev/net/tun"
                                         : "could not configure /dev/net/tun (" + std::string(ifr.ifr_name) + ")",
                          err);
    }
    ifname = ifr.ifr_name;
    return fd;
}

// A descriptor the caller opened: it must be a tap; whether it carries the
// vnet header is the tap's (QEMU's tap_probe_vnet_hdr).
bool probe_vnet_hdr(int fd) {
    ifreq ifr{};
    if (ioctl(fd, TUNGETIFF, &ifr) != 0) throw errno_error("Unable to query TUNGETIFF on FD " + std::to_string(fd), errno);
    return ifr.ifr_flags & IFF_VNET_HDR;
}

// QEMU's check of the other fds= queues: one that is not a tap counts as a
// mismatch too.
bool same_vnet_hdr(int fd, bool vnet_hdr) {
    ifreq ifr{};
    return ioctl(fd, TUNGETIFF, &ifr) == 0 && bool(ifr.ifr_flags & IFF_VNET_HDR) == vnet_hdr;
}

void set_sndbuf(int fd, const std::optional<uint64_t>& sndbuf) {
    int value = sndbuf ? int(std::min<uint64_t>(*sndbuf, INT_MAX)) : INT_MAX;
    if (value == 0) value = INT_MAX;
    if (ioctl(fd, TUNSETSNDBUF, &value) == -1 && sndbuf) throw errno_error("TUNSETSNDBUF ioctl failed", errno);
}

} // namespace

// One queue: reads and writes frames, adding or stripping the kernel's
// vnet header when the NIC does not use it.
class TapBackend::Queue final : public NetPort {
public:
    Queue(UniqueFd fd, const TapBackend& tap) : fd_(std::move(fd)), tap_(tap) {}

    int fd() const { return fd_.get(); }
    int rx_fd() const override { return fd_.get(); }
    int tx_fd() const override { return fd_.get(); }

    ssize_t receive(std::span<const iovec> iov) override {
        unsigned strip = tap_.vnet_hdr_ && !tap_.using_hdr_ ? tap_.host_hdr_len_ : 0;
        iovec local[kMaxIov];
        size_t count = with_header(iov, strip, local);
        ssize_t n;
        do n = ::readv(fd_.get(), local, int(count));
        while (n < 0 && errno == EINTR);
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        return n >= ssize_t(strip) ? n - strip : 0;
    }

    ssize_t send(std::span<const iovec> iov) override {
        unsigned add = tap_.vnet_hdr_ && !tap_.using_hdr_ ? tap_.host_hdr_len_ : 0;
        iovec local[kMaxIov];
        size_t count = with_header(iov, add, local);
        ssize_t n;
        do n = ::writev(fd_.get(), local, int(count));
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno == EAGAIN) return -1;
        size_t total = 0;
        for (const iovec& v : iov) total += v.iov_len;
        if (n < 0 && !warned_) {  // a frame the kernel refuses is dropped, as QEMU drops it
            warned_ = true;
            spdlog::warn("tap {}: a frame of {} bytes was refused: {}", tap_.ifname_, total, std::strerror(errno));
        }
        return ssize_t(total);
    }

private:
    static constexpr size_t kMaxIov = 1024;

    // `iov` behind a zero header of `header` bytes (none for 0), at most
    // kMaxIov entries (the rest of a longer frame is cut off).
    size_t with_header(std::span<const iovec> iov, unsigned header, iovec* out) {
        size_t count = 0;
        if (header) out[count++] = {scratch_, header};
        for (const iovec& v : iov) {
            if (count == kMaxIov) break;
            out[count++] = v;
        }
        std::memset(scratch_, 0, sizeof scratch_);
        return count;
    }

    UniqueFd fd_;
    const TapBackend& tap_;
    uint8_t scratch_[kVnetHdrMrgLen];
    bool warned_ = false;
};

TapBackend::TapBackend(std::string id, std::vector<UniqueFd> fds, bool vnet_hdr)
    : NetBackend(std::move(id)), vnet_hdr_(vnet_hdr), multiqueue_(fds.size() > 1) {
    for (UniqueFd& fd : fds) queues_.push_back(std::make_unique<Queue>(std::move(fd), *this));
    for (auto& q : queues_) {
        // NICs read a port on their loop until receive() finds no frame: on
        // a blocking tap (the bridge helper sends one) that last read would
        // stall the loop, and every device on it, until another frame came.
        int flags = fcntl(q->fd(), F_GETFL);
        if (flags >= 0 && !(flags & O_NONBLOCK)) fcntl(q->fd(), F_SETFL, flags | O_NONBLOCK);
        // A previous user may have left other settings on a tap it passed on.
        if (vnet_hdr_) {
            int len = int(host_hdr_len_);
            ioctl(q->fd(), TUNSETVNETHDRSZ, &len);
        }
        ioctl(q->fd(), TUNSETOFFLOAD, 0u);
    }
}

// As QEMU: the downscript sees the interface still there, then it goes.
TapBackend::~TapBackend() {
    if (!downscript_.empty()) {
        try {
            run_network_script(downscript_, ifname_, queues_.empty() ? -1 : queues_[0]->fd());
        } catch (const std::exception& e) {
            spdlog::warn("{}", e.what());
        }
    }
}

std::unique_ptr<TapBackend> TapBackend::open(const std::string& id, const TapConfig& config) {
    std::vector<UniqueFd> fds;
    std::vector<std::string> infos;
    bool vnet_hdr = config.vnet_hdr.value_or(true);
    std::string ifname = config.ifname;
    std::string downscript;
    if (!config.helper.empty()) {
        fds.push_back(run_bridge_helper(config.helper, config.br));
        vnet_hdr = probe_vnet_hdr(fds[0].get());
        infos.push_back(config.bridge ? "helper=" + config.helper + ",br=" + config.br : "helper=" + config.helper);
    } else if (!config.fds.empty()) {
        for (int fd : config.fds) fds.emplace_back(fd);   // the tap's from here: closed if it fails
        for (size_t i = 0; i < config.fds.size(); ++i) {
            int fd = config.fds[i];
            if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) throw errno_error(id + ": Can't use file descriptor " + std::to_string(fd), errno);
            if (i == 0) vnet_hdr = probe_vnet_hdr(fd);
            else if (!same_vnet_hdr(fd, vnet_hdr)) throw std::runtime_error("vnet_hdr not consistent across given tap fds");
            infos.push_back("fd=" + std::to_string(fd));
        }
    } else {
        bool multiqueue = config.queues > 1;
        for (unsigned i = 0; i < config.queues; ++i) {
            fds.push_back(open_tun(ifname, vnet_hdr, config.vnet_hdr.value_or(false), multiqueue));
            bool first = i == 0;
            if (first && script_given(config.script)) run_network_script(config.script, ifname, fds.back().get());
            infos.push_back("ifname=" + ifname + ",script=" + (first ? config.script : "no") +
                            ",downscript=" + (first ? config.downscript : "no"));
        }
        if (script_given(config.downscript)) downscript = config.downscript;
    }
    for (const UniqueFd& fd : fds) set_sndbuf(fd.get(), config.sndbuf);
    std::unique_ptr<TapBackend> tap(new TapBackend(id, std::move(fds), vnet_hdr));
    tap->ifname_ = ifname;
    tap->infos_ = std::move(infos);
    tap->downscript_ = downscript;
    if (config.wants_vhost()) tap->open_vhost(config);
    return tap;
}

void TapBackend::open_vhost(const TapConfig& config) {
    vhost_force_ = config.vhostforce;
    if (!config.vhostfds.empty()) {
        for (int fd : config.vhostfds) vhost_fds_.emplace_back(fd);
        // QEMU sets the owner here and fails the same way when the caller
        // passed something that is not vhost-net; asking for the features
        // tells as much without binding the device to us yet.
        for (const UniqueFd& fd : vhost_fds_)
            if (!VhostNet::features(fd.get())) throw std::runtime_error("vhost-net requested but could not be initialized");
        return;
    }
    for (size_t i = 0; i < queues_.size(); ++i) {
        UniqueFd fd(::open("/dev/vhost-net", O_RDWR | O_CLOEXEC));
        if (!fd) throw errno_error("tap: open vhost char device failed", errno);
        vhost_fds_.push_back(std::move(fd));
    }
}

std::string TapBackend::info(unsigned queue) const { return queue < infos_.size() ? infos_[queue] : std::string(); }

NetPort& TapBackend::port(unsigned queue) { return *queues_.at(queue); }

int TapBackend::tap_fd(unsigned queue) const { return queue < queues_.size() ? queues_[queue]->fd() : -1; }

int TapBackend::vhost_fd(unsigned queue) const { return queue < vhost_fds_.size() ? vhost_fds_[queue].get() : -1; }

// The NIC's header length (10 or 12) becomes the kernel's; 0: the NIC does
// not use headers and the queues add and strip the kernel's.
void TapBackend::set_vnet_hdr_len(unsigned len) {
    if (!vnet_hdr_) return;
    using_hdr_ = len != 0;
    if (!len || len == host_hdr_len_) return;
    host_hdr_len_ = len;
    int value = int(len);
    for (auto& q : queues_)
        if (ioctl(q->fd(), TUNSETVNETHDRSZ, &value) != 0)
            spdlog::warn("tap {}: TUNSETVNETHDRSZ {}: {}", ifname_, len, std::strerror(errno));
}

// What the tap may hand us: frames with partial checksums and GSO
// segments of these kinds. A kernel without UFO is asked again without it.
void TapBackend::set_offloads(const NetOffloads& o) {
    if (!vnet_hdr_) return;
    unsigned flags = 0;
    if (o.csum) {
        flags |= TUN_F_CSUM;
        if (o.tso4) flags |= TUN_F_TSO4;
        if (o.tso6) flags |= TUN_F_TSO6;
        if (o.ecn) flags |= TUN_F_TSO_ECN;
        if (o.ufo) flags |= TUN_F_UFO;
    }
    for (auto& q : queues_) {
        if (ioctl(q->fd(), TUNSETOFFLOAD, flags) == 0) continue;
        if (ioctl(q->fd(), TUNSETOFFLOAD, flags & ~unsigned(TUN_F_UFO)) != 0)
            spdlog::warn("tap {}: TUNSETOFFLOAD {:#x}: {}", ifname_, flags, std::strerror(errno));
    }
}

void TapBackend::set_queue_enabled(unsigned queue, bool enabled) {
    if (!multiqueue_ || queue >= queues_.size()) return;
    ifreq ifr{};
    ifr.ifr_flags = enabled ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
    if (ioctl(queues_[queue]->fd(), TUNSETQUEUE, &ifr) != 0 && errno != EINVAL)
        spdlog::warn("tap {}: {} queue {}: {}", ifname_, enabled ? "attaching" : "detaching", queue,
                     std::strerror(errno));
}

// QEMU's launch_script: the script gets the interface name; only stdio and
// the tap stay open in it.
void run_network_script(const std::string& script, const std::string& ifname, int keep_fd) {
    pid_t pid = spawn_keeping_fd({script, ifname}, keep_fd);
    if (pid < 0) throw errno_error("could not launch network script " + script, errno);
    int status = wait_child(pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    throw std::runtime_error("network script " + script + " failed with status " + std::to_string(status));
}

} // namespace kestrel
