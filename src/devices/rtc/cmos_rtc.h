#pragma once
// The MC146818 real-time clock with its 128 bytes of CMOS RAM, at ports 0x70
// (index; bit 7 = NMI disable) and 0x71 (data); IRQ 8.
//
// Time: guest time = host clock + offset. The offset comes from -rtc base=
// (utc, localtime, or a date) and moves when the guest sets the clock. Time
// registers are computed from the clock when read, so nothing ticks while
// the guest does not look. Register A's UIP bit is set in the 244 µs before
// each second changes. Register C's flags (PF, AF, UF) are worked out from
// the clock when C is read or the timer fires; a timerfd on the event loop is
// armed only while an enabled interrupt (PIE with a rate, AIE, UIE) is due and
// IRQF is clear, so an idle RTC costs no wake-ups. IRQ 8 is high while IRQF
// is set and drops when the guest reads register C.
//
// Machine reset clears the interrupt enables and flags (register B PIE, AIE,
// UIE, SQWE and register C) as the chip's RESET pin does; time and CMOS RAM
// are battery-backed and survive.
#include "devices/rtc/rtc_config.h"
#include "devices/bus_device.h"
#include "base/irq_line.h"
#include "devices/rtc/rtc_clock.h"
#include "devices/rtc/rtc_time.h"
#include "base/event_loop.h"
#include "base/unique_fd.h"
#include "block/hd_geometry.h"

#include <array>
#include <memory>
#include <mutex>
#include <string_view>
#include <optional>

namespace kestrel {

class CmosRtc final : public BusDevice {
public:
    static constexpr uint16_t kPort = 0x70;
    static constexpr uint64_t kLength = 2;
    static constexpr uint8_t kIrq = 8;

    // clock null: the host clock named by cfg.clock. Call on the loop thread
    // (or before run()): it registers a timerfd with loop.
    CmosRtc(IrqLine& irq, EventLoop& loop, const RtcConfig& cfg,
            std::shared_ptr<RtcClock> clock = nullptr);
    ~CmosRtc() override;
    CmosRtc(const CmosRtc&) = delete;
    CmosRtc& operator=(const CmosRtc&) = delete;

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;
    void reset();

    // Board set-up (before the guest runs). Bytes 0x10-0x2d keep their
    // checksum at 0x2e/0x2f up to date.
    void set_memory_size(uint64_t below_4g, uint64_t above_4g);
    void set_cpu_count(unsigned cpus);
    // QEMU's pc boot order for the BIOS (0x3d, 0x38): up to three devices,
    // 'a'/'b' floppy, 'c' disk, 'd' CD-ROM, 'n' network; "cad" by default.
    void set_boot_order(std::string_view order);
    // The IDE hard disks (ide0 master, ide0 slave, ide1 master, ide1 slave;
    // nullopt: none or a CD drive) as QEMU's pc describes them: the first
    // two's types and geometry (0x12, 0x19-0x2c), every one's BIOS
    // translation (0x39), which SeaBIOS turns into int 13h's geometry.
    void set_hard_disks(const std::array<std::optional<HdGeometry>, 4>& disks);
    void set_cmos_byte(uint8_t index, uint8_t value);
    uint8_t cmos_byte(uint8_t index) const;  // raw RAM (time registers as last stored)

    // The timerfd's handler; tests call it after moving their clock.
    void on_timer();
    // Host time (RtcClock ns) the timer is armed for; nullopt when idle.
    std::optional<int64_t> timer_deadline_ns() const;
    // The guest's clock, seconds since the epoch, as the registers show it.
    int64_t guest_seconds() const;

private:
    uint8_t read_register(uint8_t index);
    void write_register(uint8_t index, uint8_t value);
    void write_register_a(uint8_t value);
    void write_register_b(uint8_t value);
    uint8_t read_register_c();
    void write_time_register(uint8_t index, uint8_t value);

    RtcFormat format() const;
    bool frozen() const;          // SET or divider reset: the registers do not update
    bool divider_in_reset() const;
    int64_t guest_ns(int64_t host_ns) const { return host_ns + offset_ns_; }
    uint8_t time_register(uint8_t index, int64_t guest_sec) const;
    void store_time_registers(int64_t guest_sec);
    bool load_time_registers(int64_t& guest_sec) const;
    void enter_frozen();
    void leave_frozen(bool from_divider_reset);
    void restart_counting(int64_t host_ns);

    bool alarm_matches(int64_t guest_sec) const;
    bool alarm_between(int64_t first_sec, int64_t last_sec) const;
    uint32_t periodic_units() const;  // period in 1/32768 s, 0 = off
    void catch_up(int64_t host_ns);
    void update_irq();
    std::optional<int64_t> next_event_ns(int64_t host_ns) const;
    void arm_timer();
    void update_checksum();

    IrqLine& irq_;
    EventLoop& loop_;
    std::shared_ptr<RtcClock> clock_;
    UniqueFd timer_fd_;
    mutable std::mutex lock_;

    std::array<uint8_t, 128> cmos_{};
    uint8_t index_ = 0;
    bool nmi_disabled_ = false;
    int64_t offset_ns_ = 0;
    int64_t last_update_sec_ = 0;    // the guest second UF/AF are accounted up to
    int64_t last_periodic_tick_ = 0;
    std::optional<int64_t> armed_deadline_;
    bool irq_level_ = false;
    mutable bool logged_bad_time_ = false;
};

} // namespace kestrel
