#include "devices/cpu_hotplug/cpu_hotplug_regs.h"

#include <algorithm>
#include <cstring>

namespace kestrel {

namespace {

constexpr uint8_t STATUS_PRESENT = 1u << 0, STATUS_INSERT = 1u << 1, STATUS_REMOVE = 1u << 2;
constexpr uint8_t CONTROL_EJECT = 1u << 3, STATUS_FIRMWARE_REMOVE = 1u << 4;

} // namespace

CpuHotplugRegs::CpuHotplugRegs(std::vector<uint32_t> apic_ids, std::function<void()> raise_gpe,
                               std::function<void(unsigned)> eject)
    : raise_gpe_(std::move(raise_gpe)), eject_(std::move(eject)) {
    for (uint32_t id : apic_ids) s_.slots.push_back(CpuHotplugSlot{.apic_id = id});
}

void CpuHotplugRegs::read(uint64_t offset, std::span<uint8_t> data) {
    uint32_t value;
    {
        std::lock_guard guard(lock_);
        value = read_locked(offset);
    }
    std::memset(data.data(), 0, data.size());
    std::memcpy(data.data(), &value, std::min<size_t>(data.size(), sizeof value));
}

uint32_t CpuHotplugRegs::read_locked(uint64_t offset) const {
    if (s_.legacy) return legacy_byte_locked(offset);
    if (s_.selector >= s_.slots.size() || offset >= MODERN_LENGTH) return 0;
    const CpuHotplugSlot& slot = s_.slots[s_.selector];
    switch (offset) {
    case SELECTOR: return 0;  // command data 2: CPU_ID's upper half (APIC IDs are 32-bit)
    case FLAGS:
        return (slot.present ? STATUS_PRESENT : 0) | (slot.inserting ? STATUS_INSERT : 0) |
               (slot.removing ? STATUS_REMOVE : 0) | (slot.firmware_remove ? STATUS_FIRMWARE_REMOVE : 0);
    case DATA:
        if (s_.command == NEXT_EVENT) return s_.selector;
        if (s_.command == CPU_ID) return slot.apic_id;
        return 0;
    default: return 0;  // reserved
    }
}

// Byte `offset` of the present CPUs' bitmap (bit N: APIC ID N).
uint8_t CpuHotplugRegs::legacy_byte_locked(uint64_t offset) const {
    uint8_t byte = 0;
    for (const CpuHotplugSlot& slot : s_.slots)
        if (slot.present && slot.apic_id / 8 == offset) byte |= uint8_t(1u << (slot.apic_id % 8));
    return byte;
}

void CpuHotplugRegs::write(uint64_t offset, std::span<const uint8_t> data) {
    uint32_t value = 0;
    std::memcpy(&value, data.data(), std::min<size_t>(data.size(), sizeof value));
    WriteEffect effect;
    std::function<void(unsigned)> eject;
    std::function<void(const CpuOstReport&)> ost;
    {
        std::lock_guard guard(lock_);
        effect = write_locked(offset, value);
        eject = eject_;
        ost = ost_;
    }
    if (effect.eject >= 0 && eject) eject(unsigned(effect.eject));
    if (effect.ost && ost) ost(*effect.ost);
}

CpuHotplugRegs::WriteEffect CpuHotplugRegs::write_locked(uint64_t offset, uint32_t value) {
    if (s_.legacy) {
        if (offset == 0 && value == 0) s_.legacy = false;  // for good: a reset keeps the mode
        return {};
    }
    if (offset == SELECTOR) {
        s_.selector = value;
        return {};
    }
    if (s_.selector >= s_.slots.size()) return {};
    CpuHotplugSlot& slot = s_.slots[s_.selector];
    switch (offset) {
    case FLAGS: return {.eject = write_flags_locked(slot, value)};
    case COMMAND:
        if (value < COMMANDS) {
            s_.command = uint8_t(value);
            if (s_.command == NEXT_EVENT) select_next_event_locked();
        }
        return {};
    case DATA: return {.ost = write_data_locked(slot, value)};
    default: return {};  // reserved
    }
}

// The _OST's source event, then its status: the status completes a report.
std::optional<CpuOstReport> CpuHotplugRegs::write_data_locked(CpuHotplugSlot& slot, uint32_t value) {
    if (s_.command == OST_EVENT) slot.ost_event = value;
    if (s_.command != OST_STATUS) return std::nullopt;
    slot.ost_status = value;
    return report_locked(s_.selector);
}

CpuOstReport CpuHotplugRegs::report_locked(unsigned index) const {
    const CpuHotplugSlot& slot = s_.slots[index];
    return {.index = index, .source = slot.ost_event, .status = slot.ost_status, .present = slot.present};
}

// One action per write, the first bit that asks for one, as QEMU.
int CpuHotplugRegs::write_flags_locked(CpuHotplugSlot& slot, uint32_t value) {
    const bool ejectable = slot.present && s_.selector != 0;  // never the boot CPU
    if (value & STATUS_INSERT) {
        slot.inserting = false;
    } else if (value & STATUS_REMOVE) {
        slot.removing = false;
    } else if (value & CONTROL_EJECT) {
        if (!ejectable) return -1;
        slot.present = false;
        slot.firmware_remove = false;
        return int(s_.selector);
    } else if (value & STATUS_FIRMWARE_REMOVE) {
        if (ejectable) slot.firmware_remove = !slot.firmware_remove;
    }
    return -1;
}

// From the selected CPU on, wrapping around; stays put when none has one.
void CpuHotplugRegs::select_next_event_locked() {
    const size_t count = s_.slots.size();
    for (size_t step = 0; step < count; ++step) {
        size_t i = (s_.selector + step) % count;
        if (s_.slots[i].inserting || s_.slots[i].removing) {
            s_.selector = uint32_t(i);
            return;
        }
    }
}

void CpuHotplugRegs::set_present(unsigned index) {
    std::lock_guard guard(lock_);
    if (index < s_.slots.size()) s_.slots[index].present = true;
}

void CpuHotplugRegs::plugged(unsigned index) {
    {
        std::lock_guard guard(lock_);
        if (index >= s_.slots.size()) return;
        s_.slots[index].present = true;
        s_.slots[index].inserting = !s_.legacy;  // the legacy bitmap has no events
    }
    if (raise_gpe_) raise_gpe_();
}

void CpuHotplugRegs::request_unplug(unsigned index) {
    {
        std::lock_guard guard(lock_);
        if (s_.legacy || index >= s_.slots.size() || !s_.slots[index].present) return;
        s_.slots[index].removing = true;
    }
    if (raise_gpe_) raise_gpe_();
}

bool CpuHotplugRegs::unplug_requested(unsigned index) const {
    std::lock_guard guard(lock_);
    return index < s_.slots.size() && s_.slots[index].removing;
}

void CpuHotplugRegs::on_eject(std::function<void(unsigned)> eject) {
    std::lock_guard guard(lock_);
    eject_ = std::move(eject);
}

void CpuHotplugRegs::on_ost(std::function<void(const CpuOstReport&)> report) {
    std::lock_guard guard(lock_);
    ost_ = std::move(report);
}

std::vector<CpuOstReport> CpuHotplugRegs::ospm_status() const {
    std::lock_guard guard(lock_);
    std::vector<CpuOstReport> reports;
    if (s_.legacy) return reports;
    for (unsigned i = 0; i < s_.slots.size(); ++i) reports.push_back(report_locked(i));
    return reports;
}

bool CpuHotplugRegs::unplug_supported() const {
    std::lock_guard guard(lock_);
    return !s_.legacy;
}

CpuHotplugState CpuHotplugRegs::state() const {
    std::lock_guard guard(lock_);
    return s_;
}

} // namespace kestrel
