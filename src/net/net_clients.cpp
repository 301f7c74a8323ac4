#include "net/net_clients.h"

#include "net/tap.h"
#include "net/user_net.h"

#include <algorithm>
#include <fmt/format.h>
#include <stdexcept>

namespace kestrel {

// One of QEMU's NetClientStates: a queue of a NIC or of a backend, or a hub
// port. A backend that netdev_del removed while a NIC still held it stays
// listed (as in QEMU) with its last info line.
struct NetClients::Client {
    std::string name;
    std::string type;          // "nic", "tap", "user", "hubport"
    unsigned queue = 0;
    NetNic* nic = nullptr;
    NetBackend* backend = nullptr;
    std::string info;          // for a deleted backend
    Client* peer = nullptr;
    int hub = -1;              // a hub port: listed under its hub
    bool is_netdev = false;    // -netdev / netdev_add (netdev_del may remove it)
};

struct NetClients::UserNet {
    UserNetBackend* backend;
    int hub;                   // -1: not on a hub
};

void NetNic::rx_filter_changed() {
    if (clients_ && rx_filter_notify_.exchange(false)) clients_->post_rx_filter_event(*this);
}

NetClients::NetClients(EventLoop& main_loop) : loop_(main_loop) {}

NetClients::~NetClients() {
    user_nets_.clear();
    hubs_.clear();       // they read backends on the loop
    backends_.clear();   // downscripts run here
}

Hub& NetClients::hub(int id) {
    for (auto& h : hubs_)
        if (h->id() == id) return *h;
    hubs_.push_back(std::make_unique<Hub>(id, loop_));
    return *hubs_.back();
}

NetClients::Client& NetClients::add_client(std::string name, std::string type, unsigned queue) {
    auto c = std::make_unique<Client>();
    c->name = std::move(name);
    c->type = std::move(type);
    c->queue = queue;
    clients_.push_back(std::move(c));
    return *clients_.back();
}

void NetClients::add_backend_clients(NetBackend& backend, bool is_netdev) {
    for (unsigned q = 0; q < backend.queues(); ++q) {
        Client& c = add_client(backend.id(), std::string(backend.type()), q);
        c.backend = &backend;
        c.is_netdev = is_netdev;
    }
}

void NetClients::open(const std::vector<NetdevConfig>& netdevs) {
    for (const NetdevConfig& n : netdevs) {
        try {
            open_one(n, !n.location.starts_with("-net ") && !n.location.starts_with("-nic "));
        } catch (const std::runtime_error& e) {
            throw std::runtime_error(n.location.empty() ? e.what() : n.location + ": " + e.what());
        }
    }
}

void NetClients::open_one(const NetdevConfig& config, bool is_netdev, GuestFwdChardevs* chardevs) {
    if (config.type == "hubport") {
        HubPort& port = hub(config.hub).add_nic_port(config.id);
        Client& c = add_client(port.id(), "hubport", 0);
        c.backend = &port;
        c.hub = config.hub;
        c.is_netdev = is_netdev;
        if (is_netdev) netdev_ids_.insert(config.id);
        return;
    }
    std::unique_ptr<NetBackend> backend;
    if (config.type == "tap" || config.type == "bridge") {
        backend = TapBackend::open(config.id, config.tap);
    } else if (config.type == "user") {
        auto user = UserNetBackend::open(config.id, config.user, loop_, chardevs);
        user_nets_.push_back({user.get(), config.hub});
        backend = std::move(user);
    } else
        throw std::runtime_error("netdev type '" + config.type + "' is not supported by kestrel yet");
    if (config.hub >= 0) {
        std::string port_name = hub(config.hub).add_backend_port(*backend);
        Client& port = add_client(port_name, "hubport", 0);
        port.hub = config.hub;
        add_backend_clients(*backend, is_netdev);
        port.peer = clients_.back().get();
        clients_.back()->peer = &port;
    } else {
        add_backend_clients(*backend, is_netdev);
    }
    if (is_netdev) netdev_ids_.insert(config.id);
    backends_.push_back(std::move(backend));
}

NetBackend* NetClients::attach(const std::string& id) {
    if (id.empty()) return nullptr;
    for (auto& c : clients_) {
        if (c->name == id && c->backend && !c->nic && c->queue == 0) {
            c->backend->set_in_use(true);
            return c->backend;
        }
    }
    throw std::runtime_error("netdev '" + id + "' not found");
}

void NetClients::add_nic(NetNic& nic, const std::string& id, const std::string& model, const std::string& qom_path,
                         NetBackend* peer) {
    nic.clients_ = this;
    nic.qom_path_ = qom_path;
    for (unsigned q = 0; q < nic.nic_queues(); ++q) {
        std::string name = id;
        if (name.empty()) {  // QEMU's assign_name: counts every client of the model, queues too
            unsigned same = unsigned(std::count_if(clients_.begin(), clients_.end(), [&](const auto& c) {
                return c->nic && c->info == model;
            }));
            name = fmt::format("{}.{}", model, same);
        }
        if (q == 0) nic.name_ = name;
        Client& c = add_client(name, "nic", q);
        c.nic = &nic;
        c.info = model;
        if (!peer) continue;
        for (auto& b : clients_) {
            if (b->backend == peer && b->queue == q && !b->peer) {
                b->peer = &c;
                c.peer = b.get();
                break;
            }
        }
    }
}

void NetClients::remove_nic(NetNic& nic) {
    for (auto& c : clients_) {
        if (c->peer && c->peer->nic == &nic) c->peer = nullptr;
    }
    std::erase_if(clients_, [&](const auto& c) { return c->nic == &nic; });
    nic.clients_ = nullptr;
}

std::string NetClients::client_line(const Client& c) const {
    std::string info;
    if (c.nic)
        info = c.queue == 0 ? c.nic->nic_info() : "";
    else if (c.backend)
        info = c.backend->info(c.queue);
    else
        info = c.info;
    return fmt::format("{}: index={},type={},{}\n", c.name, c.queue, c.type, info);
}

// QEMU's hmp_info_network: each hub with its ports (newest first), then
// every NIC with its backend, and backends that have no NIC.
std::string NetClients::info_network() const {
    std::string out;
    for (const auto& h : hubs_) {
        out += fmt::format("hub {}\n", h->id());
        std::vector<const Client*> ports;
        for (const auto& c : clients_)
            if (c->hub == h->id()) ports.push_back(c.get());
        for (auto it = ports.rbegin(); it != ports.rend(); ++it) {
            out += " \\ " + (*it)->name;
            out += (*it)->peer ? ": " + client_line(*(*it)->peer) : "\n";
        }
    }
    for (const auto& c : clients_) {
        if (c->hub >= 0 || (c->peer && c->peer->hub >= 0)) continue;
        if (!c->peer || c->nic) out += client_line(*c);
        if (c->peer && c->nic) out += " \\ " + client_line(*c->peer);
    }
    return out;
}

void NetClients::set_link(const std::string& name, bool up) {
    std::vector<Client*> found;
    for (auto& c : clients_)
        if (c->name == name) found.push_back(c.get());
    if (found.empty()) throw NetClientNotFound("Device '" + name + "' not found");
    auto set_down = [up](Client& c) {
        if (c.nic) c.nic->link_down_.store(!up);
        if (c.backend) c.backend->set_link_down(!up);
    };
    for (Client* c : found) set_down(*c);
    Client& first = *found.front();
    if (first.nic) first.nic->link_status_changed();
    // As QEMU: the peer follows only when it is a NIC (a hub's other ports
    // keep talking to each other).
    if (first.peer && first.peer->nic) {
        for (Client* c : found)
            if (c->peer) set_down(*c->peer);
        first.peer->nic->link_status_changed();
    }
}

void NetClients::each_guestfwd_chardev(
    const std::function<void(const std::string&, std::function<void(Chardev&)>)>& use) {
    for (UserNet& u : user_nets_) u.backend->each_guestfwd_chardev(use);
}

// A machine without chardevs at run time (none) cannot give a rule one.
void NetClients::add_netdev(const NetdevConfig& config) {
    if (netdev_ids_.count(config.id)) throw NetdevIdTaken(config.id);
    if (!guestfwd_chardevs_)
        for (const std::string& rule : config.user.guestfwd)
            if (parse_guestfwd(rule).to_chardev())
                throw std::runtime_error("netdev_add: guestfwd= to a character device needs the machine's chardevs");
    open_one(config, true, guestfwd_chardevs_);
}

void NetClients::remove_netdev(const std::string& id) {
    Client* first = nullptr;
    for (auto& c : clients_)
        if (c->name == id && !c->nic && c->queue == 0 && (c->backend || c->hub >= 0)) first = c.get();
    if (!first || !first->backend) throw NetClientNotFound("Device '" + id + "' not found");
    if (!first->is_netdev) throw std::runtime_error("Device '" + id + "' is not a netdev");
    netdev_ids_.erase(id);
    delete_backend(*first);
}

// QEMU's qemu_del_net_client: a backend a NIC holds is closed but stays
// listed, and the NIC's link goes down; any other goes entirely.
void NetClients::delete_backend(Client& first) {
    NetBackend* backend = first.backend;
    if (backend->type() == "hubport") throw std::runtime_error("Device '" + first.name + "' is not a netdev");
    NetNic* nic = first.peer ? first.peer->nic : nullptr;
    if (nic) {
        nic->link_down_.store(true);
        nic->link_status_changed();
        nic->backend_deleted();
    }
    for (auto& h : hubs_) h->remove_backend(*backend);
    for (auto& c : clients_) {
        if (c->backend != backend) continue;
        c->info = backend->info(c->queue);
        c->backend = nullptr;
    }
    if (!nic) std::erase_if(clients_, [](const auto& c) { return !c->nic && !c->backend && c->hub < 0 && !c->peer; });
    for (UserNet& u : user_nets_)
        if (u.backend == backend && guestfwd_chardevs_) u.backend->release_guestfwd_chardevs(*guestfwd_chardevs_);
    std::erase_if(user_nets_, [&](const UserNet& u) { return u.backend == backend; });
    std::erase_if(backends_, [&](const auto& b) { return b.get() == backend; });
}

std::vector<RxFilterInfo> NetClients::rx_filters(const std::optional<std::string>& name) {
    std::vector<RxFilterInfo> out;
    for (auto& c : clients_) {
        if (name && c->name != *name) continue;
        if (!c->nic) {
            if (name) throw std::runtime_error("net client(" + *name + ") isn't a NIC");
            continue;
        }
        if (c->queue != 0) continue;
        auto info = c->nic->query_rx_filter();
        if (info) {
            info->name = c->name;
            out.push_back(*info);
            c->nic->rx_filter_notify_.store(true);
        } else if (name) {
            throw std::runtime_error("net client(" + *name + ") doesn't support rx-filter querying");
        }
        if (name) break;
    }
    if (out.empty() && name) throw std::runtime_error("invalid net client name: " + *name);
    return out;
}

void NetClients::post_rx_filter_event(NetNic& nic) {
    std::weak_ptr<int> alive = alive_;
    std::string name = nic.name_, path = nic.qom_path_;
    loop_.post([this, alive, name, path] {
        if (alive.lock() && rx_filter_event_) rx_filter_event_(name, path);
    });
}

// QEMU's slirp_lookup: the netdev named, or the first stack.
NetClients::UserNet* NetClients::find_user_net(const std::optional<std::string>& netdev, std::string& error) {
    if (!netdev) {
        if (user_nets_.empty()) error = "user mode network stack not in use\n";
        return user_nets_.empty() ? nullptr : &user_nets_.front();
    }
    bool found = false;
    for (const auto& c : clients_)
        if (c->name == *netdev && !c->nic && c->backend && c->queue == 0) found = true;
    if (!found) {
        error = "unrecognized netdev id '" + *netdev + "'\n";
        return nullptr;
    }
    for (UserNet& u : user_nets_)
        if (u.backend->id() == *netdev) return &u;
    error = "invalid device specified\n";
    return nullptr;
}

std::string NetClients::info_usernet() const {
    std::string out;
    for (const UserNet& u : user_nets_)
        out += fmt::format("Hub {} ({}):\n{}", u.hub, u.backend->id(), u.backend->connection_info());
    return out;
}

std::string NetClients::hostfwd_add(const std::optional<std::string>& netdev, const std::string& rule) {
    std::string error;
    UserNet* user = find_user_net(netdev, error);
    if (!user) return error;
    try {
        user->backend->add_hostfwd(rule);
    } catch (const std::runtime_error& e) {
        return std::string(e.what()) + "\n";
    }
    return "";
}

std::string NetClients::hostfwd_remove(const std::optional<std::string>& netdev, const std::string& rule) {
    std::string error;
    UserNet* user = find_user_net(netdev, error);
    if (!user) return error;
    HostFwdRule parsed;
    if (!parse_hostfwd_remove(rule, parsed)) return "invalid format\n";
    bool removed = user->backend->remove_hostfwd(parsed);
    return "host forwarding rule for " + rule + (removed ? " removed\n" : " not found\n");
}

} // namespace kestrel
