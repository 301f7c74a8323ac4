#include "kvm/vm.h"

#include "kvm/pc_memory_map.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <string>
#include <sys/ioctl.h>
#include <unistd.h>

namespace kestrel {
namespace {

[[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

class KvmIrqLine : public IrqLine {
public:
    KvmIrqLine(Vm& vm, unsigned gsi) : vm_(vm), gsi_(gsi) {}
    void set_level(bool high) override { vm_.set_irq(gsi_, high); }

private:
    Vm& vm_;
    unsigned gsi_;
};

} // namespace

Vm::Vm(KvmSystem& kvm, const GuestMemory& memory, bool shadowed_bios_area) : kvm_(kvm) {
    fd_.reset(ioctl(kvm.fd(), KVM_CREATE_VM, 0));
    if (!fd_) fail("failed to create KVM VM");
    if (ioctl(fd_.get(), KVM_SET_TSS_ADDR, pc::KVM_TSS_ADDR) < 0) fail("KVM_SET_TSS_ADDR");
    uint64_t identity = pc::KVM_IDENTITY_MAP_ADDR;
    if (ioctl(fd_.get(), KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0) fail("KVM_SET_IDENTITY_MAP_ADDR");
    map_memory(memory, shadowed_bios_area);
    if (ioctl(fd_.get(), KVM_CREATE_IRQCHIP, 0) < 0) fail("KVM_CREATE_IRQCHIP");
    kvm_pit_config pit{};
    pit.flags = KVM_PIT_SPEAKER_DUMMY;  // KVM answers port 0x61 too
    if (ioctl(fd_.get(), KVM_CREATE_PIT2, &pit) < 0) fail("KVM_CREATE_PIT2");
    setup_gsi_routing();
    save_power_on_state();
}

void Vm::disable_power_exits() {
    int supported = kvm_.check_extension(KVM_CAP_X86_DISABLE_EXITS);
    if (supported > 0)
        supported &= KVM_X86_DISABLE_EXITS_MWAIT | KVM_X86_DISABLE_EXITS_HLT | KVM_X86_DISABLE_EXITS_PAUSE |
                     KVM_X86_DISABLE_EXITS_CSTATE;
    kvm_enable_cap cap{};
    cap.cap = KVM_CAP_X86_DISABLE_EXITS;
    cap.args[0] = uint64_t(std::max(supported, 0));
    if (ioctl(fd_.get(), KVM_ENABLE_CAP, &cap) < 0)
        spdlog::error("kvm: guest stopping CPU not supported: {}", std::strerror(errno));
}

// As on a PC: ISA IRQs 0-15 reach both 8259s (except the cascade, 2) and the
// IOAPIC; the PIT's IRQ 0 arrives at IOAPIC pin 2, as the MADT override says.
void Vm::setup_gsi_routing() {
    std::vector<kvm_irq_routing_entry> entries;
    auto add = [&](unsigned gsi, unsigned chip, unsigned pin) {
        kvm_irq_routing_entry e{};
        e.gsi = gsi;
        e.type = KVM_IRQ_ROUTING_IRQCHIP;
        e.u.irqchip.irqchip = chip;
        e.u.irqchip.pin = pin;
        entries.push_back(e);
    };
    for (unsigned gsi = 0; gsi < 16; ++gsi) {
        if (gsi == 2) continue;
        add(gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
    }
    for (unsigned gsi = 0; gsi < 24; ++gsi) {
        if (gsi == 2) continue;
        add(gsi, KVM_IRQCHIP_IOAPIC, gsi == 0 ? 2 : gsi);
    }
    std::lock_guard guard(routes_lock_);
    irqchip_routes_ = std::move(entries);
    if (!commit_routes_locked()) fail("KVM_SET_GSI_ROUTING");
}

// KVM_SET_GSI_ROUTING replaces the whole table: irqchip entries and MSIs.
bool Vm::commit_routes_locked() {
    std::vector<kvm_irq_routing_entry> entries = irqchip_routes_;
    for (const auto& [gsi, entry] : msi_routes_) entries.push_back(entry);
    std::vector<uint8_t> buf(sizeof(kvm_irq_routing) + entries.size() * sizeof(kvm_irq_routing_entry));
    auto* table = reinterpret_cast<kvm_irq_routing*>(buf.data());
    table->nr = uint32_t(entries.size());
    std::memcpy(table->entries, entries.data(), entries.size() * sizeof(kvm_irq_routing_entry));
    return ioctl(fd_.get(), KVM_SET_GSI_ROUTING, table) == 0;
}

void Vm::save_power_on_state() {
    for (uint32_t chip : {KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC}) {
        kvm_irqchip state{};
        state.chip_id = chip;
        if (ioctl(fd_.get(), KVM_GET_IRQCHIP, &state) < 0) fail("KVM_GET_IRQCHIP");
        chips_at_power_on_.push_back(state);
    }
    if (ioctl(fd_.get(), KVM_GET_PIT2, &pit_at_power_on_) < 0) fail("KVM_GET_PIT2");
}

void Vm::reset_irqchip() {
    for (auto state : chips_at_power_on_) {
        if (ioctl(fd_.get(), KVM_SET_IRQCHIP, &state) < 0) spdlog::warn("KVM_SET_IRQCHIP: {}", std::strerror(errno));
    }
    kvm_pit_state2 pit = pit_at_power_on_;
    if (ioctl(fd_.get(), KVM_SET_PIT2, &pit) < 0) spdlog::warn("KVM_SET_PIT2: {}", std::strerror(errno));
}

bool Vm::set_pit_reinject(bool reinject) {
    if (kvm_.check_extension(KVM_CAP_REINJECT_CONTROL) <= 0) return false;
    kvm_reinject_control control{};
    control.pit_reinject = reinject ? 1 : 0;
    return ioctl(fd_.get(), KVM_REINJECT_CONTROL, &control) == 0;
}

void Vm::set_irq(unsigned gsi, bool level) {
    if (level && gsi < irq_counts_.size()) irq_counts_[gsi].fetch_add(1, std::memory_order_relaxed);
    kvm_irq_level irq{};
    irq.irq = gsi;
    irq.level = level ? 1 : 0;
    if (ioctl(fd_.get(), KVM_IRQ_LINE, &irq) < 0) spdlog::warn("KVM_IRQ_LINE {}: {}", gsi, std::strerror(errno));
}

std::unique_ptr<IrqLine> Vm::irq_line(unsigned gsi) { return std::make_unique<KvmIrqLine>(*this, gsi); }

std::vector<kvm_irqchip> Vm::irqchips() const {
    std::vector<kvm_irqchip> chips;
    for (uint32_t id : {KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC}) {
        kvm_irqchip chip{};
        chip.chip_id = id;
        if (ioctl(fd_.get(), KVM_GET_IRQCHIP, &chip) == 0) chips.push_back(chip);
    }
    return chips;
}

std::vector<uint64_t> Vm::irq_counts() const {
    std::vector<uint64_t> counts;
    for (const auto& c : irq_counts_) counts.push_back(c.load(std::memory_order_relaxed));
    return counts;
}

// --- MSI routes, irqfds, ioeventfds ---

namespace {
kvm_irq_routing_entry msi_entry(unsigned gsi, uint64_t address, uint32_t data) {
    kvm_irq_routing_entry e{};
    e.gsi = gsi;
    e.type = KVM_IRQ_ROUTING_MSI;
    e.u.msi.address_lo = uint32_t(address);
    e.u.msi.address_hi = uint32_t(address >> 32);
    e.u.msi.data = data;
    return e;
}
} // namespace

std::optional<unsigned> Vm::add_msi_route(uint64_t address, uint32_t data) {
    std::lock_guard guard(routes_lock_);
    unsigned gsi = FIRST_MSI_GSI;
    while (msi_routes_.count(gsi)) ++gsi;
    msi_routes_[gsi] = msi_entry(gsi, address, data);
    if (commit_routes_locked()) return gsi;
    spdlog::warn("KVM_SET_GSI_ROUTING (MSI route for GSI {}): {}", gsi, std::strerror(errno));
    msi_routes_.erase(gsi);
    return std::nullopt;
}

bool Vm::update_msi_route(unsigned gsi, uint64_t address, uint32_t data) {
    std::lock_guard guard(routes_lock_);
    auto it = msi_routes_.find(gsi);
    if (it == msi_routes_.end()) return false;
    kvm_irq_routing_entry old = it->second;
    it->second = msi_entry(gsi, address, data);
    if (commit_routes_locked()) return true;
    spdlog::warn("KVM_SET_GSI_ROUTING (MSI route for GSI {}): {}", gsi, std::strerror(errno));
    it->second = old;
    return false;
}

void Vm::remove_msi_route(unsigned gsi) {
    std::lock_guard guard(routes_lock_);
    if (msi_routes_.erase(gsi) && !commit_routes_locked())
        spdlog::warn("KVM_SET_GSI_ROUTING (removing GSI {}): {}", gsi, std::strerror(errno));
}

bool Vm::signal_msi(uint64_t address, uint32_t data) {
    kvm_msi msi{};
    msi.address_lo = uint32_t(address);
    msi.address_hi = uint32_t(address >> 32);
    msi.data = data;
    // 0 means the guest's APIC ignored it (e.g. masked); only < 0 is an error.
    return ioctl(fd_.get(), KVM_SIGNAL_MSI, &msi) >= 0;
}

bool Vm::assign_irqfd(int fd, unsigned gsi) {
    kvm_irqfd irqfd{};
    irqfd.fd = uint32_t(fd);
    irqfd.gsi = gsi;
    if (ioctl(fd_.get(), KVM_IRQFD, &irqfd) == 0) return true;
    spdlog::warn("KVM_IRQFD (GSI {}): {}", gsi, std::strerror(errno));
    return false;
}

void Vm::deassign_irqfd(int fd, unsigned gsi) {
    kvm_irqfd irqfd{};
    irqfd.fd = uint32_t(fd);
    irqfd.gsi = gsi;
    irqfd.flags = KVM_IRQFD_FLAG_DEASSIGN;
    if (ioctl(fd_.get(), KVM_IRQFD, &irqfd) < 0) spdlog::warn("KVM_IRQFD deassign (GSI {}): {}", gsi, std::strerror(errno));
}

namespace {
kvm_ioeventfd ioeventfd_args(const Vm::IoEventFd& spec, bool deassign) {
    kvm_ioeventfd args{};
    args.addr = spec.address;
    args.len = spec.length;
    args.fd = spec.fd;
    if (spec.pio) args.flags |= KVM_IOEVENTFD_FLAG_PIO;
    if (spec.datamatch) {
        args.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
        args.datamatch = *spec.datamatch;
    }
    if (deassign) args.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
    return args;
}
} // namespace

bool Vm::assign_ioeventfd(const IoEventFd& spec) {
    kvm_ioeventfd args = ioeventfd_args(spec, false);
    if (ioctl(fd_.get(), KVM_IOEVENTFD, &args) == 0) return true;
    spdlog::warn("KVM_IOEVENTFD at {} {:#x}: {}", spec.pio ? "port" : "address", spec.address, std::strerror(errno));
    return false;
}

void Vm::deassign_ioeventfd(const IoEventFd& spec) {
    kvm_ioeventfd args = ioeventfd_args(spec, true);
    if (ioctl(fd_.get(), KVM_IOEVENTFD, &args) < 0)
        spdlog::warn("KVM_IOEVENTFD deassign at {:#x}: {}", spec.address, std::strerror(errno));
}

} // namespace kestrel
