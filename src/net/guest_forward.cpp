#include "net/guest_forward.h"

#include "net/libslirp.h"

#include <climits>

namespace kestrel {

GuestForward::GuestForward(const LibSlirp& lib, Slirp* slirp, std::string chardev_id,
                           std::function<void()> refresh)
    : lib_(lib), slirp_(slirp), chardev_id_(std::move(chardev_id)), refresh_(std::move(refresh)) {}

GuestForward::~GuestForward() { disconnect(); }

bool GuestForward::add(in_addr server, int port) {
    if (lib_.add_guestfwd(slirp_, write_to_chardev, this, &server, port) < 0) return false;
    server_ = server;
    port_ = port;
    return true;
}

void GuestForward::connect(Chardev& chardev) {
    chardev_ = &chardev;
    chardev.attach(this);
}

void GuestForward::disconnect() {
    if (chardev_) chardev_->attach(nullptr);
    chardev_ = nullptr;
    waiting_ = false;
    drop_pending();
}

void GuestForward::poll() {
    if (!waiting_ || !chardev_) return;
    if (lib_.socket_can_recv(slirp_, server_, port_) == 0) return;
    waiting_ = false;
    chardev_->frontend_ready();
}

ssize_t GuestForward::write_to_chardev(const void* buf, size_t len, void* opaque) {
    auto* self = static_cast<GuestForward*>(opaque);
    self->to_chardev({static_cast<const uint8_t*>(buf), len});
    return ssize_t(len);
}

// Behind bytes still waiting, new ones wait too. Without a peer they are
// dropped, as QEMU's chardev drops them.
void GuestForward::to_chardev(std::span<const uint8_t> data) {
    if (!chardev_ || !chardev_->connected()) return;
    if (sent_ == pending_.size()) data = data.subspan(give(data));
    pending_.insert(pending_.end(), data.begin(), data.end());
}

// As much as the chardev takes; when it takes nothing more, its writable()
// follows.
size_t GuestForward::give(std::span<const uint8_t> data) {
    size_t done = 0;
    while (done < data.size()) {
        size_t n = chardev_->write_some(data.subspan(done));
        if (n == 0) break;
        done += n;
    }
    return done;
}

void GuestForward::writable() {
    if (!chardev_) return;
    sent_ += give(std::span(pending_).subspan(sent_));
    if (sent_ == pending_.size()) {
        pending_.clear();
        sent_ = 0;
    } else if (sent_ >= pending_.size() / 2) {   // keep the buffer from growing at its front
        pending_.erase(pending_.begin(), pending_.begin() + ptrdiff_t(sent_));
        sent_ = 0;
    }
    refresh_();
}

// The peer went away: what it did not take is lost with it.
void GuestForward::closed() {
    drop_pending();
    refresh_();
}

void GuestForward::drop_pending() {
    std::vector<uint8_t>().swap(pending_);
    sent_ = 0;
}

size_t GuestForward::can_receive() {
    size_t room = lib_.socket_can_recv(slirp_, server_, port_);
    waiting_ = room == 0;
    return room;
}

void GuestForward::receive(std::span<const uint8_t> data) {
    // The chardev hands over at most can_receive() bytes, never beyond an int.
    size_t n = std::min(data.size(), size_t(INT_MAX));
    lib_.socket_recv(slirp_, server_, port_, data.data(), int(n));
    refresh_();
}

} // namespace kestrel
