// The DSDT's ACPI CPU hotplug part, as QEMU's pc machine has it (QEMU's
// build_cpus_aml): the register block's device and fields (\_SB.PCI0.PRES),
// \_SB.CPUS with a processor object for every possible vCPU and the
// methods they and the GPE 2 handler run (CSTA, CEJ0, CSCN, COST, CTFY).
#include "machine/acpi/tables.h"

#include "devices/cpu_hotplug/cpu_hotplug_regs.h"
#include "machine/acpi/aml.h"

#include <cstdio>
#include <string>

namespace kestrel::acpi {

namespace {

using namespace aml;

constexpr uint16_t REGS_BASE = CpuHotplugRegs::BASE;
constexpr uint8_t REGS_LENGTH = CpuHotplugRegs::MODERN_LENGTH;
constexpr uint8_t MAX_XAPIC_ID = 254;
constexpr uint64_t NEXT_EVENT_CMD = CpuHotplugRegs::NEXT_EVENT, OST_EVENT_CMD = CpuHotplugRegs::OST_EVENT,
                   OST_STATUS_CMD = CpuHotplugRegs::OST_STATUS;
constexpr uint64_t DEVICE_CHECK = 1, EJECT_REQUEST = 3;

const char* const LOCK = "\\_SB.PCI0.PRES.CPLK";
const char* const SELECTOR = "\\_SB.PCI0.PRES.CSEL";
const char* const ENABLED = "\\_SB.PCI0.PRES.CPEN";
const char* const COMMAND = "\\_SB.PCI0.PRES.CCMD";
const char* const DATA = "\\_SB.PCI0.PRES.CDAT";
const char* const INSERT_EVENT = "\\_SB.PCI0.PRES.CINS";
const char* const REMOVE_EVENT = "\\_SB.PCI0.PRES.CRMV";
const char* const EJECT = "\\_SB.PCI0.PRES.CEJ0";

std::string cpu_name(unsigned index) {
    char text[8];
    std::snprintf(text, sizeof text, "C%03X", index & 0xfff);
    return text;
}

Bytes registers_device() {
    Bytes crs = io_resource(REGS_BASE, REGS_LENGTH);
    return device("\\_SB.PCI0.PRES",
                  join({name_decl("_HID", eisa_id("PNP0A06")), name_decl("_UID", string("CPU Hotplug resources")),
                        mutex("CPLK", 0), name_decl("_CRS", crs),
                        operation_region("PRST", RegionSpace::SystemIo, REGS_BASE, REGS_LENGTH),
                        field("PRST", FieldAccess::Byte, FieldUpdate::WriteAsZeros,
                              {{"", 32}, {"CPEN", 1}, {"CINS", 1}, {"CRMV", 1}, {"CEJ0", 1}, {"", 4}, {"CCMD", 8}}),
                        field("PRST", FieldAccess::Dword, FieldUpdate::Preserve, {{"CSEL", 32}, {"", 32}, {"CDAT", 32}}),
                        // Switches the registers from their legacy bitmap to
                        // this interface (and selects the boot CPU), as QEMU's.
                        method("_INI", 0, true, store(integer(0), name(SELECTOR)))}));
}

Bytes notify_method(unsigned count) {
    Bytes body;
    for (unsigned i = 0; i < count; ++i)
        body = join({body, if_(equal(arg(0), integer(i)), notify(name(cpu_name(i)), arg(1)))});
    return method("CTFY", 2, false, body);
}

Bytes status_method() {
    return method("CSTA", 1, true,
                  join({acquire(LOCK, 0xffff), store(arg(0), name(SELECTOR)), store(integer(0), local(0)),
                        if_(equal(name(ENABLED), integer(1)), store(integer(0xf), local(0))), release(LOCK),
                        return_(local(0))}));
}

Bytes eject_method() {
    return method("CEJ0", 1, true,
                  join({acquire(LOCK, 0xffff), store(arg(0), name(SELECTOR)), store(integer(1), name(EJECT)),
                        release(LOCK)}));
}

// Every CPU with an event: a device check for an added one, an eject
// request for one the host wants removed, each event cleared once told.
Bytes scan_method() {
    Bytes inserted = if_(equal(name(INSERT_EVENT), integer(1)),
                         join({call("CTFY", {name(DATA), integer(DEVICE_CHECK)}), store(integer(1), name(INSERT_EVENT)),
                               store(integer(1), local(0))}));
    Bytes removed = else_(if_(equal(name(REMOVE_EVENT), integer(1)),
                              join({call("CTFY", {name(DATA), integer(EJECT_REQUEST)}),
                                    store(integer(1), name(REMOVE_EVENT)), store(integer(1), local(0))})));
    Bytes loop = while_(equal(local(0), integer(1)),
                        join({store(integer(0), local(0)), store(integer(NEXT_EVENT_CMD), name(COMMAND)), inserted, removed}));
    return method("CSCN", 0, true, join({acquire(LOCK, 0xffff), store(integer(1), local(0)), loop, release(LOCK)}));
}

Bytes ost_method() {
    return method("COST", 4, true,
                  join({acquire(LOCK, 0xffff), store(arg(0), name(SELECTOR)),
                        store(integer(OST_EVENT_CMD), name(COMMAND)), store(arg(1), name(DATA)),
                        store(integer(OST_STATUS_CMD), name(COMMAND)), store(arg(2), name(DATA)), release(LOCK)}));
}

// The CPU's MADT entry, enabled: what the guest maps it by once present.
Bytes madt_entry(unsigned index, uint32_t apic_id) {
    if (apic_id <= MAX_XAPIC_ID && index <= MAX_XAPIC_ID) {
        const uint8_t lapic[8] = {madt::LOCAL_APIC, 8, uint8_t(index), uint8_t(apic_id), madt::ENABLED, 0, 0, 0};
        return buffer(lapic);
    }
    uint8_t x2apic[16] = {madt::LOCAL_X2APIC, 16};
    for (unsigned b = 0; b < 4; ++b) {
        x2apic[4 + b] = uint8_t(apic_id >> (8 * b));
        x2apic[12 + b] = uint8_t(index >> (8 * b));
    }
    x2apic[8] = madt::ENABLED;
    return buffer(x2apic);
}

Bytes cpu_object(unsigned index, uint32_t apic_id) {
    Bytes uid = integer(index);
    Bytes body = join({method("_STA", 0, true, return_(call("CSTA", {uid}))), name_decl("_MAT", madt_entry(index, apic_id))});
    if (index != 0) body = join({body, method("_EJ0", 1, false, call("CEJ0", {uid}))});
    body = join({body, method("_OST", 3, true, call("COST", {uid, arg(0), arg(1), arg(2)}))});
    if (apic_id <= MAX_XAPIC_ID) return processor(cpu_name(index), uint8_t(index), body);
    return device(cpu_name(index), join({name_decl("_HID", string("ACPI0007")), name_decl("_UID", uid), body}));
}

Bytes cpus_device(std::span<const uint32_t> apic_ids) {
    Bytes body = join({name_decl("_HID", string("ACPI0010")), name_decl("_CID", eisa_id("PNP0A05")),
                       notify_method(unsigned(apic_ids.size())), status_method(), eject_method(), scan_method(),
                       ost_method()});
    for (unsigned i = 0; i < apic_ids.size(); ++i) body = join({body, cpu_object(i, apic_ids[i])});
    return device("\\_SB.CPUS", body);
}

} // namespace

std::vector<uint8_t> cpu_hotplug_aml(std::span<const uint32_t> apic_ids) {
    return join({scope("\\_SB", join({registers_device(), cpus_device(apic_ids)})),
                 method("\\_GPE._E02", 0, false, call("\\_SB.CPUS.CSCN"))});
}

} // namespace kestrel::acpi
