#include "devices/rtc/cmos_rtc.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace kestrel {

namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kUipWindowNs = 244'000;  // UIP rises this long before an update
constexpr int64_t kDividerStartPhaseNs = kNsPerSec / 2;  // first update 500 ms after divider reset
constexpr int64_t kTimeBase = 32768;

// Register indexes.
constexpr uint8_t kSeconds = 0x00, kSecondsAlarm = 0x01, kMinutes = 0x02, kMinutesAlarm = 0x03,
                  kHours = 0x04, kHoursAlarm = 0x05, kWeekday = 0x06, kDayOfMonth = 0x07,
                  kMonth = 0x08, kYear = 0x09, kRegA = 0x0a, kRegB = 0x0b, kRegC = 0x0c,
                  kRegD = 0x0d, kCentury = 0x32;

constexpr uint8_t kAUip = 0x80, kADividerResetBits = 0x60,
                  kARateMask = 0x0f;
constexpr uint8_t kBSet = 0x80, kBPie = 0x40, kBAie = 0x20, kBUie = 0x10, kBSqwe = 0x08,
                  kBBinary = 0x04, kB24Hour = 0x02;
constexpr uint8_t kCIrqf = 0x80, kCPf = 0x40, kCAf = 0x20, kCUf = 0x10;
constexpr uint8_t kDValidRam = 0x80;
constexpr uint8_t kAlarmDontCare = 0xc0;

constexpr uint8_t kPowerOnRegA = 0x26;  // 32.768 kHz time base, 1024 Hz periodic rate
constexpr uint8_t kPowerOnRegB = kB24Hour;

int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

bool is_time_register(uint8_t index) {
    return index == kSeconds || index == kMinutes || index == kHours ||
           (index >= kWeekday && index <= kYear) || index == kCentury;
}

// Counts of 1/32768 s since the epoch, exact and without overflow.
int64_t time_base_ticks(int64_t host_ns) {
    int64_t sec = floor_div(host_ns, kNsPerSec);
    return sec * kTimeBase + (host_ns - sec * kNsPerSec) * kTimeBase / kNsPerSec;
}

int64_t ns_at_time_base_tick(int64_t ticks) {
    int64_t sec = floor_div(ticks, kTimeBase);
    int64_t rem = ticks - sec * kTimeBase;
    return sec * kNsPerSec + (rem * kNsPerSec + kTimeBase - 1) / kTimeBase;
}

int64_t initial_offset_ns(const RtcConfig& cfg, int64_t host_ns) {
    switch (cfg.base) {
    case RtcConfig::Base::Utc: return 0;
    case RtcConfig::Base::Localtime: {
        std::time_t now = std::time_t(floor_div(host_ns, kNsPerSec));
        std::tm local{};
        localtime_r(&now, &local);
        return int64_t(local.tm_gmtoff) * kNsPerSec;
    }
    case RtcConfig::Base::Date: return int64_t(cfg.date) * kNsPerSec - host_ns;
    }
    return 0;
}

} // namespace

CmosRtc::CmosRtc(IrqLine& irq, EventLoop& loop, const RtcConfig& cfg, std::shared_ptr<RtcClock> clock)
    : irq_(irq), loop_(loop), clock_(clock ? std::move(clock) : make_host_rtc_clock(cfg.clock)) {
    timer_fd_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!timer_fd_) throw std::runtime_error(std::string("rtc: timerfd: ") + std::strerror(errno));
    loop_.add_fd(timer_fd_.get(), EPOLLIN, [this](uint32_t) {
        uint64_t expirations;
        while (::read(timer_fd_.get(), &expirations, sizeof expirations) > 0) {}
        on_timer();
    });
    cmos_[kRegA] = kPowerOnRegA;
    cmos_[kRegB] = kPowerOnRegB;
    cmos_[kRegD] = kDValidRam;
    int64_t host = clock_->now_ns();
    offset_ns_ = initial_offset_ns(cfg, host);
    restart_counting(host);
}

CmosRtc::~CmosRtc() { loop_.remove_fd(timer_fd_.get()); }

void CmosRtc::reset() {
    std::lock_guard guard(lock_);
    catch_up(clock_->now_ns());
    cmos_[kRegB] &= uint8_t(~(kBPie | kBAie | kBUie | kBSqwe));
    cmos_[kRegC] = 0;
    index_ = 0;
    nmi_disabled_ = false;
    update_irq();
    arm_timer();
}

void CmosRtc::read(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard guard(lock_);
    for (size_t i = 0; i < data.size(); ++i) {
        // The index port is write-only; it reads as all ones, like QEMU's.
        data[i] = offset + i == 1 ? read_register(index_) : 0xff;
    }
}

void CmosRtc::write(uint64_t offset, std::span<const uint8_t> data) {
    std::lock_guard guard(lock_);
    for (size_t i = 0; i < data.size(); ++i) {
        if (offset + i == 0) {
            index_ = data[i] & 0x7f;
            nmi_disabled_ = data[i] & 0x80;  // kept; KVM's NMIs are not gated by it
        } else if (offset + i == 1) {
            write_register(index_, data[i]);
        }
    }
}

uint8_t CmosRtc::read_register(uint8_t index) {
    if (is_time_register(index)) {
        if (frozen()) return cmos_[index];
        return time_register(index, floor_div(guest_ns(clock_->now_ns()), kNsPerSec));
    }
    switch (index) {
    case kRegA: {
        uint8_t uip = 0;
        if (!frozen() && floor_mod(guest_ns(clock_->now_ns()), kNsPerSec) >= kNsPerSec - kUipWindowNs)
            uip = kAUip;
        return uint8_t((cmos_[kRegA] & ~kAUip) | uip);
    }
    case kRegC: return read_register_c();
    case kRegD: return kDValidRam;
    default: return cmos_[index];
    }
}

void CmosRtc::write_register(uint8_t index, uint8_t value) {
    if (is_time_register(index)) {
        write_time_register(index, value);
        return;
    }
    switch (index) {
    case kRegA: write_register_a(value); break;
    case kRegB: write_register_b(value); break;
    case kRegC:
    case kRegD: break;  // read-only
    case kSecondsAlarm:
    case kMinutesAlarm:
    case kHoursAlarm:
        cmos_[index] = value;
        arm_timer();
        break;
    default: cmos_[index] = value; break;
    }
}

void CmosRtc::write_register_a(uint8_t value) {
    int64_t host = clock_->now_ns();
    catch_up(host);
    bool was_frozen = frozen();
    bool was_reset = divider_in_reset();
    uint32_t old_units = periodic_units();
    cmos_[kRegA] = value & uint8_t(~kAUip);
    if (!was_frozen && frozen()) enter_frozen();
    if (was_frozen && !frozen()) leave_frozen(was_reset);
    if (periodic_units() != old_units && periodic_units() != 0)
        last_periodic_tick_ = floor_div(time_base_ticks(host), periodic_units());
    update_irq();
    arm_timer();
}

void CmosRtc::write_register_b(uint8_t value) {
    catch_up(clock_->now_ns());
    bool was_frozen = frozen();
    if (value & kBSet) value &= uint8_t(~kBUie);  // setting SET clears UIE
    cmos_[kRegB] = value;
    if (!was_frozen && frozen()) enter_frozen();
    if (was_frozen && !frozen()) leave_frozen(false);
    update_irq();  // IRQF follows the enables at once
    arm_timer();
}

uint8_t CmosRtc::read_register_c() {
    catch_up(clock_->now_ns());
    uint8_t v = cmos_[kRegC];
    cmos_[kRegC] = 0;
    update_irq();
    arm_timer();
    return v;
}

// Writing one time register while the clock runs moves the clock: the
// other fields and the position within the second stay as they were.
void CmosRtc::write_time_register(uint8_t index, uint8_t value) {
    if (frozen()) {
        cmos_[index] = value;
        return;
    }
    int64_t host = clock_->now_ns();
    catch_up(host);
    int64_t now_ns = guest_ns(host);
    store_time_registers(floor_div(now_ns, kNsPerSec));
    cmos_[index] = value;
    int64_t sec;
    if (load_time_registers(sec)) {
        offset_ns_ = sec * kNsPerSec + floor_mod(now_ns, kNsPerSec) - host;
        restart_counting(host);
    }
    arm_timer();
}

RtcFormat CmosRtc::format() const {
    return RtcFormat{(cmos_[kRegB] & kBBinary) != 0, (cmos_[kRegB] & kB24Hour) != 0};
}

bool CmosRtc::divider_in_reset() const {
    return (cmos_[kRegA] & kADividerResetBits) == kADividerResetBits;
}

bool CmosRtc::frozen() const { return (cmos_[kRegB] & kBSet) || divider_in_reset(); }

uint8_t CmosRtc::time_register(uint8_t index, int64_t guest_sec) const {
    std::time_t t = std::time_t(guest_sec);
    std::tm tm{};
    gmtime_r(&t, &tm);
    RtcFormat f = format();
    int year = tm.tm_year + 1900;
    switch (index) {
    case kSeconds: return rtc_encode(tm.tm_sec, f);
    case kMinutes: return rtc_encode(tm.tm_min, f);
    case kHours: return rtc_encode_hour(tm.tm_hour, f);
    case kWeekday: return rtc_encode(tm.tm_wday + 1, f);  // Sunday = 1
    case kDayOfMonth: return rtc_encode(tm.tm_mday, f);
    case kMonth: return rtc_encode(tm.tm_mon + 1, f);
    case kYear: return rtc_encode(year % 100, f);
    case kCentury: return rtc_encode(year / 100, f);
    default: return cmos_[index];
    }
}

void CmosRtc::store_time_registers(int64_t guest_sec) {
    for (uint8_t index : {kSeconds, kMinutes, kHours, kWeekday, kDayOfMonth, kMonth, kYear, kCentury})
        cmos_[index] = time_register(index, guest_sec);
}

// Reads the time the registers hold; false if they hold no valid date.
bool CmosRtc::load_time_registers(int64_t& guest_sec) const {
    RtcFormat f = format();
    std::tm tm{};
    tm.tm_sec = rtc_decode(cmos_[kSeconds], f);
    tm.tm_min = rtc_decode(cmos_[kMinutes], f);
    tm.tm_hour = rtc_decode_hour(cmos_[kHours], f);
    tm.tm_mday = rtc_decode(cmos_[kDayOfMonth], f);
    tm.tm_mon = rtc_decode(cmos_[kMonth], f) - 1;
    tm.tm_year = rtc_decode(cmos_[kCentury], f) * 100 + rtc_decode(cmos_[kYear], f) - 1900;
    bool valid = tm.tm_sec <= 59 && tm.tm_min <= 59 && tm.tm_hour <= 23 && tm.tm_mday >= 1 &&
                 tm.tm_mday <= 31 && tm.tm_mon >= 0 && tm.tm_mon <= 11;
    if (!valid) {
        if (!logged_bad_time_)
            spdlog::debug("rtc: guest wrote an invalid time; the clock keeps its value");
        logged_bad_time_ = true;
        return false;
    }
    guest_sec = int64_t(timegm(&tm));
    // The clock counts nanoseconds in 64 bits, with room for the host's
    // time added: years about 1824-2116. A guest's century register may
    // say anything (25599 in binary mode); such a date is not taken.
    constexpr int64_t kMaxSec = std::numeric_limits<int64_t>::max() / kNsPerSec / 2;
    if (guest_sec > kMaxSec || guest_sec < -kMaxSec) {
        if (!logged_bad_time_)
            spdlog::debug("rtc: guest wrote a date the clock cannot hold; the clock keeps its value");
        logged_bad_time_ = true;
        return false;
    }
    return true;
}

void CmosRtc::enter_frozen() {
    store_time_registers(floor_div(guest_ns(clock_->now_ns()), kNsPerSec));
}

// The clock restarts from what the guest left in the registers.
void CmosRtc::leave_frozen(bool from_divider_reset) {
    int64_t host = clock_->now_ns();
    int64_t sec;
    if (load_time_registers(sec)) {
        int64_t phase = from_divider_reset ? kDividerStartPhaseNs : floor_mod(guest_ns(host), kNsPerSec);
        offset_ns_ = sec * kNsPerSec + phase - host;
    }
    restart_counting(host);
}

void CmosRtc::restart_counting(int64_t host_ns) {
    last_update_sec_ = floor_div(guest_ns(host_ns), kNsPerSec);
    if (uint32_t units = periodic_units()) last_periodic_tick_ = floor_div(time_base_ticks(host_ns), units);
}

bool CmosRtc::alarm_matches(int64_t guest_sec) const {
    int64_t sod = floor_mod(guest_sec, kSecondsPerDay);
    RtcFormat f = format();
    auto match = [](uint8_t alarm, uint8_t now) {
        return (alarm & kAlarmDontCare) == kAlarmDontCare || alarm == now;
    };
    return match(cmos_[kSecondsAlarm], rtc_encode(int(sod % 60), f)) &&
           match(cmos_[kMinutesAlarm], rtc_encode(int(sod / 60 % 60), f)) &&
           match(cmos_[kHoursAlarm], rtc_encode_hour(int(sod / 3600), f));
}

// Whether an update in [first_sec, last_sec] hit the alarm. Every alarm
// repeats within a day, so a longer span needs only its last day.
bool CmosRtc::alarm_between(int64_t first_sec, int64_t last_sec) const {
    for (int64_t s = std::max(first_sec, last_sec - kSecondsPerDay + 1); s <= last_sec; ++s)
        if (alarm_matches(s)) return true;
    return false;
}

uint32_t CmosRtc::periodic_units() const {
    unsigned rs = cmos_[kRegA] & kARateMask;
    if (rs == 0 || divider_in_reset()) return 0;
    if (rs == 1) return 128;  // 256 Hz
    if (rs == 2) return 256;  // 128 Hz
    return 1u << (rs - 1);    // 8192 Hz (rs 3) down to 2 Hz (rs 15)
}

// Sets the flags for everything that happened since the last look.
void CmosRtc::catch_up(int64_t host_ns) {
    if (!frozen()) {
        int64_t sec = floor_div(guest_ns(host_ns), kNsPerSec);
        if (sec > last_update_sec_) {
            cmos_[kRegC] |= kCUf;
            if (alarm_between(last_update_sec_ + 1, sec)) cmos_[kRegC] |= kCAf;
        }
        last_update_sec_ = sec;
    }
    if (uint32_t units = periodic_units()) {
        int64_t tick = floor_div(time_base_ticks(host_ns), units);
        if (tick > last_periodic_tick_) cmos_[kRegC] |= kCPf;
        last_periodic_tick_ = tick;
    }
    update_irq();
}

void CmosRtc::update_irq() {
    uint8_t flags = cmos_[kRegC] & cmos_[kRegB] & (kCPf | kCAf | kCUf);
    if (flags) cmos_[kRegC] |= kCIrqf;
    else cmos_[kRegC] &= uint8_t(~kCIrqf);
    bool level = cmos_[kRegC] & kCIrqf;
    if (level == irq_level_) return;
    irq_level_ = level;
    irq_.set_level(level);
}

// The next moment an enabled interrupt can fire; none while IRQF is still
// set (the guest has not read C, so nothing new would reach it).
std::optional<int64_t> CmosRtc::next_event_ns(int64_t host_ns) const {
    if (cmos_[kRegC] & kCIrqf) return std::nullopt;
    std::optional<int64_t> next;
    auto consider = [&next](int64_t t) { next = next ? std::min(*next, t) : t; };
    uint8_t b = cmos_[kRegB];
    if ((b & kBPie) && periodic_units()) {
        uint32_t units = periodic_units();
        int64_t tick = floor_div(time_base_ticks(host_ns), units);
        consider(ns_at_time_base_tick((tick + 1) * units));
    }
    if ((b & (kBUie | kBAie)) && !frozen()) {
        int64_t sec = floor_div(guest_ns(host_ns), kNsPerSec);
        if (b & kBUie) consider((sec + 1) * kNsPerSec - offset_ns_);
        if (b & kBAie) {
            for (int64_t s = sec + 1; s <= sec + kSecondsPerDay; ++s) {
                if (alarm_matches(s)) {
                    consider(s * kNsPerSec - offset_ns_);
                    break;
                }
            }
        }
    }
    return next;
}

void CmosRtc::arm_timer() {
    int64_t host = clock_->now_ns();
    std::optional<int64_t> next = next_event_ns(host);
    if (next == armed_deadline_) return;
    armed_deadline_ = next;
    itimerspec spec{};
    if (next) {
        int64_t delay = std::max<int64_t>(*next - host, 1000);
        spec.it_value.tv_sec = delay / kNsPerSec;
        spec.it_value.tv_nsec = delay % kNsPerSec;
    }
    timerfd_settime(timer_fd_.get(), 0, &spec, nullptr);
}

void CmosRtc::on_timer() {
    std::lock_guard guard(lock_);
    armed_deadline_.reset();  // it fired (or a test says so): arm afresh
    catch_up(clock_->now_ns());
    arm_timer();
}

std::optional<int64_t> CmosRtc::timer_deadline_ns() const {
    std::lock_guard guard(lock_);
    return armed_deadline_;
}

int64_t CmosRtc::guest_seconds() const {
    std::lock_guard guard(lock_);
    int64_t sec;
    if (frozen() && load_time_registers(sec)) return sec;
    return floor_div(guest_ns(clock_->now_ns()), kNsPerSec);
}

} // namespace kestrel
