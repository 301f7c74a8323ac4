// getfd, closefd, add-fd, remove-fd, query-fdsets: fds a client sends
// with SCM_RIGHTS on the QMP socket (libvirt passes tap devices, disk
// images and sockets this way), with QEMU 7.2's answers and errors.
#include "monitor/qmp/monitor_fds.h"
#include "monitor/qmp/qmp_commands.h"

#include <cctype>

namespace kestrel::qmp {

namespace {

// The first fd that came with the command; the others are closed.
UniqueFd take_fd(MonitorFds& mon) {
    std::vector<UniqueFd> fds = mon.chardev.take_received_fds();
    if (fds.empty()) throw MonitorError("No file descriptor supplied via SCM_RIGHTS");
    return std::move(fds.front());
}

Json getfd(MonitorFds& mon, const Json& args) {
    std::string name = args.at("fdname").get<std::string>();
    UniqueFd fd = take_fd(mon);
    if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0])))
        throw MonitorError("Parameter 'fdname' expects a name not starting with a digit");
    mon.named[name] = std::move(fd);
    return Json::object();
}

Json closefd(MonitorFds& mon, const Json& args) {
    std::string name = args.at("fdname").get<std::string>();
    auto it = mon.named.find(name);
    if (it == mon.named.end()) throw MonitorError("File descriptor named '" + name + "' not found");
    mon.named.erase(it);
    return Json::object();
}

Json add_fd(MonitorFds& mon, const Json& args) {
    UniqueFd fd = take_fd(mon);
    Json id_arg = optional_arg(args, "fdset-id");
    int64_t id = 0;
    if (id_arg.is_number()) {
        id = id_arg.get<int64_t>();
        if (id < 0) throw MonitorError("Parameter 'fdset-id' expects a non-negative value");
    } else {
        while (fd_sets().count(id)) ++id;  // the lowest free id
    }
    FdSet::Entry entry{std::move(fd), std::nullopt};
    if (Json opaque = optional_arg(args, "opaque"); opaque.is_string()) entry.opaque = opaque.get<std::string>();
    int raw = entry.fd.get();
    fd_sets()[id].fds.push_back(std::move(entry));
    return Json{{"fdset-id", id}, {"fd", raw}};
}

Json remove_fd(const Json& args) {
    int64_t id = args.at("fdset-id").get<int64_t>();
    Json fd_arg = optional_arg(args, "fd");
    auto set = fd_sets().find(id);
    bool removed = false;
    if (set != fd_sets().end()) {
        auto& fds = set->second.fds;
        for (auto it = fds.begin(); it != fds.end();) {
            if (fd_arg.is_number() && it->fd.get() != fd_arg.get<int64_t>()) {
                ++it;
                continue;
            }
            it = fds.erase(it);
            removed = true;
        }
        if (fds.empty()) fd_sets().erase(set);
    }
    if (!removed) {
        std::string what = "fdset-id:" + std::to_string(id);
        if (fd_arg.is_number()) what += ", fd:" + std::to_string(fd_arg.get<int64_t>());
        throw MonitorError("File descriptor named '" + what + "' not found");
    }
    return Json::object();
}

// Highest set id first, each set's newest fd first: QEMU 7.2 builds both
// lists by prepending.
Json query_fdsets() {
    Json list = Json::array();
    for (auto it = fd_sets().rbegin(); it != fd_sets().rend(); ++it) {
        const auto& [id, set] = *it;
        Json fds = Json::array();
        // Reverse iterators, not std::ranges::reverse_view: clang 14 (the
        // sanitizer and fuzz builds) cannot instantiate it with libstdc++ 12.
        for (auto e = set.fds.rbegin(); e != set.fds.rend(); ++e) {
            Json info{{"fd", e->fd.get()}};
            if (e->opaque) info["opaque"] = *e->opaque;
            fds.push_back(std::move(info));
        }
        list.push_back(Json{{"fdset-id", id}, {"fds", std::move(fds)}});
    }
    return list;
}

} // namespace

void add_fd_commands(QmpCommandTable& table, Schema& s, MonitorFds* mon) {
    s.add_object("q_obj_getfd-arg", {{"fdname", "str"}});
    s.add_object("q_obj_closefd-arg", {{"fdname", "str"}});
    s.add_object("q_obj_add-fd-arg", {{"fdset-id", "int", true}, {"opaque", "str", true}});
    s.add_object("AddfdInfo", {{"fdset-id", "int"}, {"fd", "int"}});
    s.add_object("q_obj_remove-fd-arg", {{"fdset-id", "int"}, {"fd", "int", true}});
    s.add_object("FdsetFdInfo", {{"fd", "int"}, {"opaque", "str", true}});
    s.add_object("FdsetInfo", {{"fdset-id", "int"}, {"fds", "[FdsetFdInfo]"}});
    s.add_array_type("FdsetFdInfo");
    table.add({"remove-fd", "q_obj_remove-fd-arg", "q_empty", remove_fd});
    table.add({"query-fdsets", "q_empty", "[FdsetInfo]", [](const Json&) { return query_fdsets(); }});
    if (!mon) return;  // a table without a monitor (tests): nothing can arrive
    table.add({"getfd", "q_obj_getfd-arg", "q_empty", [mon](const Json& a) { return getfd(*mon, a); }});
    table.add({"closefd", "q_obj_closefd-arg", "q_empty", [mon](const Json& a) { return closefd(*mon, a); }});
    table.add({"add-fd", "q_obj_add-fd-arg", "AddfdInfo", [mon](const Json& a) { return add_fd(*mon, a); }});
}

} // namespace kestrel::qmp
