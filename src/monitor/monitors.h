#pragma once
// Every monitor of the command line: an HMP or QMP session on the chardev
// each -monitor/-qmp/-mon names, and the hub that sends the machine's
// events to the QMP clients (the balloon's BALLOON_CHANGE among them).
#include "chardev/chardev_set.h"
#include "config/config.h"
#include "base/event_loop.h"
#include "monitor/event_sink.h"
#include "monitor/vm_control.h"

#include <memory>
#include <vector>

namespace kestrel {

class BalloonEvents;

class Monitors {
public:
    Monitors(const std::vector<MonitorConfig>& configs, ChardevSet& chardevs, VmControl& vm, EventLoop& loop);
    ~Monitors();
    Monitors(const Monitors&) = delete;
    Monitors& operator=(const Monitors&) = delete;

    EventSink& events();

private:
    struct Sessions;
    std::unique_ptr<Sessions> sessions_;
    BalloonEvents* balloon_events_;  // BALLOON_CHANGE of whichever balloon is plugged
};

} // namespace kestrel
