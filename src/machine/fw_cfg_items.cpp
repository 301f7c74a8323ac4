#include "machine/fw_cfg_items.h"

#include "devices/fw_cfg/fw_cfg.h"
#include "kvm/guest_memory.h"
#include "kvm/pc_memory_map.h"
#include "vcpu/topology.h"

#include <cstring>
#include <stdexcept>

namespace kestrel {
namespace {

struct E820Item {
    uint64_t addr, size;
    uint32_t type;
};
constexpr uint32_t E820_RAM = 1, E820_RESERVED = 2;
constexpr size_t LEGACY_E820_ENTRIES = 16;

// What the machine gives firmware: its RAM and the pages KVM keeps for
// itself; firmware carves out the rest (EBDA, BIOS, its tables).
std::vector<E820Item> machine_e820(const GuestMemory& mem) {
    // QEMU's order: KVM reserves its pages before the board adds RAM.
    std::vector<E820Item> map;
    map.push_back({pc::KVM_IDENTITY_MAP_ADDR, pc::KVM_TSS_ADDR + 3 * 0x1000 - pc::KVM_IDENTITY_MAP_ADDR, E820_RESERVED});
    for (const MemoryRegion& r : mem.regions()) map.push_back({r.gpa, r.size, E820_RAM});
    return map;
}

void append(std::vector<uint8_t>& out, const E820Item& e) {
    size_t at = out.size();
    out.resize(at + 20);
    std::memcpy(out.data() + at, &e.addr, 8);
    std::memcpy(out.data() + at + 8, &e.size, 8);
    std::memcpy(out.data() + at + 16, &e.type, 4);
}

// "etc/e820": every entry, 20 bytes each.
std::vector<uint8_t> e820_file(const std::vector<E820Item>& map) {
    std::vector<uint8_t> out;
    for (const E820Item& e : map) append(out, e);
    return out;
}

// FW_CFG_E820_TABLE: u32 count and 16 slots, reservations only.
std::vector<uint8_t> legacy_e820_table(const std::vector<E820Item>& map) {
    std::vector<uint8_t> out(4, 0);
    uint32_t count = 0;
    for (const E820Item& e : map)
        if (e.type != E820_RAM && count < LEGACY_E820_ENTRIES) append(out, e), ++count;
    std::memcpy(out.data(), &count, 4);
    out.resize(4 + LEGACY_E820_ENTRIES * 20, 0);
    return out;
}

std::vector<uint8_t> uuid_bytes(const std::string& text) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < text.size(); ++i) {
        if (text[i] == '-') continue;
        out.push_back(uint8_t(std::stoi(text.substr(i, 2), nullptr, 16)));
        ++i;
    }
    out.resize(16, 0);
    return out;
}

} // namespace

void add_pc_fw_cfg_items(FwCfg& fw, const Config& cfg, const GuestMemory& mem) {
    fw.set_bytes(fwcfg::UUID, uuid_bytes(cfg.uuid));
    fw.set_u16(fwcfg::NOGRAPHIC, cfg.display == DisplayKind::Nographic);
    fw.set_u16(fwcfg::BOOT_MENU, cfg.boot.menu);
    fw.set_u16(fwcfg::NB_CPUS, uint16_t(cfg.smp.present_count()));
    fw.set_u16(fwcfg::MAX_CPUS, uint16_t(apic_id_for(cfg.smp.maxcpus - 1, cfg.smp) + 1));
    fw.set_u64(fwcfg::RAM_SIZE, cfg.memory.size);
    fw.set_u32(fwcfg::IRQ0_OVERRIDE, 1);
    std::vector<E820Item> map = machine_e820(mem);
    fw.set_bytes(fwcfg::E820_TABLE, legacy_e820_table(map));
    fw.add_file("etc/e820", e820_file(map));
    // -boot reboot-timeout= (ms, -1: never retry), and splash-time= with menu=on, as QEMU's
    const uint32_t fail_wait = uint32_t(int32_t(cfg.boot.reboot_timeout));
    fw.add_file("etc/boot-fail-wait", std::vector<uint8_t>{uint8_t(fail_wait), uint8_t(fail_wait >> 8),
                                                          uint8_t(fail_wait >> 16), uint8_t(fail_wait >> 24)});
    if (cfg.boot.menu && cfg.boot.splash_time) {
        const auto wait = uint16_t(*cfg.boot.splash_time);
        fw.add_file("etc/boot-menu-wait", std::vector<uint8_t>{uint8_t(wait), uint8_t(wait >> 8)});
    }
    for (const FwCfgFileConfig& f : cfg.fw_cfg_files) {
        try {
            fw.add_file(f.name, f.data);
        } catch (const std::runtime_error& e) {
            throw std::runtime_error(f.location + ": " + e.what());
        }
    }
}

} // namespace kestrel
