#include "monitor/monitors.h"

#include "devices/balloon_service.h"
#include "monitor/dump/guest_dumper.h"
#include "monitor/hmp/hmp.h"
#include "monitor/hmp/hmp_session.h"
#include "monitor/qmp/qmp_event_hub.h"
#include "monitor/qmp/qmp_machines.h"
#include "monitor/qmp/qmp_services.h"
#include "monitor/qmp/qmp_session.h"

#include <fmt/format.h>

namespace kestrel {

struct Monitors::Sessions {
    Sessions(VmControl& vm, EventLoop& loop)
        : hub(&loop), dumper(vm, hub, [&loop](std::function<void()> fn) { loop.post(std::move(fn)); }),
          hmp_services{vm, fmt::format("{}.{}.{}", qmp::kQmpQemuMajor, qmp::kQmpQemuMinor, qmp::kQmpQemuMicro)},
          qmp_services{vm, hub, [this](const std::string& line, std::optional<unsigned> cpu) {
                           HmpState state;  // as QEMU: a fresh monitor per human-monitor-command
                           if (cpu) state.current_cpu = *cpu;
                           return run_hmp_command(hmp_services, state, line);
                       }} {
        hmp_services.dumper = &dumper;
        qmp_services.dumper = &dumper;
    }

    qmp::QmpEventHub hub;
    GuestDumper dumper;   // after hub, which it sends DUMP_COMPLETED to
    HmpServices hmp_services;
    qmp::QmpServices qmp_services;
    std::vector<std::unique_ptr<HmpSession>> hmp;
    std::vector<std::unique_ptr<qmp::QmpSession>> qmp;
};

Monitors::Monitors(const std::vector<MonitorConfig>& configs, ChardevSet& chardevs, VmControl& vm, EventLoop& loop)
    : sessions_(std::make_unique<Sessions>(vm, loop)), balloon_events_(vm.services().find<BalloonEvents>()) {
    if (balloon_events_)
        balloon_events_->on_change([hub = &sessions_->hub](uint64_t actual) {
            hub->emit_event("BALLOON_CHANGE", {{"actual", actual}});
        });
    for (const MonitorConfig& m : configs) {
        Chardev& chr = chardevs.claim(m.chardev);
        if (m.control)
            sessions_->qmp.push_back(std::make_unique<qmp::QmpSession>(chr, sessions_->qmp_services, m.pretty));
        else
            sessions_->hmp.push_back(std::make_unique<HmpSession>(chr, sessions_->hmp_services));
    }
}

Monitors::~Monitors() {
    if (balloon_events_) balloon_events_->on_change(nullptr);
}

EventSink& Monitors::events() { return sessions_->hub; }

} // namespace kestrel
