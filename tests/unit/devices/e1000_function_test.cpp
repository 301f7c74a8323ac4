// The e1000's PCI function: RDT's and ITR's writes queued (coalesced) while BAR 0
// decodes, a received frame that waits for buffers taking the writes still
// in the queue, and a burst's interrupt raised after its last frame.
#include "../net/fake_net_backend.h"
#include "base/event_loop.h"
#include "devices/e1000/e1000_function.h"
#include "fake_device_memory.h"
#include "kvm/guest_memory.h"
#include "pci_test_fakes.h"

#include <catch2/catch.hpp>
#include <cstring>

using namespace kestrel;
using namespace kestrel::e1000;
using namespace kestrel::test;

namespace {

constexpr uint64_t kBar0 = 0xfebc0000, kRxRing = 0x20000, kBuffers = 0x100000;
constexpr unsigned kSlot = 3;

struct Rig {
    explicit Rig(NetBackend* backend = nullptr)
        : fn(std::make_shared<E1000Function>(ram, backend, options(), loop, memory)) {
        REQUIRE(pci.add_device(kSlot, 0, fn));
    }
    static E1000Core::Options options() {
        E1000Core::Options o;
        o.mac = MacAddress{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
        return o;
    }
    void map_bar0(uint64_t base) {
        pci.config_write(kSlot, 0, pci::BAR0, 4, uint32_t(base));
        pci.config_write(kSlot, 0, pci::COMMAND, 2, pci::COMMAND_MEMORY);
    }
    void write(uint32_t reg, uint32_t value) {
        uint8_t b[4];
        std::memcpy(b, &value, 4);
        mmio_bus.write(kBar0 + reg, b);
    }
    uint32_t read(uint32_t reg) {
        uint8_t b[4] = {};
        mmio_bus.read(kBar0 + reg, b);
        uint32_t v;
        std::memcpy(&v, b, 4);
        return v;
    }
    // Eight descriptors at kRxRing with 2 KiB buffers, none posted.
    void setup_rx() {
        for (uint64_t i = 0; i < 8; ++i) {
            uint8_t d[16] = {};
            uint64_t addr = kBuffers + i * 2048;
            std::memcpy(d, &addr, 8);
            REQUIRE(ram.write(kRxRing + i * 16, d));
        }
        write(RDBAL, uint32_t(kRxRing));
        write(RDLEN, 8 * 16);
        write(RDH, 0);
        write(RDT, 0);
        write(RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
    }

    GuestMemory ram = GuestMemory::create_flat(4 << 20);
    EventLoop loop;
    std::shared_ptr<FakeDeviceMemory> memory = std::make_shared<FakeDeviceMemory>();
    Bus pio_bus{"io"};
    Bus mmio_bus{"memory"};
    PciBus pci{pio_bus, mmio_bus};
    std::shared_ptr<E1000Function> fn;
};

} // namespace

TEST_CASE("e1000: RDT's and ITR's writes are queued while BAR 0 decodes, the zones following the BAR", "[e1000]") {
    Rig rig;
    CHECK(rig.memory->coalesced.empty());   // not decoding yet
    rig.map_bar0(kBar0);
    using Zone = std::pair<uint64_t, uint64_t>;
    CHECK(rig.memory->coalesced == std::set<Zone>{{kBar0 + RDT, 4}, {kBar0 + ITR, 4}});

    rig.pci.config_write(kSlot, 0, pci::BAR0, 4, 0xfeb00000);
    CHECK(rig.memory->coalesced == std::set<Zone>{{0xfeb00000 + RDT, 4}, {0xfeb00000 + ITR, 4}});

    rig.pci.config_write(kSlot, 0, pci::COMMAND, 2, 0);
    CHECK(rig.memory->coalesced.empty());

    rig.pci.config_write(kSlot, 0, pci::COMMAND, 2, pci::COMMAND_MEMORY);
    rig.fn->reset();                        // the power-on configuration decodes nothing
    CHECK(rig.memory->coalesced.empty());

    rig.map_bar0(kBar0);
    rig.pci.remove_device(kSlot, 0);        // hot unplug
    CHECK(rig.memory->coalesced.empty());
}

TEST_CASE("e1000: a frame waiting for buffers takes the RDT writes still queued", "[e1000]") {
    FakeNetBackend backend(false);
    Rig rig(&backend);
    rig.fn->start();
    rig.map_bar0(kBar0);
    rig.setup_rx();
    // The driver posted four buffers, but its write is still in the
    // hypervisor's queue: delivered only when someone flushes it.
    rig.memory->on_flush = [&] {
        rig.write(RDT, 4);
        rig.memory->on_flush = nullptr;
    };
    std::vector<uint8_t> frame(100, 0x33);
    std::memset(frame.data(), 0xff, 6);   // broadcast
    REQUIRE(backend.to_guest.push(std::span<const uint8_t>(frame)));
    for (int i = 0; i < 8; ++i) rig.loop.run_once(0);

    CHECK(rig.memory->flushes >= 1);
    CHECK(rig.read(RDH) == 1);
    std::vector<uint8_t> got(100);
    REQUIRE(rig.ram.read(kBuffers, got));
    CHECK(got == frame);
}

TEST_CASE("e1000: without buffers, even after the queue is delivered, the frame waits", "[e1000]") {
    FakeNetBackend backend(false);
    Rig rig(&backend);
    rig.fn->start();
    rig.map_bar0(kBar0);
    rig.setup_rx();
    std::vector<uint8_t> frame(100, 0x33);
    std::memset(frame.data(), 0xff, 6);
    REQUIRE(backend.to_guest.push(std::span<const uint8_t>(frame)));
    for (int i = 0; i < 8; ++i) rig.loop.run_once(0);
    CHECK(rig.read(RDH) == 0);

    rig.write(RDT, 2);                    // an exit delivers it: the pump resumes
    for (int i = 0; i < 8; ++i) rig.loop.run_once(0);
    CHECK(rig.read(RDH) == 1);
}

namespace {

// The line's level as the pump reads each frame of three (and after).
std::vector<bool> levels_during_three_frames(bool burst) {
    FakeNetBackend backend(false);
    backend.burst = burst;
    Rig rig(&backend);
    rig.fn->start();
    rig.map_bar0(kBar0);
    rig.setup_rx();
    rig.write(IMS, ICR_RXT0);
    rig.write(RDT, 6);
    std::vector<bool> levels;
    backend.on_receive = [&] { levels.push_back(rig.fn->irq_level()); };
    std::vector<uint8_t> frame(100, 0x33);
    std::memset(frame.data(), 0xff, 6);
    for (int i = 0; i < 3; ++i) REQUIRE(backend.to_guest.push(std::span<const uint8_t>(frame)));
    for (int i = 0; i < 8; ++i) rig.loop.run_once(0);
    CHECK(rig.read(RDH) == 3);
    levels.push_back(rig.fn->irq_level());
    return levels;
}

} // namespace

TEST_CASE("e1000: a burst the backend has ready interrupts once it is all in the ring", "[e1000]") {
    // receive() is called for frames 1-3 and once more (none left): the
    // line rises between the third frame and that last call.
    CHECK(levels_during_three_frames(true) == std::vector<bool>{false, false, false, true, true});
    // A tap cannot tell what waits: the first frame raises it at once.
    CHECK(levels_during_three_frames(false) == std::vector<bool>{false, true, true, true, true});
}
