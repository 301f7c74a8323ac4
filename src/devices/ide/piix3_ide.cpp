// piix3-ide: the PIIX3's IDE function (PCI 8086:7010) at 01.1, in legacy
// (compatibility) mode as on QEMU's pc: the primary channel at
// 0x1f0-0x1f7/0x3f6 on IRQ 14, the secondary at 0x170-0x177/0x376 on IRQ
// 15, and bus-master DMA registers in BAR 4. The board gives it the
// -drive if=ide disks (ide0-hd0 .. ide1-hd1); their I/O runs on the main
// loop through the block layer.
#include "base/event_loop.h"
#include "devices/bus.h"
#include "devices/device_context.h"
#include "devices/ide/ide_channel.h"
#include "devices/pci/pci_function_device.h"
#include "devices/pci/pci_regs.h"

#include <sys/epoll.h>

namespace kestrel {
namespace {

constexpr std::string_view kUnsupported[] = {"acpi-index", "failover_pair_id", "multifunction", "rombar", "romfile",
                                             "romsize",    "x-pcie-extcap-init", "x-pcie-lnksta-dllla"};

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
    explicit IdeFunction(std::array<std::shared_ptr<IdeChannel>, 2> ch) : ch_(ch) {
        set_ids({pci::VENDOR_INTEL, 0x7010, 0x00, 0x010180});  // IDE, bus master, legacy mode
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

class Piix3Ide final : public PciFunctionDevice {
public:
    using PciFunctionDevice::PciFunctionDevice;

    void unrealize() override {
        if (loop_)
            for (auto& disk : disks_) loop_->remove_fd(disk->completion_fd());
    }

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        loop_ = &context.main_loop();
        EventLoop* loop = loop_;
        auto io = [loop](std::function<void()> fn) { loop->post(std::move(fn)); };
        const auto& ids = context.board().ide_drives;
        std::array<std::shared_ptr<IdeChannel>, 2> channels;
        for (unsigned c = 0; c < 2; ++c) {
            std::array<IdeDrive, 2> drives;
            for (unsigned u = 0; u < 2; ++u) {
                const unsigned index = 2 * c + u;
                const std::string& id = ids[index];
                if (id.empty()) continue;
                drives[u].cdrom = context.board().ide_cdrom[index];
                drives[u].serial = "QM0000" + std::to_string(index + 1);
                if (!context.board().ide_medium[index]) continue;  // an empty CD-ROM drive
                drives[u].disk = context.drive(id, qom_path());  // kestrel has no ide-hd/ide-cd objects yet
                watch(*drives[u].disk);
            }
            channels[c] = std::make_shared<IdeChannel>(context.memory(), context.isa_irq(kChannelPorts[c].irq),
                                                       io, std::move(drives));
            context.pio().insert_or_throw(kChannelPorts[c].command, 8, std::make_shared<CommandBlock>(channels[c]),
                                          "ide");
            context.pio().insert_or_throw(kChannelPorts[c].control, 1, std::make_shared<ControlBlock>(channels[c]),
                                          "ide");
        }
        return std::make_shared<IdeFunction>(channels);
    }

    void watch(BlockBackend& disk) {
        loop_->add_fd(disk.completion_fd(), EPOLLIN, [&disk](uint32_t) { disk.process_completions(); });
        disks_.push_back(&disk);
    }

    EventLoop* loop_ = nullptr;
    std::vector<BlockBackend*> disks_;
};

} // namespace

extern const DeviceType kPiix3IdeType = {
    .name = "piix3-ide",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Storage,
    .description = {},
    .properties = {},
    .create = &create_device<Piix3Ide>,
    .qom_parent = "pci-ide",
    .user_creatable = false,
    .unsupported_properties = kUnsupported,
};

} // namespace kestrel
