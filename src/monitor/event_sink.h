#pragma once
// Where the machine sends QMP events (STOP, RESUME, RESET, POWERDOWN,
// SHUTDOWN, ...). The monitors stamp them with the time and deliver them to
// every QMP client that has finished negotiation. Loop thread only.
#include <nlohmann/json.hpp>
#include <string_view>

namespace kestrel {

class EventSink {
public:
    virtual ~EventSink() = default;
    virtual void emit_event(std::string_view name, const nlohmann::json& data = nlohmann::json::object()) = 0;
};

} // namespace kestrel
