#include "net/guest_forward.h"

#include "net/libslirp.h"

#include <climits>

namespace kestrel {

GuestForward::GuestForward(const LibSlirp& lib, Slirp* slirp, std::string chardev_id,
                           std::function<void()> after_input)
    : lib_(lib), slirp_(slirp), chardev_id_(std::move(chardev_id)), after_input_(std::move(after_input)) {}

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
}

void GuestForward::poll() {
    if (!waiting_ || !chardev_) return;
    if (lib_.socket_can_recv(slirp_, server_, port_) == 0) return;
    waiting_ = false;
    chardev_->frontend_ready();
}

ssize_t GuestForward::write_to_chardev(const void* buf, size_t len, void* opaque) {
    auto* self = static_cast<GuestForward*>(opaque);
    if (self->chardev_) self->chardev_->write({static_cast<const uint8_t*>(buf), len});
    return ssize_t(len);
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
    after_input_();
}

} // namespace kestrel
