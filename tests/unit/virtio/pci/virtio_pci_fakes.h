#pragma once
// A fake virtio device and fake KVM plumbing around a real VirtioPciDevice
// on a PCI bus, with the accessors a driver uses (config cycles, MMIO in
// the modern BAR, port I/O in the legacy BAR).
#include "../../devices/pci_test_fakes.h"
#include "virtio/pci/virtio_pci_device.h"
#include "virtio/virtqueue.h"

#include <algorithm>
#include <fcntl.h>
#include <catch2/catch.hpp>
#include <array>
#include <sys/eventfd.h>
#include <unistd.h>

namespace kestrel::test {

struct FakeVirtioDevice : VirtioDevice {
    uint64_t features = 1ull << 32 | 1ull << 29 | 1ull << 28 | 1ull << 9 | 1ull << 1;
    std::array<uint8_t, 60> config{};
    std::vector<std::pair<uint64_t, uint64_t>> config_writes;  // offset, value
    int activations = 0, resets = 0;
    uint64_t activated_features = 0;
    std::vector<VirtioQueueBinding> bindings;
    std::vector<VirtqueueLayout> layouts;

    FakeVirtioDevice() {
        for (size_t i = 0; i < config.size(); ++i) config[i] = uint8_t(0x10 + i);
    }
    uint16_t device_type() const override { return 2; }
    uint64_t device_features() const override { return features; }
    unsigned num_queues() const override { return 2; }
    uint16_t max_queue_size() const override { return 256; }
    void read_config(uint64_t offset, std::span<uint8_t> data) override {
        std::copy_n(config.begin() + ptrdiff_t(offset), data.size(), data.begin());
    }
    void write_config(uint64_t offset, std::span<const uint8_t> data) override {
        config_writes.emplace_back(offset, load_le(data));
    }
    void activate(VirtioActivation activation) override {
        ++activations;
        activated_features = activation.driver_features;
        bindings = activation.queues;
        layouts.clear();
        for (const auto& b : bindings) layouts.push_back(b.queue->layout());
    }
    void reset() override {
        ++resets;
        bindings.clear();
    }
    int releases = 0;
    bool fds_open_at_release = false;
    void release_queues() override {
        ++releases;
        fds_open_at_release = !bindings.empty();
        for (const auto& b : bindings) fds_open_at_release &= fcntl(b.notify_fd, F_GETFD) != -1;
        bindings.clear();
    }
};

struct FakeMsiSink : MsiSink {
    std::vector<std::pair<unsigned, MsiMessage>> sent;
    void send(unsigned vector, const MsiMessage& message) override { sent.emplace_back(vector, message); }
    // Pretend irqfds: 100 + the vector.
    int irqfd(unsigned vector, const MsiMessage&) override { return int(100 + vector); }
};

struct FakePlumbing : IoPlumbing {
    std::vector<NotifyEventFd> active;
    int added = 0, removed = 0;
    std::shared_ptr<FakeMsiSink> sink;
    bool add_ioeventfd(const NotifyEventFd& e) override {
        ++added;
        active.push_back(e);
        return true;
    }
    void remove_ioeventfd(const NotifyEventFd& e) override {
        ++removed;
        std::erase(active, e);
    }
    std::shared_ptr<MsiSink> make_msi_sink(unsigned) override {
        sink = std::make_shared<FakeMsiSink>();
        return sink;
    }
    bool has(const NotifyEventFd& e) const { return std::find(active.begin(), active.end(), e) != active.end(); }
};

// Reads an eventfd's counter without blocking; 0 if nothing was signalled.
inline uint64_t drain_eventfd(int fd) {
    uint64_t value = 0;
    return ::read(fd, &value, sizeof value) == sizeof value ? value : 0;
}

struct VirtioPciFixture : PciFixture {
    static constexpr unsigned SLOT = 4;
    static constexpr uint16_t IO = 0xc000;
    static constexpr uint64_t MSIX = 0xfebd1000;
    static constexpr uint64_t MODERN = 0xfe000000;
    static constexpr uint64_t COMMON = MODERN, ISR = MODERN + 0x1000, DEVCFG = MODERN + 0x2000,
                              NOTIFY = MODERN + 0x3000;

    GuestMemory memory = GuestMemory::create_flat(16 << 20);
    std::shared_ptr<FakeVirtioDevice> vdev = std::make_shared<FakeVirtioDevice>();
    std::shared_ptr<FakePlumbing> plumbing = std::make_shared<FakePlumbing>();
    std::shared_ptr<FakeIntxRouter> router = std::make_shared<FakeIntxRouter>();
    std::shared_ptr<VirtioPciDevice> dev;

    explicit VirtioPciFixture(VirtioPciOptions options = {0x010000, 2, true, 60}) {
        dev = std::make_shared<VirtioPciDevice>(vdev, VirtioPciContext{memory, plumbing}, options);
        pci.set_intx_router(router);
        REQUIRE(pci.add_device(SLOT, 0, dev));
    }

    uint32_t cfg(uint16_t reg, unsigned len = 4) { return cfg_read(SLOT, 0, reg, len); }
    void set_cfg(uint16_t reg, uint32_t value, unsigned len = 4) { cfg_write(SLOT, 0, reg, value, len); }

    // What firmware does: place the BARs and turn on decoding.
    void map_bars(uint64_t modern = MODERN) {
        set_cfg(pci::BAR0, IO);
        set_cfg(pci::BAR0 + 4, uint32_t(MSIX));
        set_cfg(pci::BAR0 + 16, uint32_t(modern));
        set_cfg(pci::BAR0 + 20, uint32_t(modern >> 32));
        set_cfg(pci::COMMAND, pci::COMMAND_IO | pci::COMMAND_MEMORY | pci::COMMAND_MASTER, 2);
    }

    void mw(uint64_t addr, uint64_t value, unsigned len) {
        uint8_t buf[8];
        store_le({buf, len}, value);
        mmio.write(addr, {buf, len});
    }
    uint64_t mr(uint64_t addr, unsigned len) {
        uint8_t buf[8];
        mmio.read(addr, {buf, len});
        return load_le({buf, len});
    }
    uint32_t io_in(uint16_t offset, unsigned len) { return in(uint16_t(IO + offset), len); }
    void io_out(uint16_t offset, uint32_t value, unsigned len) { out(uint16_t(IO + offset), value, len); }

    uint8_t status() { return uint8_t(mr(COMMON + virtio_pci::COMMON_STATUS, 1)); }
    void set_status(uint8_t s) { mw(COMMON + virtio_pci::COMMON_STATUS, s, 1); }

    // The modern driver's feature handshake; returns the status read back.
    uint8_t negotiate(uint64_t features) {
        set_status(virtio_pci::STATUS_ACKNOWLEDGE | virtio_pci::STATUS_DRIVER);
        for (uint32_t word = 0; word < 2; ++word) {
            mw(COMMON + virtio_pci::COMMON_GFSELECT, word, 4);
            mw(COMMON + virtio_pci::COMMON_GF, uint32_t(features >> (32 * word)), 4);
        }
        set_status(virtio_pci::STATUS_ACKNOWLEDGE | virtio_pci::STATUS_DRIVER | virtio_pci::STATUS_FEATURES_OK);
        return status();
    }

    // Programs queue `index` as Linux does (64-bit addresses as two halves).
    void setup_queue(uint16_t index, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used,
                     uint16_t vector = virtio_pci::NO_VECTOR) {
        using namespace virtio_pci;
        mw(COMMON + COMMON_Q_SELECT, index, 2);
        mw(COMMON + COMMON_Q_SIZE, size, 2);
        mw(COMMON + COMMON_Q_MSIX, vector, 2);
        mw(COMMON + COMMON_Q_DESCLO, uint32_t(desc), 4);
        mw(COMMON + COMMON_Q_DESCHI, uint32_t(desc >> 32), 4);
        mw(COMMON + COMMON_Q_AVAILLO, uint32_t(avail), 4);
        mw(COMMON + COMMON_Q_AVAILHI, uint32_t(avail >> 32), 4);
        mw(COMMON + COMMON_Q_USEDLO, uint32_t(used), 4);
        mw(COMMON + COMMON_Q_USEDHI, uint32_t(used >> 32), 4);
        mw(COMMON + COMMON_Q_ENABLE, 1, 2);
    }

    void enable_msix(uint16_t control = 0x8000) { set_cfg(virtio_pci::CAP_AT_MSIX + 2, control, 2); }
    void program_vector(unsigned vector, uint32_t data) {
        uint64_t entry = MSIX + 16 * vector;
        mw(entry, 0xfee00000, 4);
        mw(entry + 4, 0, 4);
        mw(entry + 8, data, 4);
        mw(entry + 12, 0, 4);
    }
    bool intx() const { return !router->calls.empty() && router->calls.back().level; }
};

} // namespace kestrel::test
