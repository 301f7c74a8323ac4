// MADT: local APICs (xAPIC or x2APIC entries), the IOAPIC, ISA interrupt
// overrides and the LINT1 NMI, as a PC with a PIIX3 and an IOAPIC has them.
#include "machine/acpi/acpi_table.h"
#include "machine/acpi/tables.h"
#include "kvm/pc_memory_map.h"
#include "vcpu/topology.h"

#include <algorithm>

namespace kestrel::acpi {
namespace {

using namespace madt;

constexpr uint8_t IOAPIC_ID = 0;
constexpr uint8_t ALL_PROCESSORS = 0xff;
constexpr uint32_t ALL_X2APIC_PROCESSORS = 0xffffffff;
constexpr uint8_t LINT1 = 1;

void local_apic(TableBuilder& t, unsigned uid, uint32_t apic_id, bool enabled) {
    t.u8(LOCAL_APIC);
    t.u8(8);
    t.u8(uint8_t(uid));
    t.u8(uint8_t(apic_id));
    t.u32(enabled ? ENABLED : 0);
}

void local_x2apic(TableBuilder& t, unsigned uid, uint32_t apic_id, bool enabled) {
    t.u8(LOCAL_X2APIC);
    t.u8(16);
    t.u16(0);
    t.u32(apic_id);
    t.u32(enabled ? ENABLED : 0);
    t.u32(uid);
}

void io_apic(TableBuilder& t) {
    t.u8(IO_APIC);
    t.u8(12);
    t.u8(IOAPIC_ID);
    t.u8(0);
    t.u32(uint32_t(pc::IOAPIC_ADDR));
    t.u32(0);  // GSI base
}

void interrupt_override(TableBuilder& t, uint8_t irq, uint32_t gsi, uint16_t flags) {
    t.u8(INTERRUPT_OVERRIDE);
    t.u8(10);
    t.u8(0);  // bus: ISA
    t.u8(irq);
    t.u32(gsi);
    t.u16(flags);
}

void lint1_nmi(TableBuilder& t, bool x2apic) {
    if (x2apic) {
        t.u8(LOCAL_X2APIC_NMI);
        t.u8(12);
        t.u16(0);  // flags: conforms to the bus
        t.u32(ALL_X2APIC_PROCESSORS);
        t.u8(LINT1);
        t.zeros(3);
    } else {
        t.u8(LOCAL_APIC_NMI);
        t.u8(6);
        t.u8(ALL_PROCESSORS);
        t.u16(0);
        t.u8(LINT1);
    }
}

} // namespace

std::vector<uint8_t> build_madt(const SmpConfig& smp) {
    TableBuilder t("APIC", REVISION);
    t.u32(uint32_t(pc::LAPIC_ADDR));
    t.u32(PCAT_COMPAT);
    bool any_x2apic = false;
    const unsigned possible = std::max(smp.maxcpus, smp.cpus);
    for (unsigned i = 0; i < possible; i++) {
        uint32_t id = apic_id_for(i, smp);
        bool enabled = smp.present(i);
        if (id > MAX_XAPIC_ID || i > MAX_XAPIC_ID) {
            local_x2apic(t, i, id, enabled);
            any_x2apic = true;
        } else {
            local_apic(t, i, id, enabled);
        }
    }
    io_apic(t);
    interrupt_override(t, 0, 2, 0);  // PIT on IOAPIC pin 2
    for (uint8_t irq : {5, 9, 10, 11})  // PCI INTx links and the SCI
        interrupt_override(t, irq, irq, ACTIVE_HIGH_LEVEL);
    lint1_nmi(t, false);
    if (any_x2apic) lint1_nmi(t, true);
    return t.finish();
}

} // namespace kestrel::acpi
