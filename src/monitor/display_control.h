#pragma once
// What the HMP and QMP display commands share: screendump as QEMU does it
// (its lookups, its errors), from the machine's DisplayService.
#include "monitor/vm_control.h"
#include "ui/screendump.h"
#include "ui/vnc_service.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace kestrel {

// Throws MonitorError with QEMU's class and text.
void screendump(VmControl& vm, const std::string& filename, const std::optional<std::string>& device,
                std::optional<int64_t> head, ImageFormat format);

// The QMP event for a VNC client event: its name and data.
const char* vnc_event_name(const VncClientEvent& event);
nlohmann::json vnc_event_data(const VncClientEvent& event);

} // namespace kestrel
