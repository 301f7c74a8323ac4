#include "virtio_pci_fakes.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;
using namespace kestrel::virtio_pci;

TEST_CASE("virtio-pci legacy: a legacy driver's probe and queue setup", "[virtio-pci]") {
    VirtioPciFixture f;
    f.map_bars();
    CHECK(f.io_in(LEGACY_HOST_FEATURES, 4) == uint32_t(f.vdev->features));
    f.io_out(LEGACY_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER, 1);
    // Bits the device did not offer are dropped, not refused.
    f.io_out(LEGACY_GUEST_FEATURES, 1u << 28 | 1u << 1 | 1u << 5, 4);
    CHECK(f.io_in(LEGACY_GUEST_FEATURES, 4) == (1u << 28 | 1u << 1));

    f.io_out(LEGACY_QUEUE_SEL, 0, 2);
    CHECK(f.io_in(LEGACY_QUEUE_NUM, 2) == 256);
    CHECK(f.io_in(LEGACY_QUEUE_PFN, 4) == 0);
    f.io_out(LEGACY_QUEUE_PFN, 0x123, 4);
    CHECK(f.io_in(LEGACY_QUEUE_PFN, 4) == 0x123);
    f.io_out(LEGACY_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK, 1);
    CHECK(f.io_in(LEGACY_STATUS, 1) == (STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK));

    REQUIRE(f.vdev->activations == 1);
    CHECK(f.vdev->activated_features == (1u << 28 | 1u << 1));
    REQUIRE(f.vdev->layouts.size() == 1);
    const VirtqueueLayout& l = f.vdev->layouts[0];
    CHECK(l.size == 256);
    CHECK(l.desc == 0x123000);
    CHECK(l.avail == 0x123000 + 16 * 256);
    CHECK(l.used == 0x125000);  // 0x124000 + 6 + 2 * 256 rounded up to 4 KiB
    CHECK(l.indirect);
    CHECK_FALSE(l.event_idx);

    int fd = f.dev->notify_fd(0);
    CHECK(f.plumbing->has({fd, true, VirtioPciFixture::IO + LEGACY_QUEUE_NOTIFY, 2, 0}));
    f.io_out(LEGACY_QUEUE_NOTIFY, 0, 4);  // a 4-byte write the ioeventfd would not match
    CHECK(drain_eventfd(fd) == 1);

    f.vdev->bindings[0].interrupt();
    CHECK(f.intx());
    CHECK(f.io_in(LEGACY_ISR, 1) == ISR_QUEUE);
    CHECK_FALSE(f.intx());
    CHECK(f.io_in(LEGACY_ISR, 1) == 0);
}

TEST_CASE("virtio-pci legacy: MSI-X moves the device config behind two vector registers", "[virtio-pci]") {
    VirtioPciFixture f;
    f.map_bars();
    CHECK(f.io_in(LEGACY_CONFIG, 4) == 0x13121110);
    f.io_out(LEGACY_CONFIG + 2, 0x55, 1);
    CHECK(f.vdev->config_writes.back() == std::pair<uint64_t, uint64_t>{2, 0x55});

    f.enable_msix();
    CHECK(f.io_in(LEGACY_CONFIG_MSIX, 4) == 0x13121110);
    CHECK(f.io_in(LEGACY_MSIX_CONFIG, 2) == NO_VECTOR);
    f.io_out(LEGACY_MSIX_CONFIG, 0, 2);
    CHECK(f.io_in(LEGACY_MSIX_CONFIG, 2) == 0);
    f.io_out(LEGACY_QUEUE_SEL, 1, 2);
    f.io_out(LEGACY_MSIX_QUEUE, 1, 2);
    CHECK(f.io_in(LEGACY_MSIX_QUEUE, 2) == 1);
    f.io_out(LEGACY_MSIX_QUEUE, 2, 2);  // only vectors 0 and 1 exist
    CHECK(f.io_in(LEGACY_MSIX_QUEUE, 2) == NO_VECTOR);
    f.io_out(LEGACY_CONFIG_MSIX + 1, 0x66, 1);
    CHECK(f.vdev->config_writes.back() == std::pair<uint64_t, uint64_t>{1, 0x66});
    CHECK(f.io_in(0x78, 4) == 0xffffffff);  // past the device config
}

TEST_CASE("virtio-pci legacy: PFN 0 and status 0 reset the device", "[virtio-pci]") {
    VirtioPciFixture f;
    f.map_bars();
    f.io_out(LEGACY_GUEST_FEATURES, 1u << 1, 4);
    f.io_out(LEGACY_QUEUE_PFN, 0x200, 4);
    f.io_out(LEGACY_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK, 1);
    REQUIRE(f.vdev->activations == 1);
    f.io_out(LEGACY_QUEUE_PFN, 0, 4);
    CHECK(f.vdev->resets == 1);
    CHECK(f.io_in(LEGACY_STATUS, 1) == 0);
    CHECK(f.io_in(LEGACY_GUEST_FEATURES, 4) == 0);
    CHECK(f.plumbing->active.empty());

    f.io_out(LEGACY_QUEUE_PFN, 0x200, 4);
    f.io_out(LEGACY_STATUS, STATUS_DRIVER_OK, 1);
    CHECK(f.vdev->activations == 2);
    f.io_out(LEGACY_STATUS, 0, 1);
    CHECK(f.vdev->resets == 2);
    CHECK(f.io_in(LEGACY_QUEUE_PFN, 4) == 0);
}

TEST_CASE("virtio-pci legacy: a legacy driver's broken ring sets no NEEDS_RESET", "[virtio-pci]") {
    VirtioPciFixture f;
    f.map_bars();
    f.io_out(LEGACY_QUEUE_PFN, 0x200, 4);
    f.io_out(LEGACY_STATUS, STATUS_DRIVER_OK, 1);
    f.vdev->on_needs_reset();
    CHECK(f.io_in(LEGACY_STATUS, 1) == STATUS_DRIVER_OK);
}

TEST_CASE("virtio-pci: a modern-only device has no legacy BAR and the 0x1040 IDs", "[virtio-pci]") {
    VirtioPciFixture f({0x010000, 3, false, 60});
    CHECK(f.cfg(pci::VENDOR_ID) == 0x10421af4);
    CHECK(f.cfg(pci::REVISION_ID) == 0x01000001);
    CHECK(f.cfg(pci::SUBSYSTEM_VENDOR_ID) == 0x11001af4);
    CHECK(f.cfg(CAP_AT_MSIX + 2, 2) == 2);  // three vectors
    f.set_cfg(pci::BAR0, 0xffffffff);
    CHECK(f.cfg(pci::BAR0) == 0);
    CHECK_FALSE(f.dev->bar_spec(LEGACY_BAR));
}

TEST_CASE("virtio-pci: a legacy-only device (disable-modern=on) has no virtio capabilities and no BAR 4",
          "[virtio-pci]") {
    VirtioPciOptions options{0x020000, 4, true, 60};
    options.modern = false;
    VirtioPciFixture f(options);
    CHECK(f.cfg(pci::VENDOR_ID) == 0x10011af4);  // the fake is a block device: legacy ID 0x1001
    CHECK((f.cfg(pci::REVISION_ID) & 0xff) == 0);
    unsigned vendor_caps = 0, guard = 0;
    for (uint8_t at = uint8_t(f.cfg(pci::CAPABILITY_LIST, 1)); at != 0 && guard < 48; ++guard) {
        if (f.cfg(at, 1) == pci::CAP_ID_VENDOR) ++vendor_caps;
        at = uint8_t(f.cfg(at + 1, 1));
    }
    CHECK(vendor_caps == 0);
    CHECK_FALSE(f.dev->bar_spec(MODERN_BAR));
    CHECK(f.dev->bar_spec(LEGACY_BAR));
    f.map_bars();
    f.io_out(LEGACY_STATUS, STATUS_ACKNOWLEDGE, 1);  // the legacy interface still works
    CHECK(f.io_in(LEGACY_STATUS, 1) == STATUS_ACKNOWLEDGE);
}
