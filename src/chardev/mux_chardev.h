#pragma once
// mux=on / "mon:stdio": one backend shared by up to four frontends (a COM
// port and a monitor). Each frontend gets its own view (a Chardev). Output
// of every view goes to the backend; input goes to the focused view only.
// Focus follows QEMU: every attach() gives its frontend the focus, so the
// frontend attached last has it at start (QEMU attaches monitors before
// devices: the serial port has the keyboard, C-a c reaches the monitor).
//
// Keys (QEMU's, escape C-a): h or ? help, x "QEMU: Terminated" and exit,
// s flush disks, t toggle timestamps, b break to the focused frontend,
// c focus the next view, C-a one C-a; any other key after C-a is dropped.
// Each view buffers up to kViewBuffer input bytes its frontend cannot take
// yet, so the keys keep working while a frontend is busy.
#include "chardev/chardev.h"
#include "chardev/chardev_set.h"
#include "chardev/frontend_notifier.h"
#include "base/event_loop.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace kestrel {

class MuxChardev final : public CharFrontend {
public:
    static constexpr size_t kMaxViews = 4;
    static constexpr size_t kViewBuffer = 32;
    static constexpr uint8_t kEscape = 0x01;  // C-a

    // Attaches itself to `backend` (which must outlive it); views are
    // labelled `label`.
    MuxChardev(std::string label, Chardev& backend, EventLoop& loop, MuxActions actions);
    ~MuxChardev() override;

    // A new view for one more frontend. Throws after kMaxViews.
    Chardev& new_view();
    size_t view_count() const { return views_.size(); }
    // Index of the focused view, -1 before any frontend attached.
    int focus() const { return focus_; }

    // The backend's frontend (loop thread).
    size_t can_receive() override;
    void receive(std::span<const uint8_t> data) override;
    void opened() override;
    void closed() override;

private:
    class View;
    friend class View;

    void attach_view(View& view);
    void set_focus(int index);
    void write_out(std::span<const uint8_t> data);  // any thread, timestamps
    void write_text(const std::string& text);
    bool handle_byte(uint8_t byte);  // true: the byte is input for the focus
    void handle_key(uint8_t key);
    void deliver(View& view);
    View* focused() const;

    std::string label_;
    Chardev& backend_;
    EventLoop& loop_;
    MuxActions actions_;
    std::vector<std::unique_ptr<View>> views_;
    int focus_ = -1;
    bool got_escape_ = false;
    bool open_ = false;  // the backend told us opened()

    std::mutex out_lock_;  // timestamp state, order of output
    bool timestamps_ = false;
    bool linestart_ = false;
    bool stamp_started_ = false;
    std::chrono::steady_clock::time_point stamp_start_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace kestrel
