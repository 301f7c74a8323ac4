// piix3-ide and piix4-ide: the PIIX3's and PIIX4's IDE function (PCI
// 8086:7010, 8086:7111) in legacy (compatibility) mode as on QEMU's pc: the
// primary channel at 0x1f0-0x1f7/0x3f6 on IRQ 14, the secondary at
// 0x170-0x177/0x376 on IRQ 15, and bus-master DMA registers in BAR 4. The
// board's piix3-ide sits at 01.1 with buses ide.0 and ide.1; one made with
// -device goes to a free slot and takes the legacy ports over (QEMU gives a
// port to the newest of equal regions), so the drives on its buses answer
// there and the board's do not. The buses hold ide-hd and ide-cd devices
// (ide_drive_device.cpp); their I/O runs on the main loop through the
// block layer.
#include "base/event_loop.h"
#include "base/service_registry.h"
#include "devices/bus.h"
#include "devices/device_context.h"
#include "devices/device_memory.h"
#include "devices/ide/ide_buses.h"
#include "devices/pci/pci_function_device.h"
#include "devices/pci/pci_regs.h"

#include <stdexcept>

namespace kestrel {
namespace {

struct Ports {
    uint16_t command, control;
    unsigned irq;
};
constexpr Ports kChannelPorts[2] = {{0x1f0, 0x3f6, 14}, {0x170, 0x376, 15}};
constexpr uint16_t kIdetimPrimary = 0x40, kIdetimSecondary = 0x42, kIdetimDecodeEnable = 0x8000;

class CommandBlock final : public BusDevice {
public:
    explicit CommandBlock(std::shared_ptr<IdeChannel> ch) : ch_(std::move(ch)) {}
    void read(uint64_t offset, std::span<uint8_t> data) override {
        store_le(data, ch_->read_command(unsigned(offset), unsigned(data.size())));
    }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        ch_->write_command(unsigned(offset), uint32_t(load_le(data)), unsigned(data.size()));
    }

private:
    std::shared_ptr<IdeChannel> ch_;
};

class ControlBlock final : public BusDevice {
public:
    explicit ControlBlock(std::shared_ptr<IdeChannel> ch) : ch_(std::move(ch)) {}
    void read(uint64_t, std::span<uint8_t> data) override { store_le(data, ch_->read_alt_status()); }
    void write(uint64_t, std::span<const uint8_t> data) override { ch_->write_control(data[0]); }

private:
    std::shared_ptr<IdeChannel> ch_;
};

// BAR 4: 8 bytes of bus-master registers per channel.
class BusMaster final : public BusDevice {
public:
    explicit BusMaster(std::array<std::shared_ptr<IdeChannel>, 2> ch) : ch_(std::move(ch)) {}
    void read(uint64_t offset, std::span<uint8_t> data) override {
        store_le(data, ch_[(offset >> 3) & 1]->read_bm(unsigned(offset & 7), unsigned(data.size())));
    }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        ch_[(offset >> 3) & 1]->write_bm(unsigned(offset & 7), uint32_t(load_le(data)), unsigned(data.size()));
    }

private:
    std::array<std::shared_ptr<IdeChannel>, 2> ch_;
};

class IdeFunction final : public PciDevice {
public:
    IdeFunction(uint16_t device_id, std::array<std::shared_ptr<IdeChannel>, 2> ch) : ch_(ch) {
        set_ids({pci::VENDOR_INTEL, device_id, 0x00, 0x010180});  // IDE, bus master, legacy mode
        add_bar(4, 16, BarKind::Io, false, std::make_shared<BusMaster>(ch), "bmdma");
        // As firmware leaves them (SeaBIOS writes the same): both channels'
        // IDETIM decode enabled, which Linux's ata_piix requires of a port.
        set_cfg16(kIdetimPrimary, kIdetimDecodeEnable);
        set_cfg16(kIdetimSecondary, kIdetimDecodeEnable);
    }
    void reset() override {
        PciDevice::reset();
        for (auto& c : ch_) c->reset();
    }

private:
    std::array<std::shared_ptr<IdeChannel>, 2> ch_;
};

class PiixIde final : public PciFunctionDevice {
public:
    using PciFunctionDevice::PciFunctionDevice;

    void unrealize() override {
        if (buses_) buses_->remove(bus_names_);
    }
    std::vector<std::string> child_bus_names() const override { return {bus_names_.begin(), bus_names_.end()}; }

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        buses_ = context.services().find<IdeBuses>();
        if (!buses_) throw std::runtime_error("the machine has no IDE buses");
        EventLoop* loop = &context.main_loop();
        auto io = [loop](std::function<void()> fn) { loop->post(std::move(fn)); };
        std::array<std::shared_ptr<IdeChannel>, 2> channels;
        for (unsigned c = 0; c < 2; ++c) {
            channels[c] = std::make_shared<IdeChannel>(context.memory(), context.isa_irq(kChannelPorts[c].irq),
                                                       io, std::array<IdeDrive, 2>{});
            map_legacy_ports(context, kChannelPorts[c], channels[c]);
        }
        bus_names_ = buses_->add(channels, id());
        return std::make_shared<IdeFunction>(type().name == "piix4-ide" ? 0x7111 : 0x7010, channels);
    }

    static void map_legacy_ports(DeviceContext& context, const Ports& ports, std::shared_ptr<IdeChannel> channel) {
        auto command = std::make_shared<CommandBlock>(channel);
        if (context.pio().insert(ports.command, 8, command, "ide"))
            coalesce_task_file_writes(context, ports.command);  // once: the zone serves whoever answers there
        else
            context.pio().insert_newest_wins(ports.command, 8, std::move(command), "ide");
        context.pio().insert_newest_wins(ports.control, 1, std::make_shared<ControlBlock>(channel), "ide");
    }

    // A driver loads the task file (features, count, LBA, device: registers
    // 1-6) before each command, six port exits of the ~26 a request costs.
    // Writing them has no effect until the command register or a read of
    // any register, which exit and deliver the queued writes first.
    static void coalesce_task_file_writes(DeviceContext& context, uint16_t command_block) {
        if (auto memory = context.device_memory()) memory->add_coalesced_pio(uint16_t(command_block + 1), 6);
    }

    IdeBuses* buses_ = nullptr;
    std::array<std::string, 2> bus_names_;
};

} // namespace

constexpr DeviceType piix_ide_type(std::string_view name) {
    return {
        .name = name,
        .bus = BusKind::Pci,
        .category = DeviceCategory::Storage,
        .description = {},
        .properties = {},
        .create = &create_device<PiixIde>,
        .qom_parent = "pci-ide",
        .child_bus = BusKind::Ide,
        .has_rom = true,
    };
}

extern const DeviceType kPiix3IdeType = piix_ide_type("piix3-ide");
extern const DeviceType kPiix4IdeType = piix_ide_type("piix4-ide");

} // namespace kestrel
