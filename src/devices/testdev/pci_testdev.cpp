// pci-testdev (1b36:0005): QEMU's PCI test device (hw/misc/pci-testdev.c),
// used by kvm-unit-tests to measure and check I/O exits and ioeventfds.
// BAR 0 (4 KiB memory) and BAR 1 (256 I/O ports) each hold three tests:
// a write of N < 3 to offset 0 selects test N of that BAR (no-eventfd,
// wildcard-eventfd, datamatch-eventfd) and the BAR then reads, byte by
// byte, its header {u8 test, u8 width, u16 pad, u32 offset, u8 data, u8
// pad[3], u32 count, name}. Byte writes at `offset` count (when `data`
// matches, for the matching tests) unless an ioeventfd takes them in the
// hypervisor: the eventfd tests register one while selected, as QEMU does.
// membar=SIZE adds an empty 64-bit prefetchable BAR 2.
#include "base/config_error.h"
#include "devices/bus.h"
#include "devices/device_context.h"
#include "devices/io_plumbing.h"
#include "devices/pci/pci_function_device.h"

#include <array>
#include <bit>
#include <cstring>
#include <sys/eventfd.h>
#include <unistd.h>

namespace kestrel {
namespace {

constexpr PropertySpec kProperties[] = {
    {"membar", PropType::Size, {}, true, 0},
};

constexpr uint32_t kMemSize = 4096, kIoSize = 256;
constexpr unsigned kTestsPerBar = 3, kTests = 6;
constexpr uint8_t kDataMatch = 0xfa, kNoMatch = 0xce;
constexpr const char* kNames[kTests] = {"mmio-no-eventfd",   "mmio-wildcard-eventfd",   "mmio-datamatch-eventfd",
                                        "portio-no-eventfd", "portio-wildcard-eventfd", "portio-datamatch-eventfd"};

void complete(DeviceConfig& device, const DeviceCheckContext&) {
    uint64_t membar = device.props.uint("membar");
    if (membar && (!std::has_single_bit(membar) || membar < 16))
        throw ConfigError("Property 'pci-testdev.membar' must be 0 or a power of two of at least 16 bytes");
}

struct Test {
    bool io;          // BAR 1 (I/O) or BAR 0 (memory)
    bool notifier;    // registers an ioeventfd while selected
    bool match_data;  // counts only writes of `data`
    uint32_t offset;
    uint8_t data;
};

Test test_info(unsigned i) {
    bool io = i >= kTestsPerBar;
    unsigned kind = i % kTestsPerBar;
    return {io, kind != 0, kind != 1, (io ? kIoSize / 2 : kMemSize / 2) + i, kind != 1 ? kDataMatch : kNoMatch};
}

// The guest-visible state.
struct PciTestdevState {
    int current = -1;                    // the selected test, -1 for none
    std::array<uint32_t, kTests> count{};  // each test's header count
};

class PciTestdevFunction final : public PciDevice {
public:
    PciTestdevFunction(uint64_t membar, std::shared_ptr<IoPlumbing> plumbing) : plumbing_(std::move(plumbing)) {
        set_ids({0x1b36, 0x0005, 0x00, 0x00ff00});
        add_bar(0, kMemSize, BarKind::Mem32, false, std::make_shared<Window>(*this, false), "pci-testdev-mmio");
        add_bar(1, kIoSize, BarKind::Io, false, std::make_shared<Window>(*this, true), "pci-testdev-portio");
        if (membar) add_bar(2, membar, BarKind::Mem64, true, std::make_shared<Empty>(), "pci-testdev-membar");
        for (unsigned i = 0; i < kTests; ++i) {
            if (test_info(i).notifier) eventfds_[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        }
    }
    ~PciTestdevFunction() override {
        stop();
        for (int fd : eventfds_)
            if (fd >= 0) close(fd);
    }

    void reset() override {
        std::lock_guard guard(config_mutex());
        stop();
        PciDevice::reset();
    }

    void read(uint64_t offset, std::span<uint8_t> data) {
        std::lock_guard guard(config_mutex());
        for (size_t i = 0; i < data.size(); ++i) data[i] = read_byte(offset + i);
    }
    // QEMU's region takes single bytes: wider writes arrive byte by byte.
    void write(bool io, uint64_t offset, std::span<const uint8_t> data) {
        std::lock_guard guard(config_mutex());
        for (size_t i = 0; i < data.size(); ++i) write_byte(io, offset + i, data[i]);
    }

protected:
    void bar_moved(unsigned index, std::optional<uint64_t>, std::optional<uint64_t>) override {
        if (state_.current >= 0 && test_info(unsigned(state_.current)).io == (index == 1)) {
            unregister();
            register_current();
        }
    }

private:
    class Window final : public BusDevice {
    public:
        Window(PciTestdevFunction& f, bool io) : f_(f), io_(io) {}
        void read(uint64_t offset, std::span<uint8_t> data) override { f_.read(offset, data); }
        void write(uint64_t offset, std::span<const uint8_t> data) override { f_.write(io_, offset, data); }

    private:
        PciTestdevFunction& f_;
        bool io_;
    };
    // membar: a BAR with nothing behind it.
    class Empty final : public BusDevice {
    public:
        void read(uint64_t, std::span<uint8_t> data) override { std::fill(data.begin(), data.end(), 0); }
        void write(uint64_t, std::span<const uint8_t>) override {}
    };

    uint8_t read_byte(uint64_t offset) {
        if (state_.current < 0) return 0;
        unsigned t = unsigned(state_.current);
        if (eventfds_[t] >= 0) {
            uint64_t drained;
            (void)::read(eventfds_[t], &drained, sizeof drained);
        }
        uint8_t header[64] = {};
        Test info = test_info(t);
        header[0] = uint8_t(t);
        header[1] = 1;  // width
        std::memcpy(header + 4, &info.offset, 4);
        header[8] = info.data;
        std::memcpy(header + 12, &state_.count[t], 4);
        size_t size = 16 + std::strlen(kNames[t]) + 1;
        std::memcpy(header + 16, kNames[t], size - 16);
        return offset + 1 < size ? header[offset] : 0;
    }

    void write_byte(bool io, uint64_t offset, uint8_t value) {
        if (offset == 0) {
            stop();
            if (value >= kTestsPerBar) return;
            state_.current = int((io ? kTestsPerBar : 0) + value);
            state_.count[size_t(state_.current)] = 0;
            register_current();
            return;
        }
        if (state_.current < 0) return;
        Test info = test_info(unsigned(state_.current));
        if (offset != info.offset || (info.match_data && value != info.data)) return;
        state_.count[size_t(state_.current)]++;
    }

    void stop() {
        unregister();
        state_.current = -1;
    }

    // The selected test's ioeventfd at its offset in its BAR, if the BAR
    // decodes: one byte (with the data for datamatch), or any length for
    // the memory wildcard test where the hypervisor allows it (as QEMU).
    void register_current() {
        if (state_.current < 0 || !plumbing_) return;
        unsigned t = unsigned(state_.current);
        Test info = test_info(t);
        std::optional<uint64_t> base = bar_address(info.io ? 1 : 0);
        if (!info.notifier || eventfds_[t] < 0 || !base) return;
        NotifyEventFd e{eventfds_[t], info.io, *base + info.offset, 1, std::nullopt};
        if (info.match_data) e.datamatch = info.data;
        if (!info.io && !info.match_data) {
            e.length = 0;
            if (plumbing_->add_ioeventfd(e)) {
                registered_ = e;
                return;
            }
            e.length = 1;
        }
        if (plumbing_->add_ioeventfd(e)) registered_ = e;
    }

    void unregister() {
        if (registered_ && plumbing_) plumbing_->remove_ioeventfd(*registered_);
        registered_.reset();
    }

    std::shared_ptr<IoPlumbing> plumbing_;
    std::array<int, kTests> eventfds_{-1, -1, -1, -1, -1, -1};
    std::optional<NotifyEventFd> registered_;
    PciTestdevState state_;
};

class PciTestdev final : public PciFunctionDevice {
public:
    using PciFunctionDevice::PciFunctionDevice;

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        return std::make_shared<PciTestdevFunction>(properties().uint("membar"), context.plumbing());
    }
};

} // namespace

extern const DeviceType kPciTestdevType = {
    .name = "pci-testdev",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Misc,
    .description = "PCI Test Device",
    .properties = kProperties,
    .create = &create_device<PciTestdev>,
    .qom_parent = "pci-device",
    .complete = &complete,
};

} // namespace kestrel
