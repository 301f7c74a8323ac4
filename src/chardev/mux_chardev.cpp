#include "chardev/mux_chardev.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace kestrel {

namespace {
const char* const kHelp[] = {
    "C-a h    print this help",
    "C-a x    exit emulator",
    "C-a s    save disk data back to file (if -snapshot)",
    "C-a t    toggle console timestamps",
    "C-a b    send break (magic sysrq)",
    "C-a c    switch between console and monitor",
    "C-a C-a  sends C-a",
};
} // namespace

class MuxChardev::View final : public Chardev {
public:
    View(MuxChardev& mux, size_t index) : Chardev(mux.label_), mux_(mux), index_(index) {}

    void write(std::span<const uint8_t> data) override { mux_.write_out(data); }
    void attach(CharFrontend* frontend) override {
        frontend_ = frontend;
        if (frontend) mux_.attach_view(*this);
    }
    void frontend_ready() override {
        std::weak_ptr<int> alive = mux_.alive_;
        mux_.loop_.post([this, alive] {
            if (alive.expired()) return;
            mux_.deliver(*this);
            mux_.backend_.frontend_ready();
        });
    }
    std::string filename() const override { return "mux"; }
    bool connected() const override { return mux_.backend_.connected(); }
    size_t output_backlog() const override { return mux_.backend_.output_backlog(); }

    CharFrontend* frontend() const { return frontend_; }
    MuxChardev& mux_;
    size_t index_;
    std::vector<uint8_t> input;  // bytes the frontend could not take yet
    FrontendNotifier notifier{mux_.loop_, frontend_};
};

MuxChardev::MuxChardev(std::string label, Chardev& backend, EventLoop& loop, MuxActions actions)
    : label_(std::move(label)), backend_(backend), loop_(loop), actions_(std::move(actions)) {
    backend_.attach(this);
}

MuxChardev::~MuxChardev() { backend_.attach(nullptr); }

Chardev& MuxChardev::new_view() {
    if (views_.size() >= kMaxViews)
        throw std::runtime_error("Too many uses of chardevs '" + label_ + "'");
    views_.push_back(std::make_unique<View>(*this, views_.size()));
    return *views_.back();
}

// As QEMU: the attaching frontend hears opened() if the backend is open,
// then gets the focus.
void MuxChardev::attach_view(View& view) {
    if (open_) view.notifier.post_opened();
    set_focus(int(view.index_));
}

void MuxChardev::set_focus(int index) {
    if (focus_ >= 0) views_[size_t(focus_)]->notifier.post([](CharFrontend& f) { f.focus_changed(false); });
    focus_ = index;
    views_[size_t(index)]->notifier.post([](CharFrontend& f) { f.focus_changed(true); });
}

MuxChardev::View* MuxChardev::focused() const { return focus_ < 0 ? nullptr : views_[size_t(focus_)].get(); }

void MuxChardev::opened() {
    open_ = true;
    for (auto& v : views_)
        if (v->frontend()) v->frontend()->opened();
}

void MuxChardev::closed() {
    open_ = false;
    for (auto& v : views_)
        if (v->frontend()) v->frontend()->closed();
}

// Output ----------------------------------------------------------------

// Timestamps as QEMU's C-a t: "[hh:mm:ss.mmm] " at the start of each line,
// counted from the first stamped line after the toggle.
void MuxChardev::write_out(std::span<const uint8_t> data) {
    std::lock_guard guard(out_lock_);
    if (!timestamps_) return backend_.write(data);
    std::vector<uint8_t> out;
    out.reserve(data.size() + 32);
    for (uint8_t byte : data) {
        if (linestart_) {
            auto now = std::chrono::steady_clock::now();
            if (!stamp_started_) stamp_start_ = now, stamp_started_ = true;
            long ms = long(std::chrono::duration_cast<std::chrono::milliseconds>(now - stamp_start_).count());
            long secs = ms / 1000;
            char stamp[48];
            int n = std::snprintf(stamp, sizeof stamp, "[%02ld:%02ld:%02ld.%03ld] ", secs / 3600, (secs / 60) % 60,
                                  secs % 60, ms % 1000);
            out.insert(out.end(), stamp, stamp + n);
            linestart_ = false;
        }
        out.push_back(byte);
        if (byte == '\n') linestart_ = true;
    }
    backend_.write(out);
}

void MuxChardev::write_text(const std::string& text) {
    write_out({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

// Input -----------------------------------------------------------------

size_t MuxChardev::can_receive() {
    View* v = focused();
    if (!v) return kViewBuffer;
    return kViewBuffer - std::min(kViewBuffer, v->input.size());
}

void MuxChardev::receive(std::span<const uint8_t> data) {
    for (uint8_t byte : data) {
        if (!handle_byte(byte)) continue;
        if (View* v = focused(); v && v->input.size() < kViewBuffer) v->input.push_back(byte);
    }
    if (View* v = focused()) deliver(*v);
}

bool MuxChardev::handle_byte(uint8_t byte) {
    if (got_escape_) {
        got_escape_ = false;
        if (byte == kEscape) return true;
        handle_key(byte);
        return false;
    }
    if (byte == kEscape) {
        got_escape_ = true;
        return false;
    }
    return true;
}

void MuxChardev::handle_key(uint8_t key) {
    switch (key) {
    case '?':
    case 'h': {
        std::string text = "\n\r";
        for (const char* line : kHelp) text += std::string(line) + "\n\r";
        write_text(text);
        break;
    }
    case 'x':
        write_text("QEMU: Terminated\n\r");
        if (actions_.exit) actions_.exit();
        break;
    case 's':
        if (actions_.flush_disks) actions_.flush_disks();
        break;
    case 'b':
        if (View* v = focused()) v->notifier.post([](CharFrontend& f) { f.receive_break(); });
        break;
    case 'c':
        if (!views_.empty()) {
            if (View* v = focused()) deliver(*v);
            set_focus(int((size_t(focus_ + 1)) % views_.size()));
        }
        break;
    case 't': {
        std::lock_guard guard(out_lock_);
        timestamps_ = !timestamps_;
        stamp_started_ = false;
        linestart_ = false;
        break;
    }
    default:
        break;  // QEMU ignores other keys after C-a
    }
}

void MuxChardev::deliver(View& view) {
    CharFrontend* fe = view.frontend();
    while (fe && !view.input.empty()) {
        size_t n = std::min(fe->can_receive(), view.input.size());
        if (n == 0) break;
        fe->receive({view.input.data(), n});
        view.input.erase(view.input.begin(), view.input.begin() + ptrdiff_t(n));
    }
}

} // namespace kestrel
