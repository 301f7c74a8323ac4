#pragma once
// Delivers machine events to QMP clients: {"timestamp": {"seconds": S,
// "microseconds": US}, "event": NAME, "data": {...}} (no "data" when the
// event has none, like QEMU's STOP). Sessions subscribe for their lifetime;
// only those past capabilities negotiation receive events. Loop thread only.
//
// As QEMU, some events are rate-limited (BALLOON_CHANGE: one a second):
// the first goes out at once, and of those that follow within the period
// only the last, when the period ends. That needs the loop's timers;
// without a loop every event goes out at once.
#include "monitor/event_sink.h"
#include "monitor/qmp/qmp_json.h"

#include <memory>
#include <vector>

namespace kestrel {
class EventLoop;
}

namespace kestrel::qmp {

class QmpEventListener {
public:
    virtual ~QmpEventListener() = default;
    // Called for every event; the listener drops it while negotiating.
    virtual void deliver_event(const Json& message) = 0;
};

class QmpEventHub final : public EventSink {
public:
    explicit QmpEventHub(EventLoop* loop = nullptr);
    ~QmpEventHub() override;
    QmpEventHub(const QmpEventHub&) = delete;
    QmpEventHub& operator=(const QmpEventHub&) = delete;

    void subscribe(QmpEventListener* listener);
    void unsubscribe(QmpEventListener* listener);
    void emit_event(std::string_view name, const nlohmann::json& data = nlohmann::json::object()) override;

private:
    struct Throttle;
    Throttle* throttle_for(std::string_view name);
    void period_ended(Throttle& throttle);
    void deliver(const Json& message);

    EventLoop* loop_;
    std::vector<QmpEventListener*> listeners_;
    std::vector<std::unique_ptr<Throttle>> throttles_;
};

// The events kestrel's machine emits (query-events, query-qmp-schema):
// name and argument type in the QMP schema ("q_empty" when none).
struct QmpEventInfo {
    const char* name;
    const char* arg_type;
};
const std::vector<QmpEventInfo>& qmp_event_list();

} // namespace kestrel::qmp
