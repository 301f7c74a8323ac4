#include "devices/rtc/cmos_rtc.h"
#include "misc_test_fakes.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>

using namespace kestrel;
using namespace kestrel::test;

namespace {

constexpr int64_t kSec = 1'000'000'000;

struct FakeClock final : RtcClock {
    int64_t now = 0;
    int64_t now_ns() const override { return now; }
};

// 2024-03-15 13:45:30 UTC, a Friday.
constexpr int64_t kFriday = 1710510330;

struct Rig {
    explicit Rig(RtcConfig cfg = {}, int64_t start_ns = kFriday * kSec)
        : clock(std::make_shared<FakeClock>()) {
        clock->now = start_ns;
        rtc = std::make_unique<CmosRtc>(irq, loop, cfg, clock);
    }
    uint8_t reg(uint8_t index) {
        outb(*rtc, 0, index);
        return inb(*rtc, 1);
    }
    void set(uint8_t index, uint8_t value) {
        outb(*rtc, 0, index);
        outb(*rtc, 1, value);
    }
    void advance(int64_t ns) {
        clock->now += ns;
        rtc->on_timer();
    }

    FakeIrq irq;
    EventLoop loop;
    std::shared_ptr<FakeClock> clock;
    std::unique_ptr<CmosRtc> rtc;
};

} // namespace

TEST_CASE("rtc: time registers in BCD, 24-hour by default") {
    Rig r;
    CHECK(r.reg(0x00) == 0x30);
    CHECK(r.reg(0x02) == 0x45);
    CHECK(r.reg(0x04) == 0x13);
    CHECK(r.reg(0x06) == 0x06);  // Friday; Sunday = 1
    CHECK(r.reg(0x07) == 0x15);
    CHECK(r.reg(0x08) == 0x03);
    CHECK(r.reg(0x09) == 0x24);
    CHECK(r.reg(0x32) == 0x20);  // century
    CHECK(r.reg(0x0a) == 0x26);
    CHECK(r.reg(0x0b) == 0x02);
    CHECK(r.reg(0x0d) == 0x80);
}

TEST_CASE("rtc: binary mode and 12-hour mode") {
    Rig r;
    r.set(0x0b, 0x06);  // binary, 24h
    CHECK(r.reg(0x00) == 30);
    CHECK(r.reg(0x04) == 13);
    CHECK(r.reg(0x09) == 24);
    r.set(0x0b, 0x04);  // binary, 12h
    CHECK(r.reg(0x04) == (0x80 | 1));
    r.set(0x0b, 0x00);  // BCD, 12h
    CHECK(r.reg(0x04) == 0x81);
    r.clock->now = (kFriday - 13 * 3600 - 45 * 60 - 30) * kSec;  // midnight
    CHECK(r.reg(0x04) == 0x12);
    r.clock->now += 12 * 3600 * kSec;  // noon
    CHECK(r.reg(0x04) == 0x92);
    r.clock->now += 11 * 3600 * kSec;  // 23:00
    CHECK(r.reg(0x04) == 0x91);
}

TEST_CASE("rtc: 12/24-hour conversions") {
    RtcFormat h12{false, false};
    for (int h = 0; h < 24; ++h) CHECK(rtc_decode_hour(rtc_encode_hour(h, h12), h12) == h);
    CHECK(rtc_encode_hour(0, h12) == 0x12);
    CHECK(rtc_encode_hour(12, h12) == 0x92);
    RtcFormat bin12{true, false};
    CHECK(rtc_encode_hour(23, bin12) == (0x80 | 11));
    CHECK(rtc_encode(59, RtcFormat{}) == 0x59);
    CHECK(rtc_decode(0x59, RtcFormat{}) == 59);
}

TEST_CASE("rtc: UIP is set only in the 244 us before a second changes") {
    Rig r;
    r.clock->now = kFriday * kSec + 500'000'000;
    CHECK((r.reg(0x0a) & 0x80) == 0);
    r.clock->now = (kFriday + 1) * kSec - 200'000;
    CHECK((r.reg(0x0a) & 0x80) == 0x80);
    CHECK(r.reg(0x00) == 0x30);  // still the old second
    r.clock->now = (kFriday + 1) * kSec - 250'000;
    CHECK((r.reg(0x0a) & 0x80) == 0);
    r.clock->now = (kFriday + 1) * kSec;
    CHECK((r.reg(0x0a) & 0x80) == 0);
    CHECK(r.reg(0x00) == 0x31);
    r.set(0x0b, 0x82);  // SET: no updates, no UIP
    r.clock->now = (kFriday + 2) * kSec - 100'000;
    CHECK((r.reg(0x0a) & 0x80) == 0);
}

TEST_CASE("rtc: idle RTC arms no timer; update interrupt raises IRQ until C is read") {
    Rig r;
    CHECK_FALSE(r.rtc->timer_deadline_ns());
    r.advance(3 * kSec);
    CHECK_FALSE(r.irq.level);
    CHECK((r.reg(0x0c) & 0xd0) == 0x50);  // UF and PF without enables: flags, no interrupt

    r.clock->now += kSec / 4;
    r.set(0x0b, 0x12);  // UIE
    REQUIRE(r.rtc->timer_deadline_ns());
    CHECK(*r.rtc->timer_deadline_ns() == (kFriday + 4) * kSec);
    r.advance(kSec);
    CHECK(r.irq.level);
    CHECK_FALSE(r.rtc->timer_deadline_ns());  // nothing new until the guest reads C
    CHECK((r.reg(0x0c) & 0xb0) == 0x90);      // IRQF | UF (PF runs at rate 6 too)
    CHECK_FALSE(r.irq.level);
    CHECK(r.reg(0x0c) == 0x00);
    CHECK(r.rtc->timer_deadline_ns());

    r.set(0x0b, 0x02);
    CHECK_FALSE(r.rtc->timer_deadline_ns());
}

TEST_CASE("rtc: flags are set while interrupts are off, IRQF follows the enables") {
    Rig r;
    r.advance(2 * kSec);
    CHECK_FALSE(r.irq.level);
    r.set(0x0b, 0x12);  // enabling UIE with UF already pending raises IRQ
    CHECK(r.irq.level);
    CHECK((r.reg(0x0c) & 0xb0) == 0x90);
    CHECK_FALSE(r.irq.level);
}

TEST_CASE("rtc: periodic interrupt at the rate select frequency") {
    Rig r;
    r.set(0x0a, 0x2f);  // rate 15: 2 Hz
    r.set(0x0b, 0x42);  // PIE
    REQUIRE(r.rtc->timer_deadline_ns());
    CHECK(*r.rtc->timer_deadline_ns() == kFriday * kSec + kSec / 2);
    r.advance(kSec / 2 - 1);
    CHECK_FALSE(r.irq.level);
    r.advance(1);
    CHECK(r.irq.level);
    CHECK(r.reg(0x0c) == 0xc0);  // IRQF | PF
    CHECK(*r.rtc->timer_deadline_ns() == (kFriday + 1) * kSec);

    r.set(0x0a, 0x26);  // 1024 Hz
    int64_t period = *r.rtc->timer_deadline_ns() - r.clock->now;
    CHECK(period > 0);
    CHECK(period <= kSec / 1024 + 1);
    r.set(0x0a, 0x23);  // 8192 Hz
    int64_t deadline = *r.rtc->timer_deadline_ns();
    CHECK(deadline - r.clock->now <= kSec / 8192 + 1);
    r.set(0x0a, 0x20);  // rate 0: periodic off
    CHECK_FALSE(r.rtc->timer_deadline_ns());
}

TEST_CASE("rtc: alarm with exact and don't-care values") {
    Rig r;
    r.set(0x01, 0x32);  // 13:45:32
    r.set(0x03, 0x45);
    r.set(0x05, 0x13);
    r.set(0x0b, 0x22);  // AIE
    REQUIRE(r.rtc->timer_deadline_ns());
    CHECK(*r.rtc->timer_deadline_ns() == (kFriday + 2) * kSec);
    r.advance(kSec);
    CHECK_FALSE(r.irq.level);
    r.advance(kSec);
    CHECK(r.irq.level);
    CHECK((r.reg(0x0c) & 0xa0) == 0xa0);

    r.set(0x01, 0x00);  // minutes and hours don't care: every minute at :00
    r.set(0x03, 0xc0);
    r.set(0x05, 0xff);
    CHECK(*r.rtc->timer_deadline_ns() == (kFriday + 30) * kSec);
}

TEST_CASE("rtc: setting the time with SET moves the clock, which keeps running") {
    Rig r;
    r.set(0x0b, 0x82);  // SET
    r.set(0x09, 0x30);  // 2030
    r.set(0x04, 0x08);
    r.clock->now += 10 * kSec;  // frozen: no change while SET
    CHECK(r.reg(0x00) == 0x30);
    CHECK(r.reg(0x09) == 0x30);
    r.set(0x0b, 0x02);
    CHECK(r.reg(0x09) == 0x30);
    CHECK(r.reg(0x04) == 0x08);
    CHECK(r.reg(0x00) == 0x30);
    r.clock->now += 5 * kSec;
    CHECK(r.reg(0x00) == 0x35);
    std::tm tm{};
    std::time_t t = std::time_t(r.rtc->guest_seconds());
    gmtime_r(&t, &tm);
    CHECK(tm.tm_year + 1900 == 2030);
    CHECK(tm.tm_hour == 8);
}

TEST_CASE("rtc: setting SET clears UIE") {
    Rig r;
    r.set(0x0b, 0x92);
    CHECK(r.reg(0x0b) == 0x82);
}

TEST_CASE("rtc: Linux's set_time sequence with divider reset") {
    Rig r;
    r.clock->now += kSec / 5;
    r.set(0x0b, 0x82);
    r.set(0x0a, 0x66);  // divider reset
    r.set(0x00, 0x00);
    r.set(0x02, 0x00);
    r.set(0x04, 0x00);
    r.set(0x07, 0x01);
    r.set(0x08, 0x01);
    r.set(0x09, 0x25);
    r.set(0x0b, 0x02);  // still in divider reset: frozen
    r.clock->now += 3 * kSec;
    CHECK(r.reg(0x00) == 0x00);
    r.set(0x0a, 0x26);  // first update 500 ms later
    r.clock->now += kSec / 2 - 1;
    CHECK(r.reg(0x00) == 0x00);
    r.clock->now += 1;
    CHECK(r.reg(0x00) == 0x01);
    CHECK(r.rtc->guest_seconds() == 1735689601);  // 2025-01-01 00:00:01
}

TEST_CASE("rtc: writing one time register while running") {
    Rig r;
    r.set(0x02, 0x10);  // minutes := 10
    CHECK(r.reg(0x02) == 0x10);
    CHECK(r.reg(0x04) == 0x13);
    CHECK(r.rtc->guest_seconds() == kFriday - 35 * 60);
    r.set(0x08, 0x13);  // invalid month: ignored
    CHECK(r.reg(0x08) == 0x03);
}

TEST_CASE("rtc: a date the 64-bit nanosecond clock cannot hold is not taken (century register 0x99, 0xff)") {
    Rig r;
    const int64_t before = r.rtc->guest_seconds();
    r.set(0x32, 0x99);  // century 99: year 9924, while running
    CHECK(r.rtc->guest_seconds() == before);
    r.set(0x0b, 0x86);  // SET, binary mode
    r.set(0x32, 0xff);  // century 255
    r.set(0x0b, 0x06);
    CHECK(r.rtc->guest_seconds() == before);
    r.clock->now += 2 * kSec;
    CHECK(r.rtc->guest_seconds() == before + 2);
}

TEST_CASE("rtc: base=date and base=localtime") {
    RtcConfig date;
    date.base = RtcConfig::Base::Date;
    date.date = 946684800;  // 2000-01-01 00:00:00
    Rig r(date);
    CHECK(r.reg(0x09) == 0x00);
    CHECK(r.reg(0x32) == 0x20);
    CHECK(r.reg(0x08) == 0x01);
    r.clock->now += 61 * kSec;
    CHECK(r.reg(0x02) == 0x01);
    CHECK(r.reg(0x00) == 0x01);

    const char* old_tz = std::getenv("TZ");
    std::string saved = old_tz ? old_tz : "";
    setenv("TZ", "XST-3", 1);  // three hours east of UTC
    tzset();
    RtcConfig local;
    local.base = RtcConfig::Base::Localtime;
    Rig l(local);
    CHECK(l.reg(0x04) == 0x16);
    if (old_tz) setenv("TZ", saved.c_str(), 1);
    else unsetenv("TZ");
    tzset();
}

TEST_CASE("rtc: CMOS memory size fields and checksum") {
    Rig r;
    auto word = [&](uint8_t lo) { return r.rtc->cmos_byte(lo) | (r.rtc->cmos_byte(uint8_t(lo + 1)) << 8); };
    auto checksum_ok = [&] {
        unsigned sum = 0;
        for (unsigned i = 0x10; i <= 0x2d; ++i) sum += r.rtc->cmos_byte(uint8_t(i));
        unsigned stored = (unsigned(r.rtc->cmos_byte(0x2e)) << 8) | r.rtc->cmos_byte(0x2f);
        return sum != 0 && stored == sum;
    };

    r.rtc->set_memory_size(8ull << 20, 0);
    CHECK(word(0x15) == 640);
    CHECK(word(0x17) == 7 * 1024);
    CHECK(word(0x30) == 7 * 1024);
    CHECK(word(0x34) == 0);
    CHECK(checksum_ok());

    r.rtc->set_memory_size(128ull << 20, 0);
    CHECK(word(0x17) == 0xffff);  // 127 MiB in KiB does not fit: capped
    CHECK(word(0x34) == (112 << 4));  // 112 MiB above 16 MiB in 64 KiB units
    CHECK(r.rtc->cmos_byte(0x5b) == 0);
    CHECK(checksum_ok());

    r.rtc->set_memory_size(0xc0000000ull, 5ull << 30);
    CHECK(word(0x34) == ((0xc0000000 - (16 << 20)) >> 16));
    uint32_t high = r.rtc->cmos_byte(0x5b) | (r.rtc->cmos_byte(0x5c) << 8) | (r.rtc->cmos_byte(0x5d) << 16);
    CHECK(high == (5ull << 30) >> 16);
    CHECK(checksum_ok());

    r.rtc->set_cmos_byte(0x14, 0x06);
    CHECK(checksum_ok());
    CHECK(r.reg(0x14) == 0x06);

    r.rtc->set_cpu_count(4);
    CHECK(r.reg(0x5f) == 3);
}

TEST_CASE("rtc: reset clears enables and flags, keeps time and RAM") {
    Rig r;
    r.set(0x40, 0x5a);
    r.set(0x0b, 0x72);  // PIE, AIE, UIE
    r.advance(kSec);
    REQUIRE(r.irq.level);
    r.rtc->reset();
    CHECK_FALSE(r.irq.level);
    CHECK(r.reg(0x0b) == 0x02);
    CHECK(r.reg(0x0c) == 0x00);
    CHECK(r.reg(0x40) == 0x5a);
    CHECK(r.reg(0x00) == 0x31);
    CHECK_FALSE(r.rtc->timer_deadline_ns());
}

TEST_CASE("rtc: index port reads as all ones and keeps the NMI bit out of the index") {
    Rig r;
    outb(*r.rtc, 0, 0x8b);
    CHECK(inb(*r.rtc, 0) == 0xff);
    CHECK(inb(*r.rtc, 1) == 0x02);  // register B
}

TEST_CASE("rtc: CMOS hard disk types, geometry and BIOS translations as QEMU's pc writes them") {
    Rig r;
    std::array<std::optional<HdGeometry>, 4> disks;
    disks[0] = HdGeometry{16383, 16, 63, BiosTranslation::Lba};
    disks[2] = HdGeometry{4161, 16, 63, BiosTranslation::Large};
    disks[3] = HdGeometry{130, 8, 63, BiosTranslation::None};
    r.rtc->set_hard_disks(disks);
    auto b = [&](uint8_t i) { return unsigned(r.rtc->cmos_byte(i)); };
    CHECK(b(0x12) == 0xf0);  // ide0 master only (the slave is empty)
    CHECK(b(0x19) == 47);
    CHECK(b(0x1a) == 0);
    CHECK((b(0x1b) | b(0x1c) << 8) == 16383);
    CHECK(b(0x1d) == 16);
    CHECK(b(0x1e) == 0xff);
    CHECK(b(0x1f) == 0xff);
    CHECK(b(0x20) == 0xc8);  // more than 8 heads
    CHECK((b(0x21) | b(0x22) << 8) == 16383);
    CHECK(b(0x23) == 63);
    CHECK(b(0x39) == (1u | 2u << 4 | 0u << 6));
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2d; ++i) sum += b(uint8_t(i));
    CHECK(((b(0x2e) << 8) | b(0x2f)) == sum);

    disks = {};
    disks[1] = HdGeometry{520, 8, 63, BiosTranslation::None};
    r.rtc->set_hard_disks(disks);
    CHECK(b(0x12) == 0x0f);
    CHECK(b(0x1a) == 47);
    CHECK(b(0x26) == 8);
    CHECK(b(0x29) == 0xc0);  // 8 heads or fewer
    CHECK(b(0x39) == 0);
}
