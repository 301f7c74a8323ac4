// "info iothreads" and "info memdev": the -object iothreads and memory
// backends (the machine's RAM too), in QEMU 7.2's HMP layout. QEMU lists
// the backends in its /objects hash table's order; kestrel in the order made.
#include "base/iothread.h"
#include "config/user_objects.h"
#include "monitor/hmp/hmp_command.h"

#include <fmt/format.h>

namespace kestrel {

void hmp_info_iothreads(HmpContext& ctx, const HmpCall&) {
    const UserIothreads* threads = ctx.vm().services().find<UserIothreads>();
    if (!threads) return;
    for (const UserIothreads::Entry& e : threads->list)
        ctx.print(fmt::format("{}:\n  thread_id={}\n  poll-max-ns={}\n  poll-grow={}\n  poll-shrink={}\n"
                              "  aio-max-batch={}\n",
                              e.cfg.id, e.thread->thread_id(), e.cfg.poll_max_ns.value_or(kIothreadPollMaxNsDefault),
                              e.cfg.poll_grow.value_or(0), e.cfg.poll_shrink.value_or(0),
                              e.cfg.aio_max_batch.value_or(0)));
}

namespace {

void print_backend(HmpContext& ctx, const MemoryBackendConfig& c) {
    auto yes_no = [](bool b) { return b ? "true" : "false"; };
    // kestrel binds no backend to host NUMA nodes: policy default, no nodes.
    ctx.print(fmt::format("memory backend: {}\n  size:  {}\n  merge: {}\n  dump: {}\n  prealloc: {}\n"
                          "  share: {}\n  reserve: {}\n  policy: default\n  host nodes: \n",
                          c.id, c.size, yes_no(c.merge), yes_no(c.dump), yes_no(c.prealloc), yes_no(c.share),
                          yes_no(c.reserve)));
}

} // namespace

void hmp_info_memdev(HmpContext& ctx, const HmpCall&) {
    if (const UserObjects* objects = ctx.vm().services().find<UserObjects>())
        for (const auto& b : objects->backends()) print_backend(ctx, b->cfg);
    ctx.print("\n");
}

} // namespace kestrel
