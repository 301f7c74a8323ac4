// pc-testdev: the ISA test device kvm-unit-tests and other CPU test suites
// use (QEMU's hw/misc/pc-testdev.c):
//   0xe0-0xe3  a 32-bit register, any access width          pc-testdev-ioport
//   0xe4-0xe7  a 32-bit write of a guest-physical address     pc-testdev-flush-page
//              makes the hypervisor drop its mapping of that page
//   0xe8-0xeb  the same register as 0xe0, accessed bytewise   pc-testdev-ioport-byte
//   0x2000+N   a byte write sets ISA IRQ line N to (value != 0) pc-testdev-irq-line
//   0xff000000 64 KiB of memory behind MMIO exits           pc-testdev-iomem
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/device_context.h"
#include "base/irq_line.h"
#include "kvm/guest_memory.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <vector>

namespace kestrel {
namespace {

constexpr uint64_t kIoport = 0xe0, kFlush = 0xe4, kIoportByte = 0xe8, kIrqBase = 0x2000, kIrqLines = 24;
constexpr uint64_t kIomem = 0xff000000, kIomemSize = 0x10000;
constexpr uint64_t kPage = 0x1000;

// The guest-visible state (not reset with the machine, as in QEMU): the
// 32-bit register as its four little-endian bytes, and the memory window.
struct PcTestdevState {
    std::array<uint8_t, 4> ioport{};
    std::vector<uint8_t> iomem = std::vector<uint8_t>(kIomemSize, 0);
};

// Byte-wise access to one of the state's byte arrays; what runs past its
// end reads 0 and is dropped.
class ByteWindow final : public BusDevice {
public:
    ByteWindow(std::shared_ptr<std::mutex> lock, std::span<uint8_t> bytes) : lock_(std::move(lock)), bytes_(bytes) {}
    void read(uint64_t offset, std::span<uint8_t> data) override {
        std::lock_guard guard(*lock_);
        for (size_t i = 0; i < data.size(); ++i) data[i] = offset + i < bytes_.size() ? bytes_[offset + i] : 0;
    }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        std::lock_guard guard(*lock_);
        for (size_t i = 0; i < data.size() && offset + i < bytes_.size(); ++i) bytes_[offset + i] = data[i];
    }

private:
    std::shared_ptr<std::mutex> lock_;
    std::span<uint8_t> bytes_;
};

// QEMU mprotects the page away and back, which drops KVM's mapping of it
// (the guest's next access faults into KVM again). kestrel adds and
// removes PROT_EXEC instead: the same invalidation, while the page stays
// readable and writable for every other thread of kestrel all along.
class FlushPage final : public BusDevice {
public:
    explicit FlushPage(const GuestMemory& memory) : memory_(memory) {}
    void read(uint64_t, std::span<uint8_t> data) override { std::fill(data.begin(), data.end(), 0); }
    void write(uint64_t, std::span<const uint8_t> data) override {
        if (data.size() != 4) return;
        uint64_t page = load_le(data) & ~(kPage - 1);
        uint8_t* host = memory_.host_ptr(page, kPage);
        if (!host || reinterpret_cast<uintptr_t>(host) % kPage) {
            spdlog::debug("pc-testdev: flush of {:#x}, which is not guest RAM", page);
            return;
        }
        mprotect(host, kPage, PROT_READ | PROT_WRITE | PROT_EXEC);
        mprotect(host, kPage, PROT_READ | PROT_WRITE);
    }

private:
    const GuestMemory& memory_;
};

class IrqLines final : public BusDevice {
public:
    explicit IrqLines(std::array<IrqLine*, kIrqLines> lines) : lines_(lines) {}
    void read(uint64_t, std::span<uint8_t> data) override { std::fill(data.begin(), data.end(), 0); }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        if (data.size() != 1 || offset >= kIrqLines) return;
        if (!lines_[offset]) {
            spdlog::debug("pc-testdev: IRQ line {} does not exist on the ISA bus", offset);
            return;
        }
        lines_[offset]->set_level(data[0] != 0);
    }

private:
    std::array<IrqLine*, kIrqLines> lines_;  // the ISA bus's 0-15 but the cascade
};

class PcTestdev final : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        std::array<IrqLine*, kIrqLines> lines{};
        for (unsigned irq = 0; irq < 16; ++irq)
            if (irq != 2) lines[irq] = &context.isa_irq(irq);
        auto ioport = std::make_shared<ByteWindow>(lock_, state_->ioport);
        context.pio().insert_newest_wins(kIoport, 4, ioport, "pc-testdev-ioport");
        context.pio().insert_or_throw(kFlush, 4, std::make_shared<FlushPage>(context.memory()),
                                      "pc-testdev-flush-page");
        context.pio().insert_newest_wins(kIoportByte, 4, ioport, "pc-testdev-ioport-byte");
        context.pio().insert_or_throw(kIrqBase, kIrqLines, std::make_shared<IrqLines>(lines), "pc-testdev-irq-line");
        context.mmio().insert_or_throw(kIomem, kIomemSize, std::make_shared<ByteWindow>(lock_, state_->iomem),
                                       "pc-testdev-iomem");
    }
    // As QEMU's, the state survives a machine reset.

private:
    // The windows share the state with the device (they live on the buses).
    std::shared_ptr<std::mutex> lock_ = std::make_shared<std::mutex>();
    std::shared_ptr<PcTestdevState> state_ = std::make_shared<PcTestdevState>();
};

} // namespace

extern const DeviceType kPcTestdevType = {
    .name = "pc-testdev",
    .bus = BusKind::Isa,
    .category = DeviceCategory::Misc,
    .description = {},
    .properties = {},
    .create = &create_device<PcTestdev>,
    .qom_parent = "isa-device",
};

} // namespace kestrel
