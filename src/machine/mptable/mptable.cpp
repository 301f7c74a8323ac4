#include "machine/mptable/mptable.h"

#include "kvm/pc_memory_map.h"
#include "vcpu/topology.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <numeric>
#include <stdexcept>
#include <string_view>

namespace kestrel {
namespace {

using namespace mptable;

constexpr uint8_t SPEC_REV = 4;  // MP 1.4
constexpr size_t HEADER_SIZE = 44, FLOATING_SIZE = 16;
constexpr size_t COUNT_OFFSET = 34, LENGTH_OFFSET = 4, CHECKSUM_OFFSET = 7;
enum EntryType : uint8_t { PROCESSOR = 0, BUS = 1, IOAPIC = 2, IO_INTERRUPT = 3, LOCAL_INTERRUPT = 4 };
enum InterruptType : uint8_t { INT = 0, NMI = 1, EXTINT = 3 };
constexpr uint8_t CPU_ENABLED = 1, CPU_BSP = 2, IOAPIC_ENABLED = 1;
constexpr uint8_t BSP_APIC_ID = 0, ALL_LOCAL_APICS = 0xff, MAX_XAPIC_ID = 0xfe;
constexpr uint8_t LINTIN0 = 0, LINTIN1 = 1;
constexpr uint16_t CONFORMS_TO_BUS = 0;

uint8_t checksum(std::span<const uint8_t> bytes) {
    return uint8_t(-std::accumulate(bytes.begin(), bytes.end(), 0u));
}

class Writer {
public:
    explicit Writer(std::vector<uint8_t>& out) : out_(out) {}
    Writer& u8(uint8_t v) { out_.push_back(v); return *this; }
    Writer& u16(uint16_t v) { return raw(&v, 2); }
    Writer& u32(uint32_t v) { return raw(&v, 4); }
    Writer& text(std::string_view s, size_t width) {
        for (size_t i = 0; i < width; ++i) u8(i < s.size() ? uint8_t(s[i]) : uint8_t(' '));
        return *this;
    }
    Writer& zeros(size_t n) { out_.insert(out_.end(), n, 0); return *this; }

private:
    Writer& raw(const void* p, size_t n) {
        // Byte by byte: GCC 12 warns (wrongly) about a range insert here.
        auto b = static_cast<const uint8_t*>(p);
        for (size_t i = 0; i < n; ++i) out_.push_back(b[i]);
        return *this;
    }
    std::vector<uint8_t>& out_;
};

// One entry per possible CPU with an xAPIC ID, as the MADT lists them.
unsigned processors(Writer& w, const MpTableConfig& cfg) {
    unsigned count = 0;
    const unsigned possible = std::max(cfg.smp.maxcpus, cfg.smp.cpus);
    for (unsigned i = 0; i < possible; ++i) {
        uint32_t id = apic_id_for(i, cfg.smp);
        if (id > MAX_XAPIC_ID) continue;
        uint8_t flags = uint8_t((cfg.smp.present(i) ? CPU_ENABLED : 0) | (i == 0 ? CPU_BSP : 0));
        w.u8(PROCESSOR).u8(uint8_t(id)).u8(LAPIC_VERSION).u8(flags);
        w.u32(cfg.cpu_signature).u32(cfg.cpu_features).zeros(8);
        ++count;
    }
    return count;
}

void io_interrupt(Writer& w, uint8_t isa_irq, uint8_t pin) {
    w.u8(IO_INTERRUPT).u8(INT).u16(CONFORMS_TO_BUS).u8(ISA_BUS_ID).u8(isa_irq).u8(IOAPIC_ID).u8(pin);
}

// ISA IRQs on the IOAPIC pins of the same number, but the PIT (IRQ 0) on pin
// 2 as the MADT's override says. IRQs 5, 9, 10 and 11 are left out as
// SeaBIOS does: they carry the PCI links and the SCI, level-triggered, not
// ISA's edge.
unsigned isa_interrupts(Writer& w) {
    unsigned count = 0;
    for (uint8_t irq = 0; irq < 16; ++irq) {
        if (irq == 2 || irq == 5 || irq == 9 || irq == 10 || irq == 11) continue;
        io_interrupt(w, irq, irq == 0 ? 2 : irq);
        ++count;
    }
    return count;
}

} // namespace

std::vector<uint8_t> build_mp_config_table(const MpTableConfig& cfg) {
    std::vector<uint8_t> t;
    Writer w(t);
    w.text("PCMP", 4).u16(0).u8(SPEC_REV).u8(0);
    w.text("BOCHSCPU", 8).text("0.1", 12);
    w.u32(0).u16(0).u16(0);  // no OEM table; entry count below
    w.u32(uint32_t(pc::LAPIC_ADDR)).u16(0).u8(0).u8(0);  // no extended table
    unsigned entries = processors(w, cfg);
    w.u8(BUS).u8(PCI_BUS_ID).text("PCI", 6);
    w.u8(BUS).u8(ISA_BUS_ID).text("ISA", 6);
    w.u8(IOAPIC).u8(IOAPIC_ID).u8(IOAPIC_VERSION).u8(IOAPIC_ENABLED).u32(uint32_t(pc::IOAPIC_ADDR));
    entries += 3 + isa_interrupts(w);
    // The 8259 on the BSP's LINT0 (virtual wire), NMI on every LINT1.
    w.u8(LOCAL_INTERRUPT).u8(EXTINT).u16(CONFORMS_TO_BUS).u8(ISA_BUS_ID).u8(0).u8(BSP_APIC_ID).u8(LINTIN0);
    w.u8(LOCAL_INTERRUPT).u8(NMI).u16(CONFORMS_TO_BUS).u8(ISA_BUS_ID).u8(0).u8(ALL_LOCAL_APICS).u8(LINTIN1);
    entries += 2;
    const uint16_t length = uint16_t(t.size()), count = uint16_t(entries);
    std::memcpy(&t[LENGTH_OFFSET], &length, 2);
    std::memcpy(&t[COUNT_OFFSET], &count, 2);
    t[CHECKSUM_OFFSET] = checksum(t);
    return t;
}

std::vector<uint8_t> build_mp_floating_pointer(uint64_t table_addr) {
    std::vector<uint8_t> f;
    Writer w(f);
    w.text("_MP_", 4).u32(uint32_t(table_addr)).u8(FLOATING_SIZE / 16).u8(SPEC_REV).u8(0);
    w.zeros(5);  // feature bytes: a configuration table follows, no IMCR
    f[10] = checksum(f);
    return f;
}

uint64_t install_mp_table(const GuestMemory& mem, const MpTableConfig& cfg, uint64_t f_segment_free_from) {
    std::vector<uint8_t> table = build_mp_config_table(cfg);
    uint64_t table_addr = FLOATING_ADDR + FLOATING_SIZE;
    if (table_addr + table.size() > LOW_AREA_END) {
        table_addr = (pc::BIOS_AREA_END - table.size()) & ~uint64_t(15);
        if (table_addr < f_segment_free_from)
            throw std::runtime_error(fmt::format(
                "the MP table of {} bytes does not fit in the F segment beside the SMBIOS tables",
                table.size()));
    }
    if (!mem.write(FLOATING_ADDR, build_mp_floating_pointer(table_addr)) || !mem.write(table_addr, table))
        throw std::runtime_error("guest RAM does not cover the MP table area");
    return table_addr;
}

} // namespace kestrel
