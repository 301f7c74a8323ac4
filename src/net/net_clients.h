#pragma once
// The machine's network: every backend (-netdev, -nic, -net, netdev_add),
// the hubs of -net, and the NICs that registered. It mirrors QEMU's list of
// net clients (one per queue, in creation order), which is what info
// network prints and set_link and query-rx-filter search by name.
// Loop thread only, except NetNic::rx_filter_changed().
#include "base/event_loop.h"
#include "net/hub.h"
#include "net/net_backend.h"
#include "net/net_nic.h"
#include "net/net_service.h"

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace kestrel {

class Chardev;
class GuestFwdChardevs;
class UserNetBackend;

class NetClients final : public NetService {
public:
    explicit NetClients(EventLoop& main_loop);
    ~NetClients() override;
    NetClients(const NetClients&) = delete;
    NetClients& operator=(const NetClients&) = delete;

    // Opens the configured backends in order. Throws std::runtime_error
    // "<location>: <QEMU's text>".
    void open(const std::vector<NetdevConfig>& netdevs);

    // The backend (or hub port) a NIC's netdev= names; nullptr for "".
    // Throws std::runtime_error if there is none.
    NetBackend* attach(const std::string& id);
    // Registers a realized NIC: named `id`, or "<model>.<n>" without one.
    void add_nic(NetNic& nic, const std::string& id, const std::string& model, const std::string& qom_path,
                 NetBackend* peer);
    void remove_nic(NetNic& nic);
    // The chardevs the user networks' guestfwd= rules use, by id, each
    // with the call that connects it (after open()).
    void each_guestfwd_chardev(const std::function<void(const std::string&, std::function<void(Chardev&)>)>& use);
    // Where netdev_add's guestfwd= rules get their chardevs, and netdev_del
    // deletes them (the machine's, once its chardevs are open).
    void set_guestfwd_chardevs(GuestFwdChardevs* chardevs) { guestfwd_chardevs_ = chardevs; }
    // The ids -netdev and netdev_add hold now.
    std::vector<std::string> netdev_ids() const { return {netdev_ids_.begin(), netdev_ids_.end()}; }

    // Where NIC_RX_FILTER_CHANGED goes (name, QOM path); called on the loop.
    void set_rx_filter_event(std::function<void(const std::string&, const std::string&)> emit) {
        rx_filter_event_ = std::move(emit);
    }

    // NetService
    std::string info_network() const override;
    void set_link(const std::string& name, bool up) override;
    void add_netdev(const NetdevConfig& config) override;
    void remove_netdev(const std::string& id) override;
    std::vector<RxFilterInfo> rx_filters(const std::optional<std::string>& name) override;
    std::string info_usernet() const override;
    std::string hostfwd_add(const std::optional<std::string>& netdev, const std::string& rule) override;
    std::string hostfwd_remove(const std::optional<std::string>& netdev, const std::string& rule) override;

private:
    friend class NetNic;
    struct Client;

    void open_one(const NetdevConfig& config, bool is_netdev, GuestFwdChardevs* chardevs = nullptr);
    Hub& hub(int id);
    Client& add_client(std::string name, std::string type, unsigned queue);
    void add_backend_clients(NetBackend& backend, bool is_netdev);
    std::string client_line(const Client& c) const;
    void post_rx_filter_event(NetNic& nic);
    void delete_backend(Client& first);
    struct UserNet;
    UserNet* find_user_net(const std::optional<std::string>& netdev, std::string& error);

    EventLoop& loop_;
    std::vector<std::unique_ptr<Client>> clients_;   // QEMU's net_clients order
    std::vector<std::unique_ptr<NetBackend>> backends_;
    std::vector<std::unique_ptr<Hub>> hubs_;
    std::vector<UserNet> user_nets_;                 // -netdev user stacks, in creation order
    std::set<std::string> netdev_ids_;               // ids -netdev and netdev_add hold
    GuestFwdChardevs* guestfwd_chardevs_ = nullptr;
    std::function<void(const std::string&, const std::string&)> rx_filter_event_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace kestrel
