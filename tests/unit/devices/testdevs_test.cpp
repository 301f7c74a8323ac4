// The devices test kernels use: pc-testdev, pci-testdev, isa-debugcon,
// pvpanic and kvm-pit, with the accesses QEMU's tests make and the absurd
// ones a misbehaving guest could make.
#include "devices/io_plumbing.h"
#include "devices/pci/pci_device.h"
#include "fake_device_context.h"
#include "misc_test_fakes.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <sys/eventfd.h>
#include <unistd.h>

using namespace kestrel;
using namespace kestrel::test;

namespace {

uint64_t mmio_in(FakeDeviceContext& ctx, uint64_t addr, unsigned len) {
    uint8_t buf[8] = {};
    ctx.mmio_bus.read(addr, {buf, len});
    return load_le({buf, len});
}
void mmio_out(FakeDeviceContext& ctx, uint64_t addr, uint64_t value, unsigned len) {
    uint8_t buf[8];
    store_le({buf, len}, value);
    ctx.mmio_bus.write(addr, {buf, len});
}

struct RecordingPlumbing : IoPlumbing {
    std::vector<NotifyEventFd> active;
    bool refuse_any_length = false;
    bool add_ioeventfd(const NotifyEventFd& e) override {
        if (refuse_any_length && e.length == 0) return false;
        active.push_back(e);
        return true;
    }
    void remove_ioeventfd(const NotifyEventFd& e) override { std::erase(active, e); }
    std::shared_ptr<MsiSink> make_msi_sink(unsigned) override { return nullptr; }
};

} // namespace

TEST_CASE("pc-testdev: the data port at 0xe0 and its bytewise twin at 0xe8", "[testdev]") {
    FakeDeviceContext ctx;
    auto dev = ctx.realize("pc-testdev");
    ctx.out(0xe0, 0x12345678, 4);
    CHECK(ctx.in(0xe2, 2) == 0x1234);
    CHECK(ctx.in(0xe1, 1) == 0x56);
    ctx.out(0xe9, 0xab, 1);
    CHECK(ctx.in(0xe0, 4) == 0x1234ab78);
    ctx.out(0xea, 0xcdef, 2);
    CHECK(ctx.in(0xe8, 4) == 0xcdefab78);
    ctx.out(0xe3, 0xffffffff, 4);  // runs past the register: only its own byte changes
    CHECK(ctx.in(0xe0, 4) == 0xffefab78);
    dev->reset();  // QEMU's device keeps its state over a reset
    CHECK(ctx.in(0xe0, 4) == 0xffefab78);
}

TEST_CASE("pc-testdev: IRQ lines, the memory window, wild flush addresses", "[testdev]") {
    FakeDeviceContext ctx;
    auto dev = ctx.realize("pc-testdev");
    ctx.out(0x2005, 1, 1);
    CHECK(ctx.irqs[5].level);
    ctx.out(0x2005, 0, 1);
    CHECK(!ctx.irqs[5].level);
    ctx.out(0x200a, 7, 1);
    CHECK(ctx.irqs[10].level);
    ctx.out(0x2002, 1, 1);  // the cascade and lines 16-23 do not exist: ignored
    ctx.out(0x2017, 1, 1);
    ctx.out(0x2004, 1, 2);  // not a byte access: ignored
    CHECK(!ctx.irqs[4].level);
    CHECK(ctx.in(0x2005, 1) == 0);

    mmio_out(ctx, 0xff000000, 0xdeadbeef, 4);
    mmio_out(ctx, 0xff00fffe, 0x11223344, 4);  // past the end: the rest is dropped
    CHECK(mmio_in(ctx, 0xff000001, 2) == 0xadbe);
    CHECK(mmio_in(ctx, 0xff00fffe, 4) == 0x3344);
    mmio_out(ctx, 0xff000008, 0x0102030405060708ull, 8);
    CHECK(mmio_in(ctx, 0xff000008, 8) == 0x0102030405060708ull);

    std::vector<uint8_t> page(4096, 0x5a);
    REQUIRE(ctx.ram.write(0x3000, page));
    ctx.out(0xe4, 0x3123, 4);       // the page stays as it was
    ctx.out(0xe4, 0xfffff000, 4);   // not RAM: nothing happens
    ctx.out(0xe4, 0x3000, 2);       // not a 32-bit write: ignored
    CHECK(ctx.ram.host_ptr(0x3000, 4096)[4095] == 0x5a);
    ctx.ram.host_ptr(0x3000, 1)[0] = 1;  // still writable
    CHECK(ctx.in(0xe4, 4) == 0);
}

TEST_CASE("pci-testdev: tests, counts, ioeventfds following the BAR", "[testdev]") {
    FakeDeviceContext ctx;
    auto plumbing = std::make_shared<RecordingPlumbing>();
    ctx.io_plumbing = plumbing;
    auto dev = ctx.realize("pci-testdev", {{"addr", "4"}});
    PciDevice& f = *dev->pci_function();
    CHECK(f.config_read(0, 4) == 0x00051b36);
    CHECK(f.config_read(8, 4) == 0x00ff0000);
    f.config_write(0x10, 4, 0xfe000000);
    f.config_write(0x14, 4, 0xc000);
    f.config_write(0x04, 2, 3);

    ctx.out(0xc000, 0, 1);  // portio-no-eventfd
    CHECK(ctx.in(0xc000, 1) == 3);
    CHECK(ctx.in(0xc004, 4) == 0x83);
    ctx.out(0xc083, 0xfa, 1);
    ctx.out(0xc083, 0xce, 1);     // not the data: not counted
    ctx.out(0xc083, 0x12fa, 2);   // byte by byte: the first counts
    CHECK(ctx.in(0xc00c, 4) == 2);
    CHECK(plumbing->active.empty());
    std::string name;
    for (uint64_t i = 16; char c = char(ctx.in(0xc000 + i, 1)); ++i) name += c;
    CHECK(name == "portio-no-eventfd");

    ctx.out(0xc000, 2, 1);  // portio-datamatch-eventfd: one byte of 0xfa at 0xc085
    REQUIRE(plumbing->active.size() == 1);
    CHECK(plumbing->active[0].pio);
    CHECK(plumbing->active[0].address == 0xc085);
    CHECK(plumbing->active[0].length == 1);
    CHECK(plumbing->active[0].datamatch == 0xfa);
    f.config_write(0x14, 4, 0xd000);  // the BAR moves, the ioeventfd with it
    REQUIRE(plumbing->active.size() == 1);
    CHECK(plumbing->active[0].address == 0xd085);
    f.config_write(0x04, 2, 0);  // decoding off: gone
    CHECK(plumbing->active.empty());
    f.config_write(0x04, 2, 3);
    mmio_out(ctx, 0xfe000000, 1, 4);  // mmio-wildcard-eventfd: any length where allowed
    REQUIRE(plumbing->active.size() == 1);
    CHECK(plumbing->active[0].length == 0);
    CHECK(!plumbing->active[0].datamatch);
    mmio_out(ctx, 0xfe000000, 7, 1);  // no such test: header reads 0, no eventfd
    CHECK(plumbing->active.empty());
    CHECK(mmio_in(ctx, 0xfe000004, 4) == 0);
    dev->reset();
    CHECK(plumbing->active.empty());
}

TEST_CASE("pci-testdev: without ioeventfds every write counts; wild offsets", "[testdev]") {
    FakeDeviceContext ctx;
    auto plumbing = std::make_shared<RecordingPlumbing>();
    plumbing->refuse_any_length = true;
    ctx.io_plumbing = plumbing;
    auto dev = ctx.realize("pci-testdev", {{"membar", "64k"}, {"addr", "5"}});
    PciDevice& f = *dev->pci_function();
    CHECK(f.bar_spec(2)->size == 0x10000);
    f.config_write(0x10, 4, 0xfe000000);
    f.config_write(0x04, 2, 2);
    mmio_out(ctx, 0xfe000000, 1, 1);  // any length refused: one byte, as QEMU without it
    REQUIRE(plumbing->active.size() == 1);
    CHECK(plumbing->active[0].length == 1);
    for (uint64_t off : {0x801ull, 0xfffull, 0x1000ull, 0x7ull})
        mmio_out(ctx, 0xfe000000 + off, 0xffffffffffffffffull, 8);
    CHECK(mmio_in(ctx, 0xfe000fff, 1) == 0);
    CHECK(mmio_in(ctx, 0xfe000000 + 16 + 21, 1) == 0);  // the name's NUL and past it read 0
    ctx.io_plumbing = nullptr;
    FakeDeviceContext plain;
    auto d2 = plain.realize("pci-testdev", {{"addr", "5"}});
    d2->pci_function()->config_write(0x14, 4, 0xc000);
    d2->pci_function()->config_write(0x04, 2, 1);
    plain.out(0xc000, 1, 1);  // portio-wildcard: no ioeventfd, so writes count
    plain.out(0xc084, 0x77, 1);
    CHECK(plain.in(0xc00c, 4) == 1);
}

TEST_CASE("isa-debugcon: bytes to the chardev, reads give readback", "[testdev]") {
    FakeDeviceContext ctx;
    auto dev = ctx.realize("isa-debugcon", {{"chardev", "dbg"}, {"readback", "0x42"}});
    CHECK(ctx.chardev_ids == std::vector<std::string>{"dbg"});
    CHECK(ctx.in(0xe9, 1) == 0x42);
    CHECK(ctx.in(0xe9, 2) == 0);  // QEMU's port takes bytes only
    ctx.out(0xe9, 'x', 1);         // no chardev connected yet: dropped
}

TEST_CASE("pvpanic: events, panic and crash-loaded reports", "[testdev]") {
    FakeDeviceContext ctx;
    auto dev = ctx.realize("pvpanic");
    CHECK(ctx.in(0x505, 1) == 3);
    ctx.out(0x505, 1, 1);
    CHECK(ctx.control.panics == 1);
    ctx.out(0x505, 2, 1);
    CHECK(ctx.control.crashloads == 1);
    ctx.out(0x505, 3, 1);  // both: panicked wins
    CHECK(ctx.control.panics == 2);
    ctx.out(0x505, 0xf0, 1);  // unknown bits only: nothing
    ctx.out(0x505, 1, 2);     // not a byte: nothing
    CHECK(ctx.control.panics == 2);
    CHECK(ctx.control.crashloads == 1);
}

TEST_CASE("kvm-pit: realizes without a VM; properties as QEMU prints them", "[testdev]") {
    FakeDeviceContext ctx;
    auto dev = ctx.realize("kvm-pit", {{"lost_tick_policy", "discard"}});
    CHECK(dev->properties().qtree_text(*dev->properties().find("lost_tick_policy")) == "\"discard\"");
    const DeviceType* pit = find_device_type("kvm-pit");
    std::vector<std::string> help;
    for (const PropertySpec* spec : pit->all_properties()) help.push_back(property_help_line(*spec));
    CHECK(help == std::vector<std::string>{"  iobase=<uint32>        -  (default: 4294967295)",
                                           "  lost_tick_policy=<LostTickPolicy> -  (default: \"delay\")"});
}
