#pragma once
// The machine's input devices as QEMU's input layer routes to them: keys
// (QKeyCode), buttons, relative and absolute (0..0x7fff) pointer axes. A
// device (the i8042's keyboard and mouse, a USB tablet) registers a
// handler for the kinds it takes; an event goes to the first handler that
// takes its kind, where a handler the guest has started using moves to the
// front (QEMU's activation). Sources: the VNC server, the monitor's
// sendkey / mouse_move / input-send-event. Registered in the machine's
// ServiceRegistry. Any thread; handlers are called with the service's lock
// held, so they must not call back into it.
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace kestrel {

enum class InputButton : uint8_t { Left, Middle, Right, WheelUp, WheelDown, Side, Extra, WheelLeft, WheelRight };
enum class InputAxis : uint8_t { X, Y };

struct InputEvent {
    enum class Kind : uint8_t { Key, Button, Rel, Abs };
    static constexpr int64_t kAbsMax = 0x7fff;

    Kind kind = Kind::Key;
    bool down = false;    // Key, Button
    unsigned qcode = 0;   // Key
    InputButton button = InputButton::Left;
    InputAxis axis = InputAxis::X;
    int64_t value = 0;    // Rel: the move; Abs: 0..kAbsMax

    static InputEvent key(unsigned qcode, bool down) { return {Kind::Key, down, qcode}; }
    static InputEvent btn(InputButton b, bool down) { return {Kind::Button, down, 0, b}; }
    static InputEvent rel(InputAxis a, int64_t v) { return {Kind::Rel, false, 0, {}, a, v}; }
    static InputEvent abs(InputAxis a, int64_t v) { return {Kind::Abs, false, 0, {}, a, v}; }
};

class InputHandler {
public:
    enum : unsigned { KEY = 1, BUTTON = 2, REL = 4, ABS = 8 };
    virtual ~InputHandler() = default;
    virtual void input_event(const InputEvent& event) = 0;
    // The events since the last sync form one report (a mouse packet).
    virtual void input_sync() {}
};

class InputService {
public:
    struct MouseInfo {
        std::string name;
        unsigned index;
        bool current;
        bool absolute;
    };

    // Returns the handler's index (QEMU numbers every handler from 1 in
    // registration order; "info mice" shows the mice's).
    unsigned add_handler(std::string name, unsigned mask, InputHandler& handler);
    void remove_handler(InputHandler& handler);
    // The guest has started using this device: it takes its kinds first.
    void activate(InputHandler& handler);

    // Routes the events, then syncs the handlers that got any.
    void send(const std::vector<InputEvent>& events);
    void key(unsigned qcode, bool down) { send({InputEvent::key(qcode, down)}); }
    // Whether a handler takes absolute positions (a tablet).
    bool absolute() const;
    // Handlers of pointer events, newest first, the current one marked.
    std::vector<MouseInfo> mice() const;
    // Makes the mouse with this index current; false if there is none.
    bool select_mouse(unsigned index);

private:
    struct Entry {
        std::string name;
        unsigned index;
        unsigned mask;
        InputHandler* handler;
    };
    InputHandler* route_locked(InputEvent::Kind kind) const;

    mutable std::mutex lock_;
    std::vector<Entry> handlers_;  // routing order: front first
    unsigned next_index_ = 1;
};

} // namespace kestrel
