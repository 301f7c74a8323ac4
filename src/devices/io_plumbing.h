#pragma once
// What a device needs from the hypervisor to take guest notifications and
// raise interrupts without a vCPU exit: ioeventfds (virtio queue
// notifications) and a sink for MSI-X messages. KvmPlumbing
// (pci/kvm_plumbing.h) implements it on a KVM Vm; unit tests fake it.
#include "devices/pci/msix.h"

#include <cstdint>
#include <memory>
#include <optional>

namespace kestrel {

// A guest write that signals eventfd `fd` without a vCPU exit.
struct NotifyEventFd {
    int fd = -1;
    bool pio = false;
    uint64_t address = 0;
    uint32_t length = 0;  // 0 = any length (MMIO only)
    std::optional<uint64_t> datamatch;
    bool operator==(const NotifyEventFd&) const = default;
};

class IoPlumbing {
public:
    virtual ~IoPlumbing() = default;
    // False if the hypervisor refused; the transport's BAR handlers then
    // still see the write and signal the eventfd themselves.
    virtual bool add_ioeventfd(const NotifyEventFd& ioeventfd) = 0;
    virtual void remove_ioeventfd(const NotifyEventFd& ioeventfd) = 0;
    // A sink for one device's MSI-X vectors.
    virtual std::shared_ptr<MsiSink> make_msi_sink(unsigned vectors) = 0;
};

} // namespace kestrel
