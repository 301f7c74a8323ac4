#include "monitor/acpi_ost.h"

namespace kestrel {

Json acpi_ost_json(const AcpiOstInfo& info) {
    Json json = Json::object();
    if (!info.device.empty()) json["device"] = info.device;
    json["slot"] = info.slot;
    json["slot-type"] = info.slot_type;
    json["source"] = info.source;
    json["status"] = info.status;
    return json;
}

} // namespace kestrel
