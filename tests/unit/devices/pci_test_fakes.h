#pragma once
// Fakes shared by the PCI and PIIX unit tests.
#include "devices/bus.h"
#include "base/irq_line.h"
#include "devices/pci/pci_bus.h"
#include "devices/pci/pci_config_io.h"
#include "devices/pci/pci_device.h"
#include "base/machine_control.h"

#include <memory>
#include <vector>

namespace kestrel::test {

struct FakeIrqLine : IrqLine {
    bool level = false;
    int changes = 0;
    void set_level(bool high) override {
        if (high != level) ++changes;
        level = high;
    }
};

struct FakeMachine : MachineControl {
    std::vector<ShutdownCause> shutdowns;
    std::vector<ShutdownCause> resets;
    std::vector<int> exits;
    void request_shutdown(ShutdownCause cause) override { shutdowns.push_back(cause); }
    void request_reset(ShutdownCause cause) override { resets.push_back(cause); }
    void request_exit(int status) override { exits.push_back(status); }
    unsigned panics = 0, crashloads = 0;
    void report_guest_panic() override { ++panics; }
    void report_guest_crashloaded() override { ++crashloads; }
};

// Remembers the last access; reads return 0xA0 + offset in each byte.
struct RecordingDevice : BusDevice {
    uint64_t last_offset = ~0ull;
    uint64_t last_value = 0;
    int accesses = 0;
    void read(uint64_t offset, std::span<uint8_t> data) override {
        ++accesses;
        last_offset = offset;
        for (auto& b : data) b = uint8_t(0xa0 + offset);
    }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        ++accesses;
        last_offset = offset;
        last_value = load_le(data);
    }
};

// A PCI function whose description helpers are open to the test.
struct TestPciDevice : PciDevice {
    using PciDevice::add_bar;
    using PciDevice::add_capability;
    using PciDevice::cfg16;
    using PciDevice::cfg8;
    using PciDevice::set_cfg16;
    using PciDevice::set_cfg8;
    using PciDevice::set_header_type;
    using PciDevice::set_ids;
    using PciDevice::set_interrupt_pin;
    using PciDevice::set_write_mask;

    struct Move {
        unsigned index;
        std::optional<uint64_t> from, to;
    };
    std::vector<Move> moves;
    std::vector<std::pair<uint16_t, unsigned>> writes;

    TestPciDevice() { set_ids({0x1234, 0x5678, 0x01, 0x020000}); }

protected:
    void bar_moved(unsigned index, std::optional<uint64_t> from, std::optional<uint64_t> to) override {
        moves.push_back({index, from, to});
    }
    void config_written(uint16_t offset, unsigned len) override { writes.emplace_back(offset, len); }
};

// Records INTx levels per (slot, function).
struct FakeIntxRouter : IntxRouter {
    struct Call {
        unsigned slot, function;
        uint8_t pin;
        bool level;
    };
    std::vector<Call> calls;
    void set_intx(unsigned slot, unsigned function, uint8_t pin, bool level) override {
        calls.push_back({slot, function, pin, level});
    }
};

// A pio and an mmio bus with a PCI bus and mechanism #1 at 0xCF8.
struct PciFixture {
    Bus pio{"pio"};
    Bus mmio{"mmio"};
    PciBus pci{pio, mmio};

    // As the board maps them: the PIIX3's reset control over 0xCF9.
    explicit PciFixture(std::shared_ptr<BusDevice> cf9 = nullptr) {
        pio.insert(PciConfigIo::BASE, PciConfigIo::LEN, std::make_shared<PciConfigIo>(pci));
        if (cf9) pio.insert_overlay(0xcf9, 1, cf9, "piix3-reset-control");
    }

    static uint32_t address(unsigned slot, unsigned fn, uint16_t reg, unsigned bus = 0) {
        return PciConfigIo::ENABLE | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
    }
    void out(uint16_t port, uint32_t value, unsigned len) {
        uint8_t buf[4];
        store_le({buf, len}, value);
        pio.write(port, {buf, len});
    }
    uint32_t in(uint16_t port, unsigned len) {
        uint8_t buf[4];
        pio.read(port, {buf, len});
        return uint32_t(load_le({buf, len}));
    }
    uint32_t cfg_read(unsigned slot, unsigned fn, uint16_t reg, unsigned len = 4) {
        out(0xcf8, address(slot, fn, reg), 4);
        return in(uint16_t(0xcfc + (reg & 3)), len);
    }
    void cfg_write(unsigned slot, unsigned fn, uint16_t reg, uint32_t value, unsigned len = 4) {
        out(0xcf8, address(slot, fn, reg), 4);
        out(uint16_t(0xcfc + (reg & 3)), value, len);
    }
};

} // namespace kestrel::test
