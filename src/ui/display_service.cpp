#include "ui/display_service.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <pthread.h>
#include <utility>

namespace kestrel {

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
} // namespace

DisplayService::~DisplayService() { stop(); }

Console& DisplayService::add_console(std::string device, std::string qom_path, DisplaySource& source) {
    consoles_.push_back(std::make_unique<Console>(std::move(device), std::move(qom_path), source));
    Console& console = *consoles_.back();
    console.set_wake([this] {
        std::lock_guard guard(lock_);
        woken_ = true;
        wake_.notify_one();
    });
    return console;
}

Console* DisplayService::find(const std::string& id, unsigned head) const {
    for (const auto& c : consoles_)
        if (!id.empty() && c->device() == id && head == 0) return c.get();
    return nullptr;
}

void DisplayService::add_listener(Console& console, DisplayListener& listener) {
    std::lock_guard guard(lock_);
    watches_.push_back({&console, &listener});
    woken_ = true;
    start_locked();
    wake_.notify_one();
}

// Waits until the display thread is not calling listeners, so that the
// listener may go once this returns.
void DisplayService::remove_listener(DisplayListener& listener) {
    std::unique_lock guard(lock_);
    delivered_.wait(guard, [&] { return !delivering_; });
    std::erase_if(watches_, [&](const Watch& w) { return w.listener == &listener; });
}

void DisplayService::start_locked() {
    if (thread_.joinable() || stopping_) return;
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "display");
        run();
    });
}

void DisplayService::stop() {
    {
        std::lock_guard guard(lock_);
        stopping_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
}

// Per console: when it was last drawn, how long to wait before looking at
// dirty-logged memory again, and whether anything was seen changing.
struct DisplayService::State {
    Clock::time_point last_refresh{};
    int poll_ms = kRefreshMs;
    bool dirty = false;
};

// Sources are asked (wakeup(), take_dirty()) without lock_ held: a device
// may call Console::changed() with its own lock held, which takes lock_.
void DisplayService::run() {
    std::map<Console*, State> states;
    std::unique_lock guard(lock_);
    while (!stopping_) {
        woken_ = false;
        bool active = std::exchange(activity_, false);
        std::vector<Watch> watches = watches_;
        guard.unlock();
        if (active)
            for (auto& [console, state] : states) state.poll_ms = kRefreshMs;
        auto now = Clock::now();
        auto deadline = Clock::time_point::max();
        std::vector<Console*> due;
        for (const Watch& w : watches) {
            Console* c = w.console;
            if (std::find(due.begin(), due.end(), c) != due.end()) continue;
            State& s = states[c];
            DisplaySource::Wakeup wake = c->source().wakeup();
            auto earliest = s.last_refresh + milliseconds(kRefreshMs);
            auto when = Clock::time_point::max();
            // Taken once per refresh: while the flag stays set, the device's
            // further changes cost it no wakeup of this thread.
            if (!s.dirty) s.dirty = c->take_dirty();
            if (!w.greeted || s.dirty) when = earliest;
            if (wake.poll) when = std::min(when, std::max(earliest, s.last_refresh + milliseconds(s.poll_ms)));
            if (wake.timer_ms >= 0) when = std::min(when, s.last_refresh + milliseconds(wake.timer_ms));
            if (when <= now)
                due.push_back(c);
            else
                deadline = std::min(deadline, when);
        }
        if (due.empty()) {
            guard.lock();
            if (deadline == Clock::time_point::max())
                wake_.wait(guard, [&] { return woken_ || stopping_; });
            else
                wake_.wait_until(guard, deadline, [&] { return woken_ || stopping_; });
            continue;
        }
        guard.lock();
        delivering_ = true;
        watches = watches_;
        guard.unlock();
        for (Console* c : due) {
            State& s = states[c];
            s.dirty = false;
            c->take_dirty();
            bool drawn = c->refresh();
            s.last_refresh = Clock::now();
            s.poll_ms = drawn ? kRefreshMs : std::min(s.poll_ms + kPollStepMs, kPollMaxMs);
            Console::Pending p = c->take_pending();
            for (Watch& w : watches) {
                if (w.console != c) continue;
                if (!w.greeted || p.resized)
                    w.listener->display_resized(p.surface);
                else if (!p.damage.empty())
                    w.listener->display_updated(p.surface, p.damage);
            }
        }
        guard.lock();
        delivering_ = false;
        delivered_.notify_all();
        for (Watch& w : watches_)
            if (std::find(due.begin(), due.end(), w.console) != due.end()) w.greeted = true;
    }
}

void DisplayService::input_activity() {
    std::lock_guard guard(lock_);
    activity_ = true;
    woken_ = true;
    wake_.notify_one();
}

} // namespace kestrel
