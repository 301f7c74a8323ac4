// Text for HMP's "info pic", "info irq", "info mtree" and "info qtree",
// in QEMU's layouts, from KVM's irqchip state and kestrel's buses.
#include "devices/pci/pci_bus.h"
#include "devices/pci/pci_device.h"
#include "machine/pc_board.h"
#include "machine/pc_machine.h"
#include "machine/vm_controller.h"

#include <cxxabi.h>
#include <fmt/format.h>
#include <typeinfo>

namespace kestrel {
namespace {

// "kestrel::Serial16550" -> "Serial16550": what the code calls the device.
std::string type_name(const std::type_info& type) {
    int status = 0;
    char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
    std::string name = status == 0 ? demangled : type.name();
    std::free(demangled);
    auto colon = name.rfind("::");
    return colon == std::string::npos ? name : name.substr(colon + 2);
}

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
        out += fmt::format("    {:016x}-{:016x} (prio 0, i/o): {}\n", m.base, m.base + m.len - 1,
                           type_name(typeid(*m.dev)));
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

std::string qtree_info_text(PcMachine& machine) {
    std::string out = "bus: main-system-bus\n  type System\n  dev: i440FX-pcihost, id \"\"\n"
                      "    bus: pci.0\n      type PCI\n";
    for (const PciFunctionInfo& f : describe_pci_functions(machine)) {
        out += fmt::format("      dev: {}, id \"{}\"\n", f.description, f.qdev_id);
        out += fmt::format("        addr = {:02x}.{}\n", f.slot, f.function);
        out += fmt::format("        class {}, addr 00:{:02x}.{}, pci id {:04x}:{:04x} (sub {:04x}:{:04x})\n",
                           f.description, f.slot, f.function, f.vendor_id, f.device_id, f.subsystem_vendor_id,
                           f.subsystem_id);
    }
    out += "  bus: isa.0\n    type ISA\n";
    for (const auto& m : machine.pio().mappings())
        out += fmt::format("    dev: {}, id \"\"\n      iobase = 0x{:x}\n", type_name(typeid(*m.dev)), m.base);
    return out;
}

} // namespace kestrel
