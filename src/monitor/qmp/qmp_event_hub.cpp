#include "monitor/qmp/qmp_event_hub.h"

#include "base/event_loop.h"
#include "base/unique_fd.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace kestrel::qmp {

namespace {

// QEMU's monitor_qapi_event_conf, for the events kestrel sends.
struct RateLimit {
    std::string_view event;
    long period_ms;
};
constexpr RateLimit kRateLimits[] = {{"BALLOON_CHANGE", 1000}};

} // namespace

struct QmpEventHub::Throttle {
    std::string_view event;
    long period_ms = 0;
    UniqueFd timer;
    bool in_period = false;
    std::optional<Json> pending;  // the latest event of the period, held back

    void start_period() {
        itimerspec when{};
        when.it_value.tv_sec = period_ms / 1000;
        when.it_value.tv_nsec = period_ms % 1000 * 1000000;
        timerfd_settime(timer.get(), 0, &when, nullptr);
        in_period = true;
    }
};

QmpEventHub::QmpEventHub(EventLoop* loop) : loop_(loop) {}

QmpEventHub::~QmpEventHub() {
    for (auto& t : throttles_) loop_->remove_fd(t->timer.get());
}

QmpEventHub::Throttle* QmpEventHub::throttle_for(std::string_view name) {
    for (auto& t : throttles_)
        if (t->event == name) return t.get();
    auto limit = std::find_if(std::begin(kRateLimits), std::end(kRateLimits),
                              [&](const RateLimit& r) { return r.event == name; });
    if (!loop_ || limit == std::end(kRateLimits)) return nullptr;
    auto t = std::make_unique<Throttle>();
    t->event = limit->event;
    t->period_ms = limit->period_ms;
    t->timer.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!t->timer) return nullptr;
    Throttle* throttle = t.get();
    loop_->add_fd(throttle->timer.get(), EPOLLIN, [this, throttle](uint32_t) {
        uint64_t expirations;
        [[maybe_unused]] auto r = ::read(throttle->timer.get(), &expirations, sizeof expirations);
        period_ended(*throttle);
    });
    throttles_.push_back(std::move(t));
    return throttle;
}

void QmpEventHub::period_ended(Throttle& throttle) {
    throttle.in_period = false;
    if (!throttle.pending) return;
    Json message = std::move(*throttle.pending);
    throttle.pending.reset();
    deliver(message);
    throttle.start_period();
}

void QmpEventHub::subscribe(QmpEventListener* listener) { listeners_.push_back(listener); }

void QmpEventHub::unsubscribe(QmpEventListener* listener) {
    listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
}

void QmpEventHub::emit_event(std::string_view name, const nlohmann::json& data) {
    using namespace std::chrono;
    auto since_epoch = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
    Json message = Json::object();
    message["event"] = std::string(name);
    message["timestamp"] = Json{{"seconds", since_epoch / 1000000},
                                {"microseconds", since_epoch % 1000000}};
    if (!data.is_null() && !data.empty())
        message["data"] = Json::parse(data.dump());
    Throttle* throttle = throttle_for(name);
    if (throttle && throttle->in_period) {
        throttle->pending = std::move(message);
        return;
    }
    deliver(message);
    if (throttle) throttle->start_period();
}

void QmpEventHub::deliver(const Json& message) {
    // A listener may unsubscribe while we deliver (its client went away).
    std::vector<QmpEventListener*> listeners = listeners_;
    for (QmpEventListener* listener : listeners) {
        if (std::find(listeners_.begin(), listeners_.end(), listener) != listeners_.end())
            listener->deliver_event(message);
    }
}

const std::vector<QmpEventInfo>& qmp_event_list() {
    static const std::vector<QmpEventInfo> events = {
        {"SHUTDOWN", "q_obj_SHUTDOWN-arg"}, {"POWERDOWN", "q_empty"},
        {"RESET", "q_obj_RESET-arg"},       {"STOP", "q_empty"},
        {"RESUME", "q_empty"},
        {"GUEST_PANICKED", "q_obj_GUEST_PANICKED-arg"}, {"GUEST_CRASHLOADED", "q_obj_GUEST_CRASHLOADED-arg"},
        {"BALLOON_CHANGE", "q_obj_BALLOON_CHANGE-arg"},
        {"NIC_RX_FILTER_CHANGED", "q_obj_NIC_RX_FILTER_CHANGED-arg"},
        {"DEVICE_TRAY_MOVED", "q_obj_DEVICE_TRAY_MOVED-arg"},
        {"DEVICE_DELETED", "q_obj_DEVICE_DELETED-arg"}, {"VSERPORT_CHANGE", "q_obj_VSERPORT_CHANGE-arg"},
        {"ACPI_DEVICE_OST", "q_obj_ACPI_DEVICE_OST-arg"},
        {"DUMP_COMPLETED", "q_obj_DUMP_COMPLETED-arg"},
        {"VNC_CONNECTED", "q_obj_VNC_CONNECTED-arg"},
        {"VNC_INITIALIZED", "q_obj_VNC_INITIALIZED-arg"},
        {"VNC_DISCONNECTED", "q_obj_VNC_DISCONNECTED-arg"},
    };
    return events;
}

} // namespace kestrel::qmp
