#pragma once
// One graphic console: a display device's screen as the UI keeps it. The
// device's DisplaySource draws into the console's surface; listeners (a VNC
// server) hear of new sizes and drawn rectangles on the display thread;
// screendump takes a snapshot on the caller's thread.
#include "ui/display_source.h"

#include <atomic>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

class DisplayListener {
public:
    virtual ~DisplayListener() = default;
    // On the display thread, one call at a time, no console lock held. The
    // surface's buffer stays valid while the listener holds it.
    virtual void display_resized(const Surface& surface) = 0;
    virtual void display_updated(const Surface& surface, std::span<const Rect> rects) = 0;
};

class Console {
public:
    // `device`: the display device's QOM path or id, as screendump's
    // device= names it.
    Console(std::string device, std::string qom_path, DisplaySource& source);

    const std::string& device() const { return device_; }
    const std::string& qom_path() const { return qom_path_; }
    DisplaySource& source() { return source_; }

    // Any thread: the device's screen changed. Cheap when called often.
    void changed();
    // Renders what changed and returns the picture (screendump). Any thread.
    Surface snapshot();

    // --- For the display thread (DisplayService) ---
    // Renders what changed; true if anything was drawn or resized.
    bool refresh(bool full = false);
    bool take_dirty() { return dirty_.exchange(false); }
    // What the listeners have not heard yet: the surface, whether it was
    // resized, the rectangles drawn. Clears it.
    struct Pending {
        Surface surface;
        bool resized = false;
        std::vector<Rect> damage;
    };
    Pending take_pending();
    // Called by changed() the first time after take_dirty().
    void set_wake(std::function<void()> wake);

private:
    std::string device_;
    std::string qom_path_;
    DisplaySource& source_;
    std::mutex lock_;
    Surface surface_;
    bool resized_ = false;
    std::vector<Rect> damage_;
    std::atomic<bool> dirty_{true};
    std::mutex wake_lock_;
    std::function<void()> wake_;
};

} // namespace kestrel
