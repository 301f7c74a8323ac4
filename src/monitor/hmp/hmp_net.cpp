// info network, set_link, netdev_add, netdev_del: the machine's NetService
// in QEMU 7.2's HMP texts.
#include "config/net_opts.h"
#include "monitor/hmp/hmp_command.h"
#include "monitor/net_commands.h"
#include "net/guestfwd_chardevs.h"

#include <algorithm>

namespace kestrel {

namespace {

NetService& net(HmpContext& ctx) {
    NetService* service = net_service_of(ctx.vm());
    if (!service) throw MonitorError(QmpErrorClass::DeviceNotFound, "no network");
    return *service;
}

void info_network(HmpContext& ctx, const HmpCall&) {
    if (NetService* service = net_service_of(ctx.vm())) ctx.print(service->info_network());
}

void set_link(HmpContext& ctx, const HmpCall& call) {
    with_net_errors([&] { net(ctx).set_link(call.text(0), call.flag(1)); });
}

// QEMU's HMP turns the options into a dictionary: of a repeated key the
// last value stays (one hostfwd=, one guestfwd=), of id= the first.
std::vector<qopts::OptPair> one_value_per_key(const std::vector<qopts::OptPair>& pairs) {
    std::vector<qopts::OptPair> out;
    for (const qopts::OptPair& p : pairs) {
        auto same = std::find_if(out.begin(), out.end(), [&](const qopts::OptPair& o) { return o.key == p.key; });
        if (same == out.end()) out.push_back(p);
        else if (p.key != "id") same->value = p.value;
    }
    return out;
}

// "netdev_add tap,id=x,..." reads its options as -netdev does.
void netdev_add(HmpContext& ctx, const HmpCall& call) {
    std::string text = call.has(0) ? call.text(0) : "";
    with_net_errors([&] {
        auto split = qopts::split(text, "type", qopts::Syntax::QemuOpts);
        try {
            net(ctx).add_netdev(parse_netdev(one_value_per_key(split.pairs)));
        } catch (const GuestFwdOpenError& e) {  // QEMU reports the reason on the session
            if (!e.reason.empty()) ctx.print(e.reason + "\n");
            throw;
        }
    });
}

void netdev_del(HmpContext& ctx, const HmpCall& call) {
    with_net_errors([&] { net(ctx).remove_netdev(call.text(0)); });
}

// "hostfwd_add [netdev_id] rule": with one word, the rule on the first stack.
void hostfwd(HmpContext& ctx, const HmpCall& call, bool add) {
    std::optional<std::string> netdev;
    std::string rule = call.text(0);
    if (call.has(1)) {
        netdev = rule;
        rule = call.text(1);
    }
    NetService* service = net_service_of(ctx.vm());
    if (!service) {
        ctx.print("user mode network stack not in use\n");
        return;
    }
    ctx.print(add ? service->hostfwd_add(netdev, rule) : service->hostfwd_remove(netdev, rule));
}

void hostfwd_add(HmpContext& ctx, const HmpCall& call) { hostfwd(ctx, call, true); }
void hostfwd_remove(HmpContext& ctx, const HmpCall& call) { hostfwd(ctx, call, false); }

} // namespace

void hmp_info_usernet(HmpContext& ctx, const HmpCall&) {
    if (NetService* service = net_service_of(ctx.vm())) ctx.print(service->info_usernet());
}

std::vector<HmpCommand> hmp_net_commands() {
    using A = HmpArg;
    return {
        {"set_link", {A::String, A::OnOff}, "name on|off", "change the link status of a network adapter", set_link},
        {"netdev_add", {A::OptRest},
         "[user|tap|socket|stream|dgram|vde|bridge|hubport|netmap|vhost-user],id=str[,prop=value][,...]",
         "add host network device", netdev_add},
        {"netdev_del", {A::String}, "id", "remove host network device", netdev_del},
        {"hostfwd_add", {A::String, A::OptString}, "[netdev_id] [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport",
         "redirect TCP or UDP connections from host to guest (requires -net user)", hostfwd_add},
        {"hostfwd_remove", {A::String, A::OptString}, "[netdev_id] [tcp|udp]:[hostaddr]:hostport",
         "remove host-to-guest TCP or UDP redirection", hostfwd_remove},
    };
}

void hmp_info_network(HmpContext& ctx, const HmpCall& call) { info_network(ctx, call); }

} // namespace kestrel
