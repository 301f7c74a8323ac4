#include "chardev/stream_chardev.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace kestrel {

namespace {
void set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

bool is_socket(int fd) {
    struct stat st {};
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}
} // namespace

StreamChardev::StreamChardev(std::string label, EventLoop& loop) : Chardev(std::move(label)), loop_(loop) {
    input_.reserve(kInputBufferSize);
}

StreamChardev::~StreamChardev() { close_connection(); }

void StreamChardev::post_guarded(std::function<void()> fn) {
    std::weak_ptr<int> alive = alive_;
    loop_.post([alive, fn = std::move(fn)] {
        if (!alive.expired()) fn();
    });
}

void StreamChardev::connect_fd(UniqueFd fd) {
    int both_ways = fd.get();
    adopt_connection(std::move(fd), UniqueFd(), both_ways);
}

void StreamChardev::connect_fds(UniqueFd in_fd, UniqueFd out_fd) {
    int out = out_fd.get();
    adopt_connection(std::move(in_fd), std::move(out_fd), out);
}

void StreamChardev::adopt_connection(UniqueFd in_fd, UniqueFd own_out_fd, int out_fd) {
    close_connection();
    for (int fd : {in_fd.get(), own_out_fd.get()})
        if (fd >= 0) set_nonblocking(fd);
    in_is_socket_ = in_fd.get() >= 0 && is_socket(in_fd.get());
    in_fd_ = std::move(in_fd);
    own_out_fd_ = std::move(own_out_fd);
    {
        std::lock_guard guard(out_lock_);
        out_fd_ = out_fd;
        out_is_socket_ = out_fd >= 0 && is_socket(out_fd);
    }
    connected_ = true;
    update_watch();
    notifier_.post_opened();
}

void StreamChardev::disconnect() {
    if (!connected_) return;
    close_connection();
    notifier_.post_closed();
    on_disconnected();
}

void StreamChardev::close_connection() {
    for (auto& [fd, events] : watched_) loop_.remove_fd(fd);
    watched_.clear();
    {
        std::lock_guard guard(out_lock_);
        out_fd_ = -1;
        std::vector<uint8_t>().swap(out_queue_);  // up to kOutputLimit: give it back
        dropping_ = false;
        writable_wanted_ = false;
    }
    in_fd_.reset();
    own_out_fd_.reset();
    input_.clear();
    received_fds_.clear();
    connected_ = false;
}

void StreamChardev::attach(CharFrontend* frontend) {
    frontend_ = frontend;
    if (!frontend) return;
    if (connected_) notifier_.post_opened();
    post_update();
}

void StreamChardev::frontend_ready() { post_update(); }

// Any thread -------------------------------------------------------------

void StreamChardev::write(std::span<const uint8_t> data) {
    if (data.empty()) return;
    std::lock_guard guard(out_lock_);
    if (out_fd_ < 0) return;  // nobody there: QEMU drops it too
    size_t done = out_queue_.empty() ? write_now(data) : 0;
    if (done == data.size()) return;
    if (datagram_) return;
    bool was_empty = out_queue_.empty();
    queue_output(data.subspan(done));
    if (was_empty && !out_queue_.empty()) post_update();
}

size_t StreamChardev::write_some(std::span<const uint8_t> data) {
    if (datagram_) {
        write(data);
        return data.size();
    }
    std::lock_guard guard(out_lock_);
    if (out_fd_ < 0 || out_queue_.size() >= kWriteWindow) {
        writable_wanted_ = out_fd_ >= 0;  // a peer that connects brings opened() instead
        return 0;
    }
    data = data.first(std::min(data.size(), kWriteWindow));
    size_t done = out_queue_.empty() ? write_now(data) : 0;
    if (done < data.size()) {
        bool was_empty = out_queue_.empty();
        queue_output(data.subspan(done));
        if (was_empty) post_update();
    }
    return data.size();
}

size_t StreamChardev::write_now(std::span<const uint8_t> data) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = out_is_socket_ ? ::send(out_fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL)
                                   : ::write(out_fd_, data.data() + done, data.size() - done);
        if (n > 0) {
            done += size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        // EAGAIN: queue the rest. A real error (EPIPE, EIO): the input side
        // sees the hang-up and ends the connection; drop meanwhile.
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return data.size();
        break;
    }
    return done;
}

void StreamChardev::queue_output(std::span<const uint8_t> data) {
    size_t room = kOutputLimit - std::min(kOutputLimit, out_queue_.size());
    size_t take = std::min(room, data.size());
    out_queue_.insert(out_queue_.end(), data.begin(), data.begin() + ptrdiff_t(take));
    if (take < data.size() && !dropping_) {
        dropping_ = true;
        spdlog::warn("chardev {}: the peer is not reading; dropping output", label());
    }
}

size_t StreamChardev::output_backlog() const {
    std::lock_guard guard(out_lock_);
    return out_queue_.size();
}

void StreamChardev::post_update() {
    if (update_posted_.exchange(true)) return;
    post_guarded([this] {
        update_posted_ = false;
        deliver_input();
        update_watch();
    });
}

// Loop thread ------------------------------------------------------------

bool StreamChardev::flush_output() {
    std::lock_guard guard(out_lock_);
    if (out_fd_ < 0 || out_queue_.empty()) return true;
    ssize_t n;
    do {
        n = out_is_socket_ ? ::send(out_fd_, out_queue_.data(), out_queue_.size(), MSG_NOSIGNAL)
                           : ::write(out_fd_, out_queue_.data(), out_queue_.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    out_queue_.erase(out_queue_.begin(), out_queue_.begin() + n);
    if (out_queue_.empty()) dropping_ = false;
    if (writable_wanted_ && out_queue_.size() < kWriteWindow) {
        writable_wanted_ = false;
        notifier_.post([](CharFrontend& f) { f.writable(); });
    }
    return true;
}

void StreamChardev::on_fd_event(uint32_t events, bool is_input) {
    if (events & EPOLLOUT) {
        if (!flush_output()) return disconnect();
    }
    if (is_input && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        read_input();
        if (!connected_) return;
    } else if (!is_input && (events & EPOLLERR)) {
        return disconnect();
    }
    update_watch();
}

void StreamChardev::read_input() {
    size_t room = kInputBufferSize - input_.size();
    if (room == 0) return;
    uint8_t buf[kInputBufferSize];
    ssize_t n;
    do {
        n = in_is_socket_ ? receive_with_fds(buf, room) : ::read(in_fd_.get(), buf, room);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        input_.insert(input_.end(), buf, buf + n);
        deliver_input();
        return;
    }
    if (datagram_ || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) return;
    disconnect();
}

// At most 16 fds per message, as QEMU's TCP_MAX_FDS; more are closed by
// the kernel (MSG_CTRUNC).
ssize_t StreamChardev::receive_with_fds(uint8_t* buf, size_t room) {
    constexpr size_t kMaxFds = 16;
    alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))];
    iovec iov{buf, room};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(in_fd_.get(), &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0) return n;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        std::vector<UniqueFd> fds;
        for (size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            fds.emplace_back(fd);
        }
        received_fds_ = std::move(fds);
    }
    return n;
}

std::vector<UniqueFd> StreamChardev::take_received_fds() { return std::exchange(received_fds_, {}); }

void StreamChardev::deliver_input() {
    while (!input_.empty() && frontend_) {
        size_t n = std::min(frontend_->can_receive(), input_.size());
        if (n == 0) break;
        frontend_->receive({input_.data(), n});
        input_.erase(input_.begin(), input_.begin() + ptrdiff_t(n));
    }
}

// The fds in the loop's epoll set follow what we wait for. An fd we wait
// nothing from leaves the set: epoll reports a hang-up even with no events
// requested, which would make the loop spin.
void StreamChardev::update_watch() {
    if (!connected_) return;
    bool want_in = in_fd_ && input_.size() < kInputBufferSize;
    bool want_out;
    int out_fd;
    {
        std::lock_guard guard(out_lock_);
        want_out = !out_queue_.empty();
        out_fd = out_fd_;
    }
    if (in_fd_.get() == out_fd) {
        watch(out_fd, (want_in ? EPOLLIN : 0u) | (want_out ? EPOLLOUT : 0u));
        return;
    }
    if (in_fd_) watch(in_fd_.get(), want_in ? EPOLLIN : 0u);
    if (out_fd >= 0) watch(out_fd, want_out ? EPOLLOUT : 0u);
}

void StreamChardev::watch(int fd, uint32_t events) {
    auto it = watched_.find(fd);
    uint32_t now = it == watched_.end() ? 0 : it->second;
    if (now == events) return;
    if (events == 0) {
        loop_.remove_fd(fd);
        watched_.erase(it);
    } else if (now == 0) {
        bool is_input = fd == in_fd_.get();
        loop_.add_fd(fd, events, [this, is_input](uint32_t ev) { on_fd_event(ev, is_input); });
        watched_[fd] = events;
    } else {
        loop_.modify_fd(fd, events);
        it->second = events;
    }
}

} // namespace kestrel
