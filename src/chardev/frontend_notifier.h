#pragma once
// Delivers CharFrontend events (opened, closed, focus changes) on the event
// loop, never inside the call that caused them (attach() from the setup
// code, write() from a vCPU). Events keep their order (the loop runs posted
// work first in, first out). An event is dropped if, when it runs, the
// notifier is gone or the chardev has a different frontend.
#include "chardev/chardev.h"
#include "base/event_loop.h"

#include <functional>
#include <memory>

namespace kestrel {

class FrontendNotifier {
public:
    // `slot` is the chardev's frontend pointer; it must outlive this.
    FrontendNotifier(EventLoop& loop, CharFrontend* const& slot) : loop_(loop), slot_(slot) {}

    // Any thread: runs event(*frontend) on the loop if `slot` still holds
    // the frontend it holds now.
    void post(std::function<void(CharFrontend&)> event) {
        CharFrontend* fe = slot_;
        if (!fe) return;
        std::weak_ptr<int> alive = alive_;
        CharFrontend* const* slot = &slot_;
        loop_.post([alive, slot, fe, event = std::move(event)] {
            if (alive.expired() || *slot != fe) return;
            event(*fe);
        });
    }
    void post_opened() { post([](CharFrontend& f) { f.opened(); }); }
    void post_closed() { post([](CharFrontend& f) { f.closed(); }); }

private:
    EventLoop& loop_;
    CharFrontend* const& slot_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace kestrel
