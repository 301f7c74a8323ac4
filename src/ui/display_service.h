#pragma once
// The machine's displays: one console per display device, and the display
// thread that keeps the watched ones up to date for their listeners (a VNC
// server). Nothing runs while nobody watches: no thread, no timer. While
// someone does, a device's changed() wakes the thread (at most one refresh
// per 30 ms); screens the guest writes without exits (dirty-logged VRAM)
// are looked at every 30 ms while they change, backing off to 3 s while
// they do not, as QEMU's VNC refresh does. Registered in the machine's
// ServiceRegistry; screendump, VNC and the display devices find it there.
#include "ui/console.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace kestrel {

class DisplayService {
public:
    static constexpr int kRefreshMs = 30;
    static constexpr int kPollStepMs = 50;
    static constexpr int kPollMaxMs = 3000;

    DisplayService() = default;
    ~DisplayService();
    DisplayService(const DisplayService&) = delete;
    DisplayService& operator=(const DisplayService&) = delete;

    // Consoles are made while the machine is built (before any listener).
    Console& add_console(std::string device, std::string qom_path, DisplaySource& source);
    const std::vector<std::unique_ptr<Console>>& consoles() const { return consoles_; }
    // The console of the display device with qdev id `id` and `head` (a
    // device has one head); nullptr if there is none.
    Console* find(const std::string& id, unsigned head) const;

    // From now on `listener` hears of `console`'s changes; it first gets
    // display_resized with the current picture.
    void add_listener(Console& console, DisplayListener& listener);
    void remove_listener(DisplayListener& listener);
    // Someone typed or moved the pointer: the guest will likely draw soon,
    // so look often again (ends the poll back-off).
    void input_activity();
    // Stops the display thread (the machine's teardown, before listeners go).
    void stop();

private:
    struct Watch {
        Console* console;
        DisplayListener* listener;
        bool greeted = false;
    };
    struct State;  // per console timing, on the display thread
    void run();
    void start_locked();

    std::vector<std::unique_ptr<Console>> consoles_;
    std::mutex lock_;
    std::condition_variable wake_;
    std::condition_variable delivered_;
    std::vector<Watch> watches_;
    bool woken_ = false;
    bool delivering_ = false;
    bool activity_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace kestrel
