#pragma once
// A NIC as the network sees it: NIC devices (virtio-net, e1000) implement
// this and register with NetClients at realize, which names them
// ("virtio-net-pci.0" or their id), lists them in info network, and passes
// set_link and query-rx-filter to them.
#include "net/net_service.h"

#include <atomic>
#include <optional>
#include <string>

namespace kestrel {

class NetClients;

class NetNic {
public:
    virtual ~NetNic() = default;

    // The rest of queue 0's info network line: "model=virtio-net-pci,macaddr=52:54:00:12:34:56".
    virtual std::string nic_info() const = 0;
    virtual unsigned nic_queues() const { return 1; }
    // link_down() changed; the NIC tells its driver (loop thread).
    virtual void link_status_changed() {}
    virtual std::optional<RxFilterInfo> query_rx_filter() { return std::nullopt; }
    // Its backend is going away (netdev_del): the NIC must not use it once
    // this returns (loop thread).
    virtual void backend_deleted() {}

    // Any thread.
    bool link_down() const { return link_down_.load(std::memory_order_relaxed); }
    const std::string& nic_name() const { return name_; }
    // The NIC's thread: the driver changed the receive filter. Emits
    // NIC_RX_FILTER_CHANGED once until the next query-rx-filter.
    void rx_filter_changed();

private:
    friend class NetClients;
    std::atomic<bool> link_down_{false};
    std::atomic<bool> rx_filter_notify_{true};
    std::string name_;
    std::string qom_path_;
    NetClients* clients_ = nullptr;
};

} // namespace kestrel
