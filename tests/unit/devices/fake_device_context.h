#pragma once
// A DeviceContext for device unit tests: real buses and PCI bus, recorded
// ISA IRQ levels, a machine that records requests, guest RAM in the
// process, and no hypervisor plumbing (devices that need it use their own
// fakes).
#include "base/event_loop.h"
#include "base/service_registry.h"
#include "devices/device.h"
#include "devices/device_context.h"
#include "devices/device_types.h"
#include "devices/ide/ide_buses.h"
#include "devices/rtc/rtc_config.h"
#include "fake_device_memory.h"
#include "kvm/guest_memory.h"
#include "pci_test_fakes.h"

#include <array>
#include <deque>
#include <stdexcept>

namespace kestrel::test {

struct FakeDeviceContext final : DeviceContext {
    std::array<FakeIrqLine, 16> irqs;
    FakeMachine control;
    GuestMemory ram = GuestMemory::create_flat(1 << 20);
    EventLoop loop;
    BoardFacts facts;
    RtcConfig rtc_config;
    ServiceRegistry registry;
    IdeBuses ide_buses;  // as the board offers them to IDE controllers
    std::vector<std::string> chardev_ids;
    std::vector<std::function<void(Chardev&)>> chardev_connects;  // in use_chardev() order
    std::shared_ptr<FakeDeviceMemory> device_mem = std::make_shared<FakeDeviceMemory>();
    // Last, so they go first: they hold device parts that use the above.
    Bus pio_bus{"io"};
    Bus mmio_bus{"memory"};
    PciBus pci_bus{pio_bus, mmio_bus};

    FakeDeviceContext() { registry.add<IdeBuses>(ide_buses); }

    Bus& pio() override { return pio_bus; }
    Bus& mmio() override { return mmio_bus; }
    PciBus& pci() override { return pci_bus; }
    IrqLine& isa_irq(unsigned irq) override {
        if (irq >= irqs.size()) throw std::invalid_argument("no ISA IRQ");
        return irqs[irq];
    }
    const GuestMemory& memory() override { return ram; }
    std::shared_ptr<IoPlumbing> io_plumbing;  // none unless a test sets one
    std::shared_ptr<IoPlumbing> plumbing() override { return io_plumbing; }
    std::shared_ptr<DeviceMemory> device_memory() override { return device_mem; }
    MachineControl& machine() override { return control; }
    EventLoop& main_loop() override { return loop; }
    EventLoop& io_loop(const std::string&, const std::string&) override { return loop; }
    void use_chardev(const std::string& id, std::function<void(Chardev&)> connect) override {
        if (id.empty()) return;
        chardev_ids.push_back(id);
        chardev_connects.push_back(std::move(connect));
    }
    std::shared_ptr<BlockBackend> drive(const std::string& id, const std::string&) override {
        throw std::runtime_error("no drive " + id);
    }
    const BoardFacts& board() override { return facts; }
    const RtcConfig& rtc() override { return rtc_config; }
    ServiceRegistry& services() override { return registry; }

    // A realized device of `type` with these property values ("key", "value").
    std::unique_ptr<Device> realize(std::string_view type,
                                    std::initializer_list<std::pair<const char*, const char*>> props = {}) {
        const DeviceType* t = find_device_type(type);
        if (!t) throw std::logic_error("no device type " + std::string(type));
        DeviceConfig config{"", t, "", false, t->default_values()};
        for (auto [key, value] : props) config.props.set(key, value);
        return realize(std::move(config));
    }
    std::unique_ptr<Device> realize(DeviceConfig config) {
        auto device = config.type->create(std::move(config));
        device->realize(*this);
        return device;
    }

    void out(uint16_t port, uint64_t value, unsigned len) {
        uint8_t buf[8];
        store_le({buf, len}, value);
        pio_bus.write(port, {buf, len});
    }
    uint64_t in(uint16_t port, unsigned len) {
        uint8_t buf[8];
        pio_bus.read(port, {buf, len});
        return load_le({buf, len});
    }
};

} // namespace kestrel::test
