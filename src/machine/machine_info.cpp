// Text for HMP's "info pic", "info irq" and "info mtree", in QEMU's
// layouts, from KVM's irqchip state and kestrel's buses.
#include "machine/pc_machine.h"
#include "machine/vm_controller.h"

#include <fmt/format.h>

namespace kestrel {
namespace {

std::string pic_line(const kvm_pic_state& p, unsigned index) {
    return fmt::format("pic{}: irr={:02x} imr={:02x} isr={:02x} hprio={} irq_base={:02x} rr_sel={} elcr={:02x} "
                       "fnm={}\n",
                       index, p.irr, p.imr, p.isr, p.priority_add, p.irq_base, p.read_reg_select, p.elcr,
                       p.special_fully_nested_mode);
}

std::string ioapic_text(const kvm_ioapic_state& io) {
    static const char* const delivery[8] = {"fixed", "lowest", "SMI", "...", "NMI", "INIT", "...", "extINT"};
    std::string out = fmt::format("ioapic0: ver=0x20 id=0x{:02x} sel=0x{:02x}\n", io.id >> 24, io.ioregsel);
    for (unsigned pin = 0; pin < KVM_IOAPIC_NUM_PINS; ++pin) {
        const auto& e = io.redirtbl[pin].fields;
        out += fmt::format("  pin {:<2} 0x{:016x} dest={:x} vec={:<3} {} {:<5} {:<6} {:<6} {}\n", pin,
                           io.redirtbl[pin].bits, e.dest_id, e.vector, e.polarity ? "active-lo" : "active-hi",
                           e.trig_mode ? "level" : "edge", e.mask ? "masked" : "", delivery[e.delivery_mode & 7],
                           e.dest_mode ? "logical" : "physical");
    }
    return out;
}

std::string bus_tree(const Bus& bus, uint64_t end, const char* root) {
    std::string out = fmt::format("  {:016x}-{:016x} (prio 0, i/o): {}\n", 0, end, root);
    for (const auto& m : bus.mappings())
        out += fmt::format("    {:016x}-{:016x} (prio {}, i/o): {}\n", m.base, m.base + m.len - 1, m.priority,
                           m.name.empty() ? "unnamed" : m.name);
    return out;
}

} // namespace

std::string pic_info_text(PcMachine& machine) {
    std::string out;
    for (const kvm_irqchip& chip : machine.vm().irqchips()) {
        if (chip.chip_id == KVM_IRQCHIP_PIC_MASTER) out += pic_line(chip.chip.pic, 0);
        if (chip.chip_id == KVM_IRQCHIP_PIC_SLAVE) out += pic_line(chip.chip.pic, 1);
        if (chip.chip_id == KVM_IRQCHIP_IOAPIC) out += ioapic_text(chip.chip.ioapic);
    }
    return out;
}

std::string irq_info_text(PcMachine& machine) {
    std::string out = "IRQ statistics for kvm-ioapic:\n";
    auto counts = machine.vm().irq_counts();
    for (size_t gsi = 0; gsi < counts.size(); ++gsi)
        if (counts[gsi] > 0) out += fmt::format("{:2}: {}\n", gsi, counts[gsi]);
    return out;
}

std::string mtree_info_text(PcMachine& machine) {
    std::string out = "address-space: I/O\n" + bus_tree(machine.pio(), 0xffff, "io") + "\n";
    out += "address-space: memory\n";
    out += bus_tree(machine.mmio(), ~0ull, "system");
    for (const MemoryRegion& r : machine.memory().regions())
        out += fmt::format("    {:016x}-{:016x} (prio 0, ram): pc.ram @{:016x}\n", r.gpa, r.gpa + r.size - 1,
                           uint64_t(r.host - machine.memory().regions().front().host));
    return out;
}

} // namespace kestrel
