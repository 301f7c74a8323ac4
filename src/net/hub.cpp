#include "net/hub.h"

#include <sys/epoll.h>

namespace kestrel {

std::string HubPort::info(unsigned) const { return ""; }

ssize_t HubPort::send(std::span<const iovec> iov) {
    hub_.deliver(this, iov);
    size_t total = 0;
    for (const iovec& v : iov) total += v.iov_len;
    return ssize_t(total);
}

Hub::~Hub() {
    for (const Port& p : ports_)
        if (p.backend) loop_.remove_fd(p.backend->port(0).rx_fd());
}

HubPort& Hub::add_nic_port(const std::string& name) {
    std::lock_guard guard(lock_);
    std::string port_name = name.empty() ? "hub" + std::to_string(id_) + "port" + std::to_string(ports_.size()) : name;
    ports_.push_back({port_name, std::make_unique<HubPort>(port_name, *this), nullptr});
    return *ports_.back().nic_port;
}

std::string Hub::add_backend_port(NetBackend& backend) {
    std::string name;
    {
        std::lock_guard guard(lock_);
        name = "hub" + std::to_string(id_) + "port" + std::to_string(ports_.size());
        ports_.push_back({name, nullptr, &backend});
    }
    backend.set_in_use(true);
    backend.set_vnet_hdr_len(0);
    loop_.add_fd(backend.port(0).rx_fd(), EPOLLIN, [this, &backend](uint32_t) { pump(backend); });
    return name;
}

void Hub::remove_backend(NetBackend& backend) {
    loop_.remove_fd(backend.port(0).rx_fd());
    std::lock_guard guard(lock_);
    for (Port& p : ports_)
        if (p.backend == &backend) p.backend = nullptr;
}

// A bounded batch per wake-up, so one busy backend cannot starve the loop.
void Hub::pump(NetBackend& backend) {
    for (int i = 0; i < 64; ++i) {
        iovec v{buffer_.data(), buffer_.size()};
        ssize_t n = backend.port(0).receive({&v, 1});
        if (n <= 0) return;
        if (backend.link_down()) continue;
        iovec frame{buffer_.data(), size_t(n)};
        deliver(&backend, {&frame, 1});
    }
}

void Hub::deliver(const void* from, std::span<const iovec> frame) {
    std::lock_guard guard(lock_);
    for (const Port& p : ports_) {
        if (p.nic_port && p.nic_port.get() != from) {
            p.nic_port->frames().push(frame);
        } else if (p.backend && p.backend != from && !p.backend->link_down()) {
            p.backend->port(0).send(frame);  // a full backend drops it
        }
    }
}

std::vector<Hub::PortView> Hub::ports() const {
    std::lock_guard guard(lock_);
    std::vector<PortView> out;
    for (const Port& p : ports_) out.push_back({p.name, p.nic_port.get(), p.backend});
    return out;
}

} // namespace kestrel
