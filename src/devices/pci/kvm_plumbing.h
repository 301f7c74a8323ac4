#pragma once
// IoPlumbing on a KVM Vm: ioeventfds through
// KVM_IOEVENTFD, MSI-X vectors as GSI routes with an irqfd each, so a
// device thread raises an interrupt with one eventfd write.
#include "base/unique_fd.h"
#include "kvm/vm.h"
#include "devices/io_plumbing.h"

#include <optional>
#include <vector>

namespace kestrel {

// One device's vectors. A vector gets its GSI route and irqfd the first
// time it becomes deliverable; a changed message updates the route. If KVM
// refuses a route, messages go by KVM_SIGNAL_MSI instead.
class KvmMsiSink : public MsiSink {
public:
    KvmMsiSink(Vm& vm, unsigned vectors);
    ~KvmMsiSink() override;
    KvmMsiSink(const KvmMsiSink&) = delete;
    KvmMsiSink& operator=(const KvmMsiSink&) = delete;

    void send(unsigned vector, const MsiMessage& message) override;
    void prepare(unsigned vector, const MsiMessage& message) override;
    int irqfd(unsigned vector, const MsiMessage& message) override;

private:
    struct Route {
        std::optional<unsigned> gsi;
        UniqueFd irqfd;
        MsiMessage message;
    };
    // True if the vector's irqfd now delivers `message`.
    bool route(unsigned vector, const MsiMessage& message);

    Vm& vm_;
    std::vector<Route> routes_;  // Msix serializes calls per device
};

class KvmPlumbing : public IoPlumbing {
public:
    explicit KvmPlumbing(Vm& vm) : vm_(vm) {}
    bool add_ioeventfd(const NotifyEventFd& ioeventfd) override;
    void remove_ioeventfd(const NotifyEventFd& ioeventfd) override;
    std::shared_ptr<MsiSink> make_msi_sink(unsigned vectors) override;

private:
    Vm& vm_;
};

} // namespace kestrel
