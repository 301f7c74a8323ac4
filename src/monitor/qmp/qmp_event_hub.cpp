#include "monitor/qmp/qmp_event_hub.h"

#include <algorithm>
#include <chrono>

namespace kestrel::qmp {

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
        {"VNC_CONNECTED", "q_obj_VNC_CONNECTED-arg"},
        {"VNC_INITIALIZED", "q_obj_VNC_INITIALIZED-arg"},
        {"VNC_DISCONNECTED", "q_obj_VNC_DISCONNECTED-arg"},
    };
    return events;
}

} // namespace kestrel::qmp
