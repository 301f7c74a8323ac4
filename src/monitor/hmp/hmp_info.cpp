// "info" subcommands: machine state from VmControl in QEMU's layouts.
#include "monitor/balloon_control.h"
#include "devices/usb/usb_bus.h"
#include "monitor/hmp/hmp_command.h"

#include <algorithm>
#include <fmt/format.h>

namespace kestrel {

namespace {

void print_block(HmpContext& ctx, std::string text) {
    if (!text.empty() && text.back() != '\n') text += '\n';
    ctx.print(text);
}

void info_version(HmpContext& ctx, const HmpCall&) {
    ctx.print(ctx.services.qemu_version + ctx.services.qemu_package + "\n");
}

// "running", "paused", or "paused (<runstate>)" for the other stopped states.
void info_status(HmpContext& ctx, const HmpCall&) {
    VmStatus s = ctx.vm().status();
    std::string text = std::string("VM status: ") + (s.running ? "running" : "paused");
    if (!s.running && s.status != "paused") text += " (" + s.status + ")";
    ctx.print(text + "\n");
}

void info_name(HmpContext& ctx, const HmpCall&) {
    std::string name = ctx.vm().name();
    if (!name.empty()) ctx.print(name + "\n");
}

void info_uuid(HmpContext& ctx, const HmpCall&) { ctx.print(ctx.vm().uuid() + "\n"); }

// kestrel always runs on KVM.
void info_kvm(HmpContext& ctx, const HmpCall&) { ctx.print("kvm support: enabled\n"); }

void info_cpus(HmpContext& ctx, const HmpCall&) {
    for (const auto& cpu : ctx.vm().cpus())
        ctx.print(fmt::format("{} CPU #{}: thread_id={}\n", cpu.index == ctx.state.current_cpu ? '*' : ' ',
                              cpu.index, cpu.host_thread_id));
}

// QEMU's hmp_hotpluggable_cpus: query-hotpluggable-cpus as text, the last
// slot first.
void info_hotpluggable_cpus(HmpContext& ctx, const HmpCall&) {
    PossibleCpus cpus = ctx.vm().possible_cpus();
    if (cpus.slots.empty()) {
        ctx.print("Error: The feature 'query-hotpluggable-cpus' is not enabled\n");
        return;
    }
    std::string text = "Hotpluggable CPUs:\n";
    for (auto slot = cpus.slots.rbegin(); slot != cpus.slots.rend(); ++slot) {
        text += fmt::format("  type: \"{}\"\n  vcpus_count: \"1\"\n", cpus.type);
        if (!slot->qom_path.empty()) text += fmt::format("  qom_path: \"{}\"\n", slot->qom_path);
        text += fmt::format("  CPUInstance Properties:\n    socket-id: \"{}\"\n", slot->socket_id);
        if (cpus.with_die) text += fmt::format("    die-id: \"{}\"\n", slot->die_id);
        text += fmt::format("    core-id: \"{}\"\n    thread-id: \"{}\"\n", slot->core_id, slot->thread_id);
    }
    ctx.print(text);
}

void print_registers(HmpContext& ctx, unsigned index) {
    ctx.print(fmt::format("\nCPU#{}\n", index));
    print_block(ctx, ctx.vm().cpu_registers_text(index));
}

void info_registers(HmpContext& ctx, const HmpCall& call) {
    auto cpus = ctx.vm().cpus();
    if (call.flag(0)) {
        for (const auto& cpu : cpus) print_registers(ctx, cpu.index);
        return;
    }
    uint64_t index = call.has(1) ? call.number(1) : ctx.state.current_cpu;
    bool exists = std::any_of(cpus.begin(), cpus.end(), [&](const VcpuInfo& c) { return c.index == index; });
    if (!exists) {
        ctx.print(fmt::format("CPU#{} not available\n", static_cast<int64_t>(index)));
        return;
    }
    print_registers(ctx, static_cast<unsigned>(index));
}

void print_bar(HmpContext& ctx, const PciBarInfo& bar) {
    uint64_t last = bar.address + bar.size - 1;
    if (bar.io) {
        ctx.print(fmt::format("      BAR{}: I/O at 0x{:04x} [0x{:04x}].\n", bar.index, bar.address, last));
        return;
    }
    ctx.print(fmt::format("      BAR{}: {} bit{} memory at 0x{:08x} [0x{:08x}].\n", bar.index, bar.mem64 ? 64 : 32,
                          bar.prefetchable ? " prefetchable" : "", bar.address, last));
}

void info_pci(HmpContext& ctx, const HmpCall&) {
    for (const auto& fn : ctx.vm().pci_functions()) {
        ctx.print(fmt::format("  Bus {:2}, device {:3}, function {}:\n", fn.bus, fn.slot, fn.function));
        std::string kind = fn.description.empty()
                               ? fmt::format("Class {:04}", (unsigned{fn.class_code} << 8) | fn.subclass)  // decimal, as QEMU
                               : fn.description;
        ctx.print(fmt::format("    {}: PCI device {:04x}:{:04x}\n", kind, fn.vendor_id, fn.device_id));
        if (fn.subsystem_vendor_id || fn.subsystem_id)
            ctx.print(fmt::format("      PCI subsystem {:04x}:{:04x}\n", fn.subsystem_vendor_id, fn.subsystem_id));
        if (fn.irq_pin)
            ctx.print(fmt::format("      IRQ {}, pin {}\n", fn.irq_line, static_cast<char>('A' + fn.irq_pin - 1)));
        for (const auto& bar : fn.bars) print_bar(ctx, bar);
        ctx.print(fmt::format("      id \"{}\"\n", fn.qdev_id));
    }
}

void info_chardev(HmpContext& ctx, const HmpCall&) {
    for (const auto& c : ctx.vm().chardevs()) ctx.print(c.label + ": filename=" + c.filename + "\n");
}

void info_history(HmpContext& ctx, const HmpCall&) {
    const HmpHistory& h = ctx.state.history;
    for (size_t i = 0; i < h.size(); ++i) ctx.print(fmt::format("{}: '{}'\n", i, h.at(i)));
}

// A kestrel addition (QEMU 7.2's HMP has no "info commands"): the names of
// the HMP commands, one a line.
void info_commands(HmpContext& ctx, const HmpCall&) {
    std::vector<std::string_view> names;
    for (const auto& cmd : hmp_commands()) names.push_back(cmd.name);
    std::sort(names.begin(), names.end());
    for (auto name : names) ctx.print(std::string(name) + "\n");
}

template <const char* What>
void info_machine_text(HmpContext& ctx, const HmpCall&) {
    print_block(ctx, ctx.vm().info_text(What));
}
constexpr char kPic[] = "pic", kIrq[] = "irq", kMtree[] = "mtree", kRoms[] = "roms";

void print_qtree_bus(HmpContext& ctx, const QtreeNode::Bus& bus, unsigned indent);

void print_qtree_node(HmpContext& ctx, const QtreeNode& node, unsigned indent) {
    std::string pad(indent * 2, ' ');
    ctx.print(fmt::format("{}dev: {}, id \"{}\"\n", pad, node.type, node.id));
    for (const auto& [name, value] : node.properties) ctx.print(fmt::format("{}  {} = {}\n", pad, name, value));
    for (const std::string& line : node.lines) ctx.print(fmt::format("{}  {}\n", pad, line));
    for (const QtreeNode::Bus& bus : node.buses) print_qtree_bus(ctx, bus, indent + 1);
}

void print_qtree_bus(HmpContext& ctx, const QtreeNode::Bus& bus, unsigned indent) {
    std::string pad(indent * 2, ' ');
    ctx.print(fmt::format("{}bus: {}\n{}  type {}\n", pad, bus.name, pad, bus.type));
    for (const QtreeNode& node : bus.devices) print_qtree_node(ctx, node, indent + 1);
}

// QEMU's layout: each bus, its type, then its devices (newest first) with
// their properties, device lines and buses, two spaces a level.
void info_qtree(HmpContext& ctx, const HmpCall&) { print_qtree_bus(ctx, ctx.vm().devices().qtree(), 0); }

void info_usb(HmpContext& ctx, const HmpCall&) {
    const UsbBuses* buses = ctx.vm().services().find<UsbBuses>();
    if (!buses || buses->empty()) throw MonitorError("USB support not enabled");
    for (const UsbPortInfo& d : buses->attached())
        ctx.print(fmt::format("  Device {}.{}, Port {}, Speed {} Mb/s, Product {}{}\n", d.bus, d.address, d.port,
                              d.speed_mbps, d.product, d.id.empty() ? "" : ", ID: " + d.id));
}

// "balloon: actual=MiB", or QEMU's error without a balloon.
void info_balloon(HmpContext& ctx, const HmpCall&) {
    ctx.print(fmt::format("balloon: actual={}\n", active_balloon(ctx.vm()).actual() >> 20));
}

} // namespace

const std::vector<HmpCommand>& hmp_info_commands() {
    using A = HmpArg;
    static const std::vector<HmpCommand> table{
        {"balloon", {}, "", "show balloon information", info_balloon},
        {"block", {A::OptRest}, "[-n] [-v] [device]",
         "show info of one block device or all block devices (-n: show named nodes; -v: show details)",
         hmp_info_block},
        {"block-jobs", {}, "", "show progress of ongoing block device operations", hmp_info_block_jobs},
        {"blockstats", {}, "", "show block device statistics", hmp_info_blockstats},
        {"chardev", {}, "", "show the character devices", info_chardev},
        {"commands", {}, "", "list the monitor commands", info_commands},
        {"cpus", {}, "", "show infos for each CPU", info_cpus},
        hmp_info_dump_command(),
        {"history", {}, "", "show the command line history", info_history},
        {"hotpluggable-cpus", {}, "", "Show information about hotpluggable CPUs", info_hotpluggable_cpus},
        {"iothreads", {}, "", "show iothreads", hmp_info_iothreads},
        {"irq", {}, "", "show the interrupts statistics (if available)", info_machine_text<kIrq>},
        {"kvm", {}, "", "show KVM information", info_kvm},
        {"memdev", {}, "", "show memory backends", hmp_info_memdev},
        {"mice", {}, "", "show which guest mouse is receiving events", hmp_info_mice},
        {"mtree", {}, "", "show memory tree", info_machine_text<kMtree>},
        {"name", {}, "", "show the current VM name", info_name},
        {"network", {}, "", "show the network state", hmp_info_network},
        {"pci", {}, "", "show PCI info", info_pci},
        {"pic", {}, "", "show PIC state", info_machine_text<kPic>},
        {"qtree", {}, "", "show device tree", info_qtree},
        {"registers", {A::AllFlag, A::OptExpr}, "[-a|vcpu]",
         "show the cpu registers (-a: show register info for all cpus; vcpu: specific vCPU to query; show the "
         "current CPU's registers if no argument is specified)",
         info_registers},
        {"roms", {}, "", "show roms", info_machine_text<kRoms>},
        {"status", {}, "", "show the current VM status (running|paused)", info_status},
        {"usb", {}, "", "show guest USB devices", info_usb},
        {"usernet", {}, "", "show user network stack connection states", hmp_info_usernet},
        {"uuid", {}, "", "show the current VM UUID", info_uuid},
        {"version", {}, "", "show the version of QEMU", info_version},
        {"vnc", {}, "", "show the vnc server status", hmp_info_vnc},
    };
    return table;
}

} // namespace kestrel
