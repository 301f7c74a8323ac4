// QEMU's ACPI CPU hotplug registers (0xaf00) of the PIIX4 PM function,
// through the device as the board realizes it with -smp maxcpus= above
// cpus=: the legacy bitmap until the guest's _INI, a hot-added CPU raises GPE 2 and the SCI, the guest's scan finds
// it by the "next event" command and clears the event, the guest's eject
// reaches the machine on the main loop, and malformed accesses (a selector
// past the possible CPUs, reserved offsets, odd sizes, unknown commands,
// ejecting the boot CPU or an absent one) change nothing.
#include "devices/cpu_hotplug/cpu_hotplug_regs.h"
#include "devices/cpu_hotplug_controller.h"
#include "devices/pc_layout.h"
#include "fake_device_context.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

using R = CpuHotplugRegs;
constexpr uint16_t HP = R::BASE;
constexpr uint16_t GPE_STS = pc::GPE0_BASE, GPE_EN = pc::GPE0_BASE + 2;
constexpr uint8_t PRESENT = 1, INSERT = 2, REMOVE = 4, EJECT = 8, FW_REMOVE = 16;

BoardFacts facts_with(unsigned cpus, unsigned maxcpus) {
    BoardFacts f;
    f.cpus = f.boot_cpus = cpus;
    for (unsigned i = 0; i < maxcpus; ++i) f.possible_cpus.push_back({i * 2, i < cpus});  // APIC IDs 0, 2, 4, ...
    return f;
}

struct CpuHotplugRig {
    FakeDeviceContext ctx;
    std::unique_ptr<Device> pm;
    CpuHotplugController* hp = nullptr;
    std::vector<unsigned> ejected;
    std::vector<CpuOstReport> osts;
    std::vector<std::string> order;  // ejects and OSTs as the machine hears them

    explicit CpuHotplugRig(unsigned cpus = 1, unsigned maxcpus = 4, bool legacy = false) {
        ctx.facts = facts_with(cpus, maxcpus);
        pm = ctx.realize("PIIX4_PM", {{"addr", "01.3"}});
        hp = ctx.registry.find<CpuHotplugController>();
        if (hp) hp->on_cpu_eject([this](unsigned index) {
            ejected.push_back(index);
            order.push_back("eject " + std::to_string(index));
        });
        if (hp) hp->on_cpu_ost([this](const CpuOstReport& report) {
            osts.push_back(report);
            order.push_back("ost " + std::to_string(report.index));
        });
        ctx.out(GPE_EN, 1u << R::GPE_BIT, 2);
        if (hp && !legacy) select(0);  // the DSDT's _INI: out of the legacy mode
    }
    void select(uint32_t index) { ctx.out(HP + R::SELECTOR, index, 4); }
    uint8_t flags() { return uint8_t(ctx.in(HP + R::FLAGS, 1)); }
    void command(uint8_t c) { ctx.out(HP + R::COMMAND, c, 1); }
    uint32_t data() { return uint32_t(ctx.in(HP + R::DATA, 4)); }
    void control(uint8_t bits) {
        ctx.out(HP + R::FLAGS, bits, 1);
        for (int i = 0; i < 3; ++i) ctx.loop.run_once(0);  // the machine acts on its loop
    }
    bool sci() { return ctx.irqs[pc::ACPI_SCI_IRQ].level; }
    // The DSDT's COST: the source event, then the status.
    void ost(uint32_t index, uint32_t source, uint32_t status) {
        select(index);
        command(R::OST_EVENT);
        ctx.out(HP + R::DATA, source, 4);
        command(R::OST_STATUS);
        ctx.out(HP + R::DATA, status, 4);
        for (int i = 0; i < 3; ++i) ctx.loop.run_once(0);
    }
};

bool same(const CpuOstReport& a, const CpuOstReport& b) {
    return a.index == b.index && a.source == b.source && a.status == b.status && a.present == b.present;
}

} // namespace

TEST_CASE("cpu hotplug: no registers without room for more CPUs", "[cpuhp]") {
    CpuHotplugRig r(2, 2);
    CHECK(r.hp == nullptr);
    CHECK(r.ctx.in(HP + R::FLAGS, 1) == 0xff);  // nothing at 0xaf00
}

TEST_CASE("cpu hotplug: the legacy bitmap until the guest writes 0 at offset 0", "[cpuhp]") {
    CpuHotplugRig r(2, 4, true);  // APIC IDs 0, 2, 4, 6
    REQUIRE(r.hp);
    CHECK(r.ctx.in(HP, 1) == 0b101);
    CHECK_FALSE(r.hp->cpu_unplug_supported());
    r.ctx.out(HP + R::FLAGS, 0xff, 1);  // ignored, as the selector's other values
    r.select(3);
    r.hp->cpu_plugged(3);               // present, no event to find later
    CHECK(r.ctx.in(HP, 1) == 0b1000101);
    CHECK(r.sci());
    r.hp->request_cpu_unplug(3);        // refused before the switch (the machine checks first)
    CHECK_FALSE(r.hp->cpu_unplug_requested(3));
    for (uint16_t off = 1; off < R::LENGTH; ++off) CHECK(r.ctx.in(HP + off, 1) == 0);
    r.select(0);
    CHECK(r.hp->cpu_unplug_supported());
    r.select(3);
    CHECK(r.flags() == PRESENT);
    r.command(R::NEXT_EVENT);
    CHECK(r.data() == 3);  // no CPU has an event: the selector stays
}

TEST_CASE("cpu hotplug: the boot CPUs are present without events", "[cpuhp]") {
    CpuHotplugRig r(2, 4);
    REQUIRE(r.hp);
    r.select(1);
    CHECK(r.flags() == PRESENT);
    r.select(2);
    CHECK(r.flags() == 0);
    r.command(R::CPU_ID);
    CHECK(r.data() == 4);
    CHECK(r.ctx.in(HP + R::SELECTOR, 4) == 0);  // command data 2: the upper half
    CHECK_FALSE(r.sci());
}

TEST_CASE("cpu hotplug: an added CPU raises GPE 2; the scan finds it and clears the event", "[cpuhp]") {
    CpuHotplugRig r;
    r.hp->cpu_plugged(2);
    CHECK(r.sci());
    CHECK((r.ctx.in(GPE_STS, 2) & (1u << R::GPE_BIT)) != 0);
    // CSCN: from the selector on, the next CPU with an event.
    r.command(R::NEXT_EVENT);
    CHECK(r.data() == 2);
    CHECK(r.flags() == (PRESENT | INSERT));
    r.control(INSERT);  // CINS = 1 clears it
    CHECK(r.flags() == PRESENT);
    r.command(R::NEXT_EVENT);  // none left: the selector stays
    CHECK(r.data() == 2);
    CHECK(r.flags() == PRESENT);
    r.ctx.out(GPE_STS, 1u << R::GPE_BIT, 2);
    CHECK_FALSE(r.sci());
}

TEST_CASE("cpu hotplug: the event search wraps around from the selector", "[cpuhp]") {
    CpuHotplugRig r;
    r.hp->cpu_plugged(1);
    r.select(3);
    r.command(R::NEXT_EVENT);
    CHECK(r.data() == 1);
}

TEST_CASE("cpu hotplug: removal asked, the guest ejects, the machine hears it", "[cpuhp]") {
    CpuHotplugRig r;
    r.hp->cpu_plugged(3);
    r.select(3);
    r.control(INSERT);
    r.hp->request_cpu_unplug(3);
    CHECK(r.hp->cpu_unplug_requested(3));
    r.command(R::NEXT_EVENT);
    CHECK(r.flags() == (PRESENT | REMOVE));
    r.control(REMOVE);
    CHECK_FALSE(r.hp->cpu_unplug_requested(3));
    r.control(EJECT);
    CHECK(r.ejected == std::vector<unsigned>{3});
    CHECK(r.flags() == 0);
    r.control(EJECT);  // gone already: nothing more
    CHECK(r.ejected.size() == 1);
}

TEST_CASE("cpu hotplug: each OST status the guest writes reaches the machine", "[cpuhp]") {
    CpuHotplugRig r(2, 4);
    r.hp->cpu_plugged(2);
    r.ost(2, 1, 0);  // Linux after a device check: success
    REQUIRE(r.osts.size() == 1);
    CHECK(same(r.osts[0], {.index = 2, .source = 1, .status = 0, .present = true}));
    r.ost(3, 3, 0x80);  // a slot without a CPU is reported too, as QEMU does
    REQUIRE(r.osts.size() == 2);
    CHECK(same(r.osts[1], {.index = 3, .source = 3, .status = 0x80, .present = false}));
    r.ost(1, 0xffffffff, 0xffffffff);  // 32 bits, unsigned
    CHECK(same(r.osts[2], {.index = 1, .source = 0xffffffff, .status = 0xffffffff, .present = true}));
    // The source alone reports nothing; the next status reports it.
    r.select(0);
    r.command(R::OST_EVENT);
    r.ctx.out(HP + R::DATA, 0x103, 4);
    r.ctx.loop.run_once(0);
    CHECK(r.osts.size() == 3);
    r.command(R::OST_STATUS);
    r.ctx.out(HP + R::DATA, 0x80, 2);
    r.ctx.loop.run_once(0);
    REQUIRE(r.osts.size() == 4);
    CHECK(same(r.osts[3], {.index = 0, .source = 0x103, .status = 0x80, .present = true}));
}

TEST_CASE("cpu hotplug: query-acpi-ospm-status's CPUs, none in the legacy mode", "[cpuhp]") {
    CpuHotplugRig r(2, 3, true);
    CHECK(r.hp->cpu_ospm_status().empty());
    r.ost(1, 1, 0);  // legacy: the block is a bitmap, nothing is taken
    CHECK(r.osts.empty());
    r.select(0);  // _INI
    std::vector<CpuOstReport> list = r.hp->cpu_ospm_status();
    REQUIRE(list.size() == 3);
    CHECK(same(list[0], {.index = 0, .present = true}));
    CHECK(same(list[1], {.index = 1, .present = true}));
    CHECK(same(list[2], {.index = 2, .present = false}));
    r.ost(2, 3, 0x81);
    list = r.hp->cpu_ospm_status();
    CHECK(same(list[2], {.index = 2, .source = 3, .status = 0x81, .present = false}));
    CHECK(same(list[1], {.index = 1, .present = true}));
}

TEST_CASE("cpu hotplug: the OST after an eject finds the CPU gone, after the eject", "[cpuhp]") {
    CpuHotplugRig r;
    r.hp->cpu_plugged(3);
    r.hp->request_cpu_unplug(3);
    r.ost(3, 3, 0x84);  // Linux: eject in progress
    r.select(3);
    r.ctx.out(HP + R::FLAGS, EJECT, 1);  // _EJ0, then _OST(3, 0) before the loop runs
    r.ost(3, 3, 0);
    CHECK(r.order == std::vector<std::string>{"ost 3", "eject 3", "ost 3"});
    REQUIRE(r.osts.size() == 2);
    CHECK(r.osts[0].present);
    CHECK_FALSE(r.osts[1].present);
}

TEST_CASE("cpu hotplug: malformed OST writes report nothing", "[cpuhp]") {
    CpuHotplugRig r;
    SECTION("a selector past the possible CPUs") {
        for (uint32_t bad : {4u, 5u, 0x80000000u, 0xffffffffu}) r.ost(bad, 3, 0x81);
        CHECK(r.osts.empty());
        for (const CpuOstReport& report : r.hp->cpu_ospm_status()) CHECK((report.source | report.status) == 0);
    }
    SECTION("command data written under the other commands") {
        r.select(1);
        for (uint8_t c : {uint8_t(R::NEXT_EVENT), uint8_t(R::CPU_ID), uint8_t(R::OST_EVENT), uint8_t(0x7f)}) {
            r.command(c);
            r.ctx.out(HP + R::DATA, 0x81, 4);
        }
        r.ctx.loop.run_once(0);
        CHECK(r.osts.empty());
        CHECK(r.hp->cpu_ospm_status()[1].status == 0);
    }
    SECTION("the OST status at other offsets") {
        r.select(1);
        r.command(R::OST_STATUS);
        for (uint16_t off : {1, 2, 3, 4, 6, 7, 9, 10, 11, 12, 31}) r.ctx.out(HP + off, 0, 1);
        r.ctx.loop.run_once(0);
        CHECK(r.osts.empty());
    }
}

TEST_CASE("cpu hotplug: _OST writes raise nothing", "[cpuhp]") {
    CpuHotplugRig r;
    r.select(0);
    r.command(R::OST_EVENT);
    r.ctx.out(HP + R::DATA, 0x103, 4);
    r.command(R::OST_STATUS);
    r.ctx.out(HP + R::DATA, 0x80, 4);
    r.command(R::NEXT_EVENT);
    CHECK(r.data() == 0);  // OST writes select nothing, raise nothing
    CHECK_FALSE(r.sci());
    CHECK(r.ejected.empty());
}

TEST_CASE("cpu hotplug: malformed accesses change nothing", "[cpuhp]") {
    CpuHotplugRig r;
    SECTION("a selector past the possible CPUs: reads 0, writes ignored") {
        r.select(4);
        CHECK(r.flags() == 0);
        CHECK(r.data() == 0);
        r.control(EJECT);
        r.command(R::CPU_ID);
        r.select(0xffffffff);
        r.ctx.out(HP + R::DATA, 0xdeadbeef, 4);
        CHECK(r.ctx.in(HP + R::SELECTOR, 4) == 0);
        r.select(0);
        CHECK(r.flags() == PRESENT);
        r.command(R::NEXT_EVENT);
        CHECK(r.data() == 0);
        CHECK(r.ejected.empty());
    }
    SECTION("the boot CPU and absent CPUs cannot be ejected") {
        r.select(0);
        r.control(EJECT);
        r.control(FW_REMOVE);
        CHECK(r.flags() == PRESENT);
        r.select(2);
        r.control(EJECT);
        CHECK(r.ejected.empty());
        CHECK(r.flags() == 0);
    }
    SECTION("unknown commands are ignored; reserved offsets read 0") {
        r.command(R::CPU_ID);
        r.command(0x7f);
        r.select(1);
        CHECK(r.data() == 2);  // still CPU_ID: APIC ID of CPU 1
        for (uint16_t off : {1, 2, 3, 5, 6, 7, 9, 10, 11, 12, 31})
            CHECK(r.ctx.in(HP + off, 1) == 0);
    }
    SECTION("any access size, little-endian") {
        r.ctx.out(HP + R::SELECTOR, 0x0301, 2);  // selector 0x301: out of range
        CHECK(r.flags() == 0);
        r.ctx.out(HP + R::SELECTOR, 0, 1);  // the whole selector, from one byte
        CHECK(r.ctx.in(HP + R::FLAGS, 4) == PRESENT);
        CHECK(r.ctx.in(HP + R::FLAGS, 2) == PRESENT);
    }
    SECTION("events for CPUs that cannot exist are dropped") {
        r.hp->cpu_plugged(4);
        r.hp->cpu_plugged(1000);
        r.hp->request_cpu_unplug(2);  // absent
        CHECK_FALSE(r.sci());
        CHECK_FALSE(r.hp->cpu_unplug_requested(4));
    }
}

TEST_CASE("cpu hotplug: _OST event and status land in the selected CPU's state", "[cpuhp]") {
    CpuHotplugRegs regs({0, 1}, nullptr, nullptr);
    auto out = [&](uint64_t offset, uint32_t value, size_t size) {
        regs.write(offset, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&value), size));
    };
    out(R::SELECTOR, 0, 4);  // out of the legacy mode
    out(R::SELECTOR, 1, 4);
    out(R::COMMAND, R::OST_EVENT, 1);
    out(R::DATA, 0x103, 4);
    out(R::COMMAND, R::OST_STATUS, 1);
    out(R::DATA, 0x80, 4);
    CpuHotplugState s = regs.state();
    CHECK(s.slots[1].ost_event == 0x103);
    CHECK(s.slots[1].ost_status == 0x80);
    CHECK(s.slots[0].ost_event == 0);
    regs.plugged(1);  // no GPE callback: no crash
    CHECK(regs.state().slots[1].inserting);
}
