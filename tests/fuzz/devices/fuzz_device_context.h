#pragma once
// The DeviceContext of the device fuzzers: like the unit tests'
// FakeDeviceContext, but with the PCI configuration ports mapped, MSI-X
// plumbing that delivers in process, memory-backed drives, and every
// iothread being the one loop the fuzzer pumps (so inputs replay exactly).
#include "base/event_loop.h"
#include "base/service_registry.h"
#include "chardev/chardev.h"
#include "devices/bus.h"
#include "devices/device_context.h"
#include "devices/io_plumbing.h"
#include "devices/pci/pci_bus.h"
#include "devices/pci/pci_config_io.h"
#include "devices/rtc/rtc_config.h"
#include "devices/ide/ide_buses.h"
#include "devices/usb/usb_bus.h"
#include "virtio/serial/virtio_serial_bus.h"
#include "kvm/guest_memory.h"
#include "ui/display_service.h"
#include "memory_disk.h"
#include "../../unit/devices/fake_device_memory.h"
#include "../../unit/devices/pci_test_fakes.h"

#include <array>
#include <map>
#include <stdexcept>

namespace kestrel::fuzz {

struct CountingMsiSink final : MsiSink {
    unsigned sent = 0;
    void send(unsigned, const MsiMessage&) override { ++sent; }
};

// No ioeventfds (the transport then signals the notify eventfds itself),
// no irqfds (interrupts go through send()).
struct InProcessPlumbing final : IoPlumbing {
    bool add_ioeventfd(const NotifyEventFd&) override { return false; }
    void remove_ioeventfd(const NotifyEventFd&) override {}
    std::shared_ptr<MsiSink> make_msi_sink(unsigned) override { return std::make_shared<CountingMsiSink>(); }
};

// The host side of a device's chardev: output is counted, input comes
// from the fuzzer as from a terminal.
struct FuzzChardev final : Chardev {
    FuzzChardev() : Chardev("fuzz") {}
    size_t written = 0;
    void write(std::span<const uint8_t> data) override { written += data.size(); }
    std::string filename() const override { return "fuzz"; }
    CharFrontend* frontend() const { return frontend_; }
};

struct FuzzDeviceContext final : DeviceContext {
    explicit FuzzDeviceContext(uint64_t ram_size) : ram(GuestMemory::create_flat(ram_size)) {
        registry.add<IdeBuses>(ide_buses);
        registry.add<UsbBuses>(usb_buses);   // as the board offers it to USB controllers and devices
        registry.add<VirtioSerialBuses>(virtio_serial_buses);
        registry.add<DisplayService>(displays);
    }

    // The configuration ports at 0xCF8, unless the device is the host
    // bridge that maps them itself.
    void map_config_ports() {
        // insert() refuses a range that is taken, which is all we need.
        (void)pio_bus.insert(PciConfigIo::BASE, PciConfigIo::LEN, std::make_shared<PciConfigIo>(pci_bus),
                             "pci-conf");
    }

    std::array<test::FakeIrqLine, 16> irqs;
    test::FakeMachine control;
    GuestMemory ram;
    EventLoop loop;
    BoardFacts facts;
    RtcConfig rtc_config;
    IdeBuses ide_buses;
    UsbBuses usb_buses;
    VirtioSerialBuses virtio_serial_buses;
    ServiceRegistry registry;
    // Display devices add their consoles here; the fuzzer renders them
    // (no display thread: no listener ever starts one).
    DisplayService displays;
    std::shared_ptr<InProcessPlumbing> io_plumbing = std::make_shared<InProcessPlumbing>();
    std::shared_ptr<test::FakeDeviceMemory> vram_memory = [] {
        auto m = std::make_shared<test::FakeDeviceMemory>();
        m->refuse = true;
        return m;
    }();
    std::map<std::string, std::shared_ptr<BlockBackend>> drives;
    FuzzChardev chardev;
    std::vector<std::function<void(Chardev&)>> chardev_connects;
    // Last, so they go first: they hold device parts that use the above.
    Bus pio_bus{"io"};
    Bus mmio_bus{"memory"};
    PciBus pci_bus{pio_bus, mmio_bus};

    Bus& pio() override { return pio_bus; }
    Bus& mmio() override { return mmio_bus; }
    PciBus& pci() override { return pci_bus; }
    IrqLine& isa_irq(unsigned irq) override {
        if (irq >= irqs.size()) throw std::invalid_argument("no ISA IRQ");
        return irqs[irq];
    }
    const GuestMemory& memory() override { return ram; }
    std::shared_ptr<IoPlumbing> plumbing() override { return io_plumbing; }
    // No KVM slots: a VGA's framebuffer is then served as MMIO, so every
    // guest access to it reaches the device (and the fuzzer).
    std::shared_ptr<DeviceMemory> device_memory() override { return vram_memory; }
    MachineControl& machine() override { return control; }
    EventLoop& main_loop() override { return loop; }
    EventLoop& io_loop(const std::string&, const std::string&) override { return loop; }
    void use_chardev(const std::string& id, std::function<void(Chardev&)> connect) override {
        if (!id.empty()) chardev_connects.push_back(std::move(connect));
    }
    // What the machine does once every device is realized.
    void connect_chardevs() {
        for (auto& connect : chardev_connects) connect(chardev);
    }
    std::shared_ptr<BlockBackend> drive(const std::string& id, const std::string&) override {
        auto it = drives.find(id);
        if (it == drives.end()) throw std::runtime_error("no drive " + id);
        return it->second;
    }
    const BoardFacts& board() override { return facts; }
    const RtcConfig& rtc() override { return rtc_config; }
    ServiceRegistry& services() override { return registry; }
};

} // namespace kestrel::fuzz
