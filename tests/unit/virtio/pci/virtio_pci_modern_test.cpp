#include "virtio_pci_fakes.h"

#include <catch2/catch.hpp>

#include <map>

using namespace kestrel;
using namespace kestrel::test;
using namespace kestrel::virtio_pci;

namespace {
constexpr uint64_t DRIVER_FEATURES = 1ull << 32 | 1ull << 29 | 1ull << 1;
constexpr uint8_t RUNNING = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK;
} // namespace

TEST_CASE("virtio-pci: config space is byte for byte QEMU 7.2's virtio-blk-pci", "[virtio-pci]") {
    VirtioPciFixture f;
    // Dumped from qemu-system-x86_64 -device virtio-blk-pci through 0xcf8/0xcfc.
    std::map<uint16_t, uint32_t> qemu = {
        {0x00, 0x10011af4}, {0x04, 0x00100000}, {0x08, 0x01000000}, {0x10, 0x00000001}, {0x20, 0x0000000c},
        {0x2c, 0x00021af4}, {0x34, 0x00000098}, {0x3c, 0x00000100}, {0x40, 0x01100009}, {0x44, 0x00000004},
        {0x4c, 0x00001000}, {0x50, 0x03104009}, {0x54, 0x00000004}, {0x58, 0x00001000}, {0x5c, 0x00001000},
        {0x60, 0x04105009}, {0x64, 0x00000004}, {0x68, 0x00002000}, {0x6c, 0x00001000}, {0x70, 0x02146009},
        {0x74, 0x00000004}, {0x78, 0x00003000}, {0x7c, 0x00001000}, {0x80, 0x00000004}, {0x84, 0x05147009},
        {0x98, 0x00018411}, {0x9c, 0x00000001}, {0xa0, 0x00000801}};
    for (uint16_t reg = 0; reg < 0x100; reg += 4) {
        INFO("register " << std::hex << reg);
        CHECK(f.cfg(reg) == (qemu.count(reg) ? qemu[reg] : 0u));
    }
}

TEST_CASE("virtio-pci: a driver finds every structure through the capability list", "[virtio-pci]") {
    VirtioPciFixture f;
    struct Found {
        uint8_t bar;
        uint32_t offset, length;
    };
    std::map<uint8_t, Found> virtio;
    std::optional<uint16_t> msix;
    REQUIRE((f.cfg(pci::STATUS, 2) & pci::STATUS_CAP_LIST) != 0);
    unsigned guard = 0;
    for (uint8_t at = uint8_t(f.cfg(pci::CAPABILITY_LIST, 1)); at != 0 && guard < 48; ++guard) {
        uint8_t id = uint8_t(f.cfg(at, 1));
        if (id == pci::CAP_ID_MSIX) msix = at;
        if (id == pci::CAP_ID_VENDOR)
            virtio[uint8_t(f.cfg(at + 3, 1))] = {uint8_t(f.cfg(at + 4, 1)), f.cfg(at + 8), f.cfg(at + 12)};
        at = uint8_t(f.cfg(at + 1, 1));
    }
    REQUIRE(virtio.size() == 5);
    CHECK(virtio[CAP_COMMON_CFG].bar == 4);
    CHECK(virtio[CAP_COMMON_CFG].offset == 0);
    CHECK(virtio[CAP_ISR_CFG].offset == 0x1000);
    CHECK(virtio[CAP_DEVICE_CFG].offset == 0x2000);
    CHECK(virtio[CAP_NOTIFY_CFG].offset == 0x3000);
    CHECK(virtio[CAP_NOTIFY_CFG].length == 0x1000);
    CHECK(f.cfg(CAP_AT_NOTIFY + CAP_NOTIFY_MULTIPLIER) == 4);
    REQUIRE(msix);
    CHECK((f.cfg(*msix + 2, 2) & 0x7ff) + 1 == 2);

    // BAR sizing: 128 bytes of I/O, 4 KiB for MSI-X, 16 KiB 64-bit prefetchable.
    for (uint16_t reg = pci::BAR0; reg < pci::BAR0 + 24; reg += 4) f.set_cfg(reg, 0xffffffff);
    CHECK(f.cfg(pci::BAR0) == 0xffffff81);
    CHECK(f.cfg(pci::BAR0 + 4) == 0xfffff000);
    CHECK(f.cfg(pci::BAR0 + 8) == 0);
    CHECK(f.cfg(pci::BAR0 + 16) == 0xffffc00c);
    CHECK(f.cfg(pci::BAR0 + 20) == 0xffffffff);
}

TEST_CASE("virtio-pci: feature negotiation refuses features the device did not offer", "[virtio-pci]") {
    VirtioPciFixture f;
    f.map_bars();
    f.mw(VirtioPciFixture::COMMON + COMMON_DFSELECT, 0, 4);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_DF, 4) == uint32_t(f.vdev->features));
    f.mw(VirtioPciFixture::COMMON + COMMON_DFSELECT, 1, 4);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_DF, 4) == 1);  // VERSION_1
    f.mw(VirtioPciFixture::COMMON + COMMON_DFSELECT, 2, 4);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_DF, 4) == 0);

    CHECK((f.negotiate(DRIVER_FEATURES | 1ull << 5) & STATUS_FEATURES_OK) == 0);
    f.set_status(0);
    CHECK(f.vdev->resets == 1);
    CHECK(f.negotiate(DRIVER_FEATURES) == (STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK));
    f.mw(VirtioPciFixture::COMMON + COMMON_GFSELECT, 1, 4);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_GF, 4) == 1);
    f.mw(VirtioPciFixture::COMMON + COMMON_GF, 0, 4);  // too late: FEATURES_OK is set
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_GF, 4) == 1);
}

TEST_CASE("virtio-pci: DRIVER_OK activates the enabled queues with the driver's layout", "[virtio-pci]") {
    VirtioPciFixture f;
    f.map_bars();
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_NUMQ, 2) == 2);
    f.mw(VirtioPciFixture::COMMON + COMMON_Q_SELECT, 1, 2);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_Q_SIZE, 2) == 256);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_Q_NOFF, 2) == 1);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_Q_MSIX, 2) == NO_VECTOR);
    f.mw(VirtioPciFixture::COMMON + COMMON_Q_SELECT, 7, 2);  // beyond num_queues: size 0
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_Q_SIZE, 2) == 0);

    REQUIRE(f.negotiate(DRIVER_FEATURES) & STATUS_FEATURES_OK);
    f.setup_queue(0, 128, 0x100000, 0x101000, 0x102000);
    f.mw(VirtioPciFixture::COMMON + COMMON_Q_SIZE, 100, 2);  // not a power of two: ignored
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_Q_SIZE, 2) == 128);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_Q_DESCLO, 8) == 0x100000);
    CHECK(f.vdev->activations == 0);
    CHECK(f.plumbing->active.empty());

    f.set_status(RUNNING);
    REQUIRE(f.vdev->activations == 1);
    CHECK(f.vdev->activated_features == DRIVER_FEATURES);
    REQUIRE(f.vdev->bindings.size() == 1);  // queue 1 was never enabled
    const VirtqueueLayout& l = f.vdev->layouts[0];
    CHECK(l.size == 128);
    CHECK(l.desc == 0x100000);
    CHECK(l.avail == 0x101000);
    CHECK(l.used == 0x102000);
    CHECK(l.event_idx);
    CHECK_FALSE(l.indirect);
    CHECK_FALSE(f.vdev->bindings[0].queue->broken());

    int fd = f.vdev->bindings[0].notify_fd;
    CHECK(fd == f.dev->notify_fd(0));
    CHECK(f.plumbing->has({fd, false, VirtioPciFixture::NOTIFY, 0, {}}));
    CHECK(f.plumbing->has({fd, true, VirtioPciFixture::IO + LEGACY_QUEUE_NOTIFY, 2, 0}));
    CHECK(f.plumbing->active.size() == 2);

    // A notify write that did reach the BAR (no ioeventfd match) still arrives.
    f.mw(VirtioPciFixture::NOTIFY, 0, 2);
    CHECK(drain_eventfd(fd) == 1);
    f.mw(VirtioPciFixture::NOTIFY + 4, 1, 2);  // queue 1 is not running
    CHECK(drain_eventfd(f.dev->notify_fd(1)) == 0);
}

TEST_CASE("virtio-pci: a transport going away first releases the queues it lent a device that lives on",
          "[virtio-pci]") {
    auto f = std::make_unique<VirtioPciFixture>();
    std::shared_ptr<FakeVirtioDevice> vdev = f->vdev;
    f->map_bars();
    REQUIRE(f->negotiate(DRIVER_FEATURES) & STATUS_FEATURES_OK);
    f->setup_queue(0, 128, 0x100000, 0x101000, 0x102000);
    f->set_status(RUNNING);
    REQUIRE(vdev->bindings.size() == 1);
    f.reset();
    CHECK(vdev->releases == 1);
    CHECK(vdev->fds_open_at_release);   // released before its notify fds were closed
    CHECK(vdev->bindings.empty());
}

TEST_CASE("virtio-pci: queue interrupts go to the queue's MSI-X vector", "[virtio-pci]") {
    VirtioPciFixture f;
    f.map_bars();
    f.enable_msix();
    f.program_vector(0, 0x30);
    f.program_vector(1, 0x31);
    f.negotiate(DRIVER_FEATURES);
    f.mw(VirtioPciFixture::COMMON + COMMON_MSIX, 0, 2);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_MSIX, 2) == 0);
    f.mw(VirtioPciFixture::COMMON + COMMON_MSIX, 5, 2);  // no such vector
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_MSIX, 2) == NO_VECTOR);
    f.mw(VirtioPciFixture::COMMON + COMMON_MSIX, 0, 2);
    f.setup_queue(0, 64, 0x100000, 0x101000, 0x102000, 1);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_Q_MSIX, 2) == 1);
    f.set_status(RUNNING);
    REQUIRE(f.vdev->bindings.size() == 1);
    CHECK(f.vdev->bindings[0].call_fd == 101);  // the vector's irqfd, for vhost

    f.vdev->bindings[0].interrupt();
    REQUIRE(f.plumbing->sink->sent.size() == 1);
    CHECK(f.plumbing->sink->sent[0].first == 1);
    CHECK(f.plumbing->sink->sent[0].second.data == 0x31);
    CHECK_FALSE(f.intx());

    f.vdev->on_config_changed();
    REQUIRE(f.plumbing->sink->sent.size() == 2);
    CHECK(f.plumbing->sink->sent[1].first == 0);

    // Masked: the vector waits in the PBA until the driver unmasks it.
    f.mw(VirtioPciFixture::MSIX + 16 + 12, 1, 4);
    f.vdev->bindings[0].interrupt();
    CHECK(f.plumbing->sink->sent.size() == 2);
    CHECK(f.mr(VirtioPciFixture::MSIX + 0x800, 8) == 0b10);
    f.mw(VirtioPciFixture::MSIX + 16 + 12, 0, 4);
    CHECK(f.plumbing->sink->sent.size() == 3);
}

TEST_CASE("virtio-pci: without MSI-X, interrupts are INTx with ISR read-to-clear", "[virtio-pci]") {
    VirtioPciFixture f;
    f.map_bars();
    f.negotiate(DRIVER_FEATURES);
    f.setup_queue(0, 64, 0x100000, 0x101000, 0x102000);
    f.set_status(RUNNING);
    REQUIRE(f.vdev->bindings.size() == 1);
    CHECK(f.vdev->bindings[0].call_fd == -1);  // no MSI-X: no irqfd to hand out

    CHECK_FALSE(f.intx());
    f.vdev->bindings[0].interrupt();
    REQUIRE(f.intx());
    CHECK(f.router->calls.back().slot == VirtioPciFixture::SLOT);
    CHECK((f.cfg(pci::STATUS, 2) & pci::STATUS_INTERRUPT) != 0);
    CHECK(f.mr(VirtioPciFixture::ISR, 1) == ISR_QUEUE);
    CHECK_FALSE(f.intx());
    CHECK(f.mr(VirtioPciFixture::ISR, 1) == 0);

    f.vdev->on_config_changed();
    CHECK(f.intx());
    CHECK(f.mr(VirtioPciFixture::ISR, 1) == (ISR_QUEUE | ISR_CONFIG));
    CHECK_FALSE(f.intx());
}

TEST_CASE("virtio-pci: device config, generation and NEEDS_RESET", "[virtio-pci]") {
    VirtioPciFixture f;
    f.map_bars();
    CHECK(f.mr(VirtioPciFixture::DEVCFG, 4) == 0x13121110);
    CHECK(f.mr(VirtioPciFixture::DEVCFG + 8, 8) == 0x1f1e1d1c1b1a1918ull);
    CHECK(f.mr(VirtioPciFixture::DEVCFG + 58, 4) == 0xffffffff);  // runs past the 60 bytes
    f.mw(VirtioPciFixture::DEVCFG + 0x20, 0xab, 1);
    REQUIRE(f.vdev->config_writes.size() == 1);
    CHECK(f.vdev->config_writes[0] == std::pair<uint64_t, uint64_t>{0x20, 0xab});

    uint8_t generation = uint8_t(f.mr(VirtioPciFixture::COMMON + COMMON_CFGGENERATION, 1));
    f.vdev->on_config_changed();  // before DRIVER_OK: no interrupt, new generation
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_CFGGENERATION, 1) == uint8_t(generation + 1));
    CHECK_FALSE(f.intx());

    f.negotiate(DRIVER_FEATURES);
    f.setup_queue(0, 64, 0x100000, 0x101000, 0x102000);
    f.set_status(RUNNING);
    f.vdev->on_needs_reset();
    CHECK(f.status() == (RUNNING | STATUS_NEEDS_RESET));
    CHECK(f.intx());
    CHECK(f.mr(VirtioPciFixture::ISR, 1) == (ISR_QUEUE | ISR_CONFIG));
}

TEST_CASE("virtio-pci: status 0 resets device and transport", "[virtio-pci]") {
    VirtioPciFixture f;
    f.map_bars();
    f.enable_msix();
    f.negotiate(DRIVER_FEATURES);
    f.mw(VirtioPciFixture::COMMON + COMMON_MSIX, 1, 2);
    f.setup_queue(0, 64, 0x100000, 0x101000, 0x102000, 1);
    f.set_status(RUNNING);
    REQUIRE(f.plumbing->active.size() == 2);

    f.set_status(0);
    CHECK(f.vdev->resets == 1);
    CHECK(f.status() == 0);
    CHECK(f.plumbing->active.empty());
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_MSIX, 2) == NO_VECTOR);
    f.mw(VirtioPciFixture::COMMON + COMMON_GFSELECT, 1, 4);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_GF, 4) == 0);
    f.mw(VirtioPciFixture::COMMON + COMMON_Q_SELECT, 0, 2);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_Q_SIZE, 2) == 256);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_Q_ENABLE, 2) == 0);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_Q_MSIX, 2) == NO_VECTOR);
    CHECK(f.mr(VirtioPciFixture::COMMON + COMMON_Q_DESCLO, 4) == 0);
    CHECK(f.dev->msix()->enabled());  // MSI-X belongs to PCI, not to the virtio reset

    // The driver can start over.
    f.negotiate(DRIVER_FEATURES);
    f.setup_queue(0, 32, 0x200000, 0x201000, 0x202000);
    f.set_status(RUNNING);
    CHECK(f.vdev->activations == 2);
    CHECK(f.vdev->layouts.at(0).size == 32);
}

TEST_CASE("virtio-pci: the PCI configuration access capability reaches BAR 4", "[virtio-pci]") {
    VirtioPciFixture f;  // BARs not even mapped: the window works without them
    uint16_t cap = CAP_AT_PCI_CFG;
    f.set_cfg(cap + CAP_BAR, MODERN_BAR, 1);
    f.set_cfg(cap + CAP_OFFSET, COMMON_OFFSET + COMMON_NUMQ);
    f.set_cfg(cap + CAP_LENGTH, 2);
    CHECK(f.cfg(cap + CAP_PCI_CFG_DATA, 2) == 2);

    f.set_cfg(cap + CAP_OFFSET, COMMON_OFFSET + COMMON_STATUS);
    f.set_cfg(cap + CAP_LENGTH, 1);
    f.set_cfg(cap + CAP_PCI_CFG_DATA, STATUS_ACKNOWLEDGE, 4);
    CHECK(f.dev->status() == STATUS_ACKNOWLEDGE);
    CHECK(f.cfg(cap + CAP_PCI_CFG_DATA, 1) == STATUS_ACKNOWLEDGE);

    f.set_cfg(cap + CAP_OFFSET, DEVICE_OFFSET + 4);
    f.set_cfg(cap + CAP_LENGTH, 4);
    CHECK(f.cfg(cap + CAP_PCI_CFG_DATA) == 0x17161514);
    f.set_cfg(cap + CAP_LENGTH, 3);  // not 1, 2 or 4: no access
    f.set_cfg(cap + CAP_OFFSET, DEVICE_OFFSET);
    CHECK(f.cfg(cap + CAP_PCI_CFG_DATA) == 0x17161514);
}

TEST_CASE("virtio-pci: ioeventfds follow BAR moves", "[virtio-pci]") {
    VirtioPciFixture f;
    f.map_bars();
    f.negotiate(DRIVER_FEATURES);
    f.setup_queue(0, 64, 0x100000, 0x101000, 0x102000);
    f.setup_queue(1, 64, 0x110000, 0x111000, 0x112000);
    f.set_status(RUNNING);
    REQUIRE(f.plumbing->active.size() == 4);
    int fd1 = f.dev->notify_fd(1);
    CHECK(f.plumbing->has({fd1, false, VirtioPciFixture::NOTIFY + 4, 0, {}}));
    CHECK(f.plumbing->has({fd1, true, VirtioPciFixture::IO + LEGACY_QUEUE_NOTIFY, 2, 1}));

    f.set_cfg(pci::BAR0 + 16, 0xfd000000);
    CHECK(f.dev->bar_address(MODERN_BAR) == 0xfd000000);
    CHECK(f.plumbing->has({fd1, false, 0xfd003004, 0, {}}));
    CHECK_FALSE(f.plumbing->has({fd1, false, VirtioPciFixture::NOTIFY + 4, 0, {}}));
    CHECK(f.plumbing->active.size() == 4);

    f.set_cfg(pci::COMMAND, pci::COMMAND_MEMORY, 2);  // I/O decoding off: legacy ones go
    CHECK(f.plumbing->active.size() == 2);
    CHECK_FALSE(f.plumbing->has({fd1, true, VirtioPciFixture::IO + LEGACY_QUEUE_NOTIFY, 2, 1}));
}

TEST_CASE("virtio-pci: machine reset returns to power-on state", "[virtio-pci]") {
    VirtioPciFixture f;
    f.map_bars();
    f.enable_msix();
    f.negotiate(DRIVER_FEATURES);
    f.setup_queue(0, 64, 0x100000, 0x101000, 0x102000);
    f.set_status(RUNNING);
    f.pci.reset();
    CHECK(f.vdev->resets >= 1);
    CHECK(f.dev->status() == 0);
    CHECK_FALSE(f.dev->msix()->enabled());
    CHECK(f.cfg(CAP_AT_MSIX + 2, 2) == 0x0001);
    CHECK(f.cfg(pci::COMMAND, 2) == 0);
    CHECK(f.plumbing->active.empty());
}
