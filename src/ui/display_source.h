#pragma once
// What a display device (a VGA card) offers the UI: it draws its screen
// into a Surface, and says how the UI learns that the screen changed.
#include "ui/surface.h"

#include <vector>

namespace kestrel {

class DisplaySource {
public:
    virtual ~DisplaySource() = default;

    // Brings `surface` up to date with the guest's screen. Resizes it when
    // the mode's size changed (then draws all of it); `full` asks for
    // everything to be drawn again. Appends the rectangles it drew.
    // Called with the console's lock held, from one thread at a time.
    virtual void render(Surface& surface, bool full, std::vector<Rect>& damage) = 0;

    // How changes reach the display besides Console::changed():
    struct Wakeup {
        bool poll = false;    // the guest writes memory without exits (dirty log): look now and then
        int timer_ms = -1;    // the picture changes by itself (cursor blink) in this many ms; -1 never
    };
    virtual Wakeup wakeup() const = 0;
};

} // namespace kestrel
