#pragma once
// QEMU's ACPIOSTInfo: what a guest's _OST (OSPM status indication) last
// told of one hotplug slot, as query-acpi-ospm-status lists it and the
// ACPI_DEVICE_OST event carries it.
#include "base/json/json_value.h"

#include <cstdint>
#include <string>

namespace kestrel {

struct AcpiOstInfo {
    std::string device;     // the id of the device in the slot, "" for none (left out)
    std::string slot;       // the slot's index, as text
    std::string slot_type;  // "CPU" ("DIMM" in QEMU, which kestrel has not)
    int64_t source = 0;     // the _OST's source event
    int64_t status = 0;     // the _OST's status code
};

// The members in QEMU's order (device first, when there is one).
Json acpi_ost_json(const AcpiOstInfo& info);

} // namespace kestrel
