#pragma once
// The VGA's ISA-era decoding, shared by both cards: ports 0x3b0-0x3df, the
// Bochs VBE ports 0x1ce/0x1cf and the legacy window 0xa0000-0xbffff, as
// BusDevices onto a VgaCore.
#include "devices/bus_device.h"
#include "devices/vga/vga_core.h"

#include <memory>
#include <string>

namespace kestrel {

class DeviceContext;

// Ports relative to 0x3b0, one byte per port (wider accesses are split).
class VgaPortsIo final : public BusDevice {
public:
    explicit VgaPortsIo(std::shared_ptr<VgaCore> core, uint16_t base = vga::kPortBase)
        : core_(std::move(core)), base_(base) {}
    void read(uint64_t offset, std::span<uint8_t> data) override {
        for (size_t i = 0; i < data.size(); ++i) data[i] = core_->port_read(uint16_t(base_ + offset + i));
    }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        for (size_t i = 0; i < data.size(); ++i) core_->port_write(uint16_t(base_ + offset + i), data[i]);
    }

private:
    std::shared_ptr<VgaCore> core_;
    uint16_t base_;
};

// 0x1ce: the 16-bit index; 0x1cf: the data of the indexed register.
class VbePortsIo final : public BusDevice {
public:
    explicit VbePortsIo(std::shared_ptr<VgaCore> core) : core_(std::move(core)) {}
    void read(uint64_t offset, std::span<uint8_t> data) override {
        uint16_t v = 0xffff;
        if (offset == 0) v = core_->vbe_index();
        if (offset == 1) v = core_->vbe_read(core_->vbe_index());
        store_le(data, v);
    }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        auto v = uint16_t(load_le(data));
        if (offset == 0) core_->set_vbe_index(v);
        if (offset == 1) core_->vbe_write(core_->vbe_index(), v);
    }

private:
    std::shared_ptr<VgaCore> core_;
};

// A BusDevice that hands accesses to two member functions of a shared
// core (the card's memory windows and register BARs).
template <typename Core, auto Read, auto Write>
class CoreWindow final : public BusDevice {
public:
    explicit CoreWindow(std::shared_ptr<Core> core) : core_(std::move(core)) {}
    void read(uint64_t offset, std::span<uint8_t> data) override { ((*core_).*Read)(offset, data); }
    void write(uint64_t offset, std::span<const uint8_t> data) override { ((*core_).*Write)(offset, data); }

private:
    std::shared_ptr<Core> core_;
};

// 0xa0000-0xbffff (offsets within the window).
using VgaLowMemory = CoreWindow<VgaCore, &VgaCore::mem_read, &VgaCore::mem_write>;
// The linear framebuffer BAR's handler when KVM cannot map it.
using VgaLinearMemory = CoreWindow<VgaCore, &VgaCore::linear_read, &VgaCore::linear_write>;

// Maps the std VGA's legacy ranges as QEMU names them ("vga" ports in five
// pieces, "vbe", "vga-lowmem"). Returns false when another VGA already
// holds them (a second card then works through its BARs only).
bool map_std_vga_legacy(DeviceContext& context, const std::shared_ptr<VgaCore>& core);

} // namespace kestrel
