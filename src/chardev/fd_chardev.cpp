#include "chardev/fd_chardev.h"

#include "chardev/fd_io.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace kestrel {

FdChardev::FdChardev(std::string label, EventLoop& loop, int in_fd, int out_fd)
    : Chardev(std::move(label)), loop_(loop), in_fd_(in_fd), out_fd_(out_fd) {
    if (in_fd_ < 0) return;
    input_.reserve(kInputBufferSize);
    input_direct_ = !fd_supports_epoll(in_fd_);
    update_polling();
}

FdChardev::FdChardev(std::string label, EventLoop& loop, UniqueFd in_fd, UniqueFd out_fd)
    : FdChardev(std::move(label), loop, in_fd.get(), out_fd.get()) {
    owned_in_ = std::move(in_fd);
    owned_out_ = std::move(out_fd);
}

FdChardev::~FdChardev() {
    if (input_watched_) loop_.remove_fd(in_fd_);
}

void FdChardev::write(std::span<const uint8_t> data) {
    if (out_fd_ < 0 || data.empty()) return;
    std::lock_guard guard(output_lock_);
    if (output_broken_) return;
    if (!write_all_fd(out_fd_, data)) {
        output_broken_ = true;
        spdlog::warn("chardev {}: output failed ({}); dropping further output", label(),
                     std::strerror(errno));
    }
}

void FdChardev::attach(CharFrontend* frontend) {
    {
        std::lock_guard guard(input_lock_);
        frontend_ = frontend;
    }
    notifier_.post_opened();
    if (frontend && in_fd_ >= 0) post_pump();
}

void FdChardev::frontend_ready() {
    if (in_fd_ >= 0) post_pump();
}

// Coalesces wake-ups: one pending pump at a time, whatever thread asks.
void FdChardev::post_pump() {
    if (pump_posted_.exchange(true)) return;
    std::weak_ptr<int> alive = alive_;
    loop_.post([this, alive] {
        if (alive.expired()) return;
        pump_posted_ = false;
        pump();
    });
}

void FdChardev::pump() {
    std::lock_guard guard(input_lock_);
    deliver();
    // A non-pollable input never signals readiness: read it while the
    // frontend keeps taking data (bounded by the buffer).
    while (input_direct_ && !input_eof_ && input_.size() < kInputBufferSize) {
        if (!read_some()) break;
        deliver();
    }
    update_polling();
}

void FdChardev::on_input_event() {
    std::lock_guard guard(input_lock_);
    if (fd_readable_now(in_fd_)) read_some();
    deliver();
    update_polling();
}

bool FdChardev::read_some() {
    size_t room = kInputBufferSize - input_.size();
    if (room == 0 || input_eof_) return false;
    uint8_t tmp[kInputBufferSize];
    ssize_t n = ::read(in_fd_, tmp, room);
    if (n > 0) {
        input_.insert(input_.end(), tmp, tmp + n);
        return true;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    if (n < 0) spdlog::debug("chardev {}: input read failed: {}", label(), std::strerror(errno));
    input_eof_ = true;  // EOF, a hung-up terminal or a closed fd: stop reading
    return false;
}

void FdChardev::deliver() {
    while (!input_.empty() && frontend_) {
        size_t n = std::min(frontend_->can_receive(), input_.size());
        if (n == 0) break;
        frontend_->receive({input_.data(), n});
        input_.erase(input_.begin(), input_.begin() + ptrdiff_t(n));
    }
}

// The fd leaves the epoll set (rather than staying with no events) while the
// buffer is full: epoll reports a hang-up even with no events requested, and
// a hung-up pipe we cannot read from would make the loop spin.
void FdChardev::update_polling() {
    if (input_direct_) return;
    bool want = !input_eof_ && input_.size() < kInputBufferSize;
    if (want == input_watched_) return;
    if (want) loop_.add_fd(in_fd_, EPOLLIN, [this](uint32_t) { on_input_event(); });
    else loop_.remove_fd(in_fd_);
    input_watched_ = want;
}

} // namespace kestrel
