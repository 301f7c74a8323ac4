#pragma once
// The memory balloon as the monitors see it: HMP "balloon" and "info
// balloon", QMP balloon, query-balloon and BALLOON_CHANGE, and the guest
// statistics libvirt reads with qom-get. The virtio-balloon device offers
// it in the ServiceRegistry; without one, the monitors answer as QEMU
// does ("No balloon device has been activated").
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace kestrel {

// The guest's memory statistics by tag (VIRTIO 1.2 §5.5.6.3), named as
// QEMU's "guest-stats" property names them.
inline constexpr std::array<std::string_view, 10> kBalloonStatNames = {
    "stat-swap-in",     "stat-swap-out",         "stat-major-faults", "stat-minor-faults",
    "stat-free-memory", "stat-total-memory",     "stat-available-memory",
    "stat-disk-caches", "stat-htlb-pgalloc",     "stat-htlb-pgfail",
};

struct BalloonGuestStats {
    int64_t last_update = 0;  // host wall-clock seconds of the guest's last report; 0: none yet
    std::array<uint64_t, kBalloonStatNames.size()> values{};  // UINT64_MAX: not reported
};

class BalloonService {
public:
    virtual ~BalloonService() = default;

    // The device's QOM path: where qom-get finds "guest-stats".
    virtual const std::string& qom_path() const = 0;
    // Guest RAM minus what the guest has given to the balloon, in bytes.
    virtual uint64_t actual() const = 0;
    // Asks the guest to keep `target` bytes (more than its RAM: all of it).
    virtual void set_target(uint64_t target) = 0;

    virtual BalloonGuestStats guest_stats() const = 0;
    virtual int64_t stats_polling_interval() const = 0;
    // Seconds between requests for statistics, 0 for none; the caller has
    // checked it with balloon_polling_interval_error.
    virtual void set_stats_polling_interval(int64_t seconds) = 0;

    // `listener` (or none) is called on the main loop with actual() each
    // time the guest reports a new balloon size.
    virtual void on_change(std::function<void(uint64_t actual)> listener) = 0;
};

// Where BALLOON_CHANGE goes: the monitors set the listener once; whichever
// balloon is plugged (at start-up or by device_add) reports through it, so
// nothing outside the device holds the balloon itself. In the
// ServiceRegistry; called on the main loop.
class BalloonEvents {
public:
    void on_change(std::function<void(uint64_t actual)> listener) { listener_ = std::move(listener); }
    void changed(uint64_t actual) const {
        if (listener_) listener_(actual);
    }

private:
    std::function<void(uint64_t)> listener_;
};

// QEMU's checks of guest-stats-polling-interval; the error text, if any.
inline std::optional<std::string> balloon_polling_interval_error(int64_t seconds) {
    if (seconds < 0) return "timer value must be greater than zero";
    if (seconds > int64_t(UINT32_MAX)) return "timer value is too big";
    return std::nullopt;
}

} // namespace kestrel
