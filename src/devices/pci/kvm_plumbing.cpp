#include "devices/pci/kvm_plumbing.h"

#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace kestrel {

KvmMsiSink::KvmMsiSink(Vm& vm, unsigned vectors) : vm_(vm), routes_(vectors) {}

KvmMsiSink::~KvmMsiSink() {
    for (auto& r : routes_) {
        if (r.irqfd && r.gsi) vm_.deassign_irqfd(r.irqfd.get(), *r.gsi);
        if (r.gsi) vm_.remove_msi_route(*r.gsi);
        r.irqfd.reset();
    }
}

bool KvmMsiSink::route(unsigned vector, const MsiMessage& message) {
    Route& r = routes_[vector];
    if (!r.gsi) {
        r.gsi = vm_.add_msi_route(message.address, message.data);
        if (!r.gsi) return false;
        r.message = message;
        r.irqfd.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (!r.irqfd || !vm_.assign_irqfd(r.irqfd.get(), *r.gsi)) {
            r.irqfd.reset();
            vm_.remove_msi_route(*r.gsi);
            r.gsi.reset();
            return false;
        }
        return true;
    }
    if (r.message != message) {
        if (!vm_.update_msi_route(*r.gsi, message.address, message.data)) return false;
        r.message = message;
    }
    return true;
}

void KvmMsiSink::prepare(unsigned vector, const MsiMessage& message) {
    if (vector < routes_.size()) route(vector, message);
}

int KvmMsiSink::irqfd(unsigned vector, const MsiMessage& message) {
    return vector < routes_.size() && route(vector, message) ? routes_[vector].irqfd.get() : -1;
}

void KvmMsiSink::send(unsigned vector, const MsiMessage& message) {
    if (vector < routes_.size() && route(vector, message)) {
        uint64_t one = 1;
        if (::write(routes_[vector].irqfd.get(), &one, sizeof one) == sizeof one) return;
    }
    if (!vm_.signal_msi(message.address, message.data))
        spdlog::warn("KVM_SIGNAL_MSI: {}", std::strerror(errno));
}

bool KvmPlumbing::add_ioeventfd(const NotifyEventFd& e) {
    return vm_.assign_ioeventfd({e.fd, e.pio, e.address, e.length, e.datamatch});
}

void KvmPlumbing::remove_ioeventfd(const NotifyEventFd& e) {
    vm_.deassign_ioeventfd({e.fd, e.pio, e.address, e.length, e.datamatch});
}

std::shared_ptr<MsiSink> KvmPlumbing::make_msi_sink(unsigned vectors) {
    return std::make_shared<KvmMsiSink>(vm_, vectors);
}

} // namespace kestrel
