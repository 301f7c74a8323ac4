// query-iothreads: the -object iothread threads with their host thread
// ids and properties (QEMU 7.2's defaults where none was given).
#include "base/iothread.h"
#include "monitor/qmp/qmp_commands.h"

namespace kestrel::qmp {

namespace {

Json query_iothreads(QmpServices& services) {
    Json list = Json::array();
    const UserIothreads* threads = services.vm.services().find<UserIothreads>();
    if (!threads) return list;
    for (const UserIothreads::Entry& e : threads->list) {
        list.push_back(Json{{"id", e.cfg.id},
                            {"thread-id", e.thread->thread_id()},
                            {"poll-max-ns", e.cfg.poll_max_ns.value_or(kIothreadPollMaxNsDefault)},
                            {"poll-grow", e.cfg.poll_grow.value_or(0)},
                            {"poll-shrink", e.cfg.poll_shrink.value_or(0)},
                            {"aio-max-batch", e.cfg.aio_max_batch.value_or(0)}});
    }
    return list;
}

} // namespace

void add_iothread_commands(QmpCommandTable& table, Schema& s, QmpServices& services) {
    s.add_object("IOThreadInfo", {{"id", "str"}, {"thread-id", "int"}, {"poll-max-ns", "int"}, {"poll-grow", "int"},
                                  {"poll-shrink", "int"}, {"aio-max-batch", "int"}});
    table.add({"query-iothreads", "q_empty", "[IOThreadInfo]",
               [&services](const Json&) { return query_iothreads(services); }});
}

} // namespace kestrel::qmp
