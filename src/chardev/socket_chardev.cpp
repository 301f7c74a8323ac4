#include "chardev/socket_chardev.h"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace kestrel {

SocketChardev::SocketChardev(std::string label, EventLoop& loop, SocketOptions opts, ChardevMessages messages)
    : StreamChardev(std::move(label), loop), opts_(std::move(opts)), messages_(std::move(messages)) {
    if (opts_.fd >= 0) adopt_inherited_fd();
    if (opts_.server) {
        open_server();
        return;
    }
    if (opts_.reconnect > 0) {
        if (!try_connect()) start_reconnect_timer();
        return;
    }
    UniqueFd fd(opts_.fd);
    if (!fd) fd = opts_.is_unix ? connect_unix(opts_.path) : connect_tcp(opts_.inet);
    local_ = local_address(fd.get());
    peer_ = peer_address(fd.get());
    connect_fd(std::move(fd));
}

// The fd's address names the chardev as a path or host would; a Unix
// socket file is removed at the end as for one kestrel made.
void SocketChardev::adopt_inherited_fd() {
    fcntl(opts_.fd, F_SETFD, FD_CLOEXEC);
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getsockname(opts_.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        throw std::runtime_error("File descriptor '" + std::to_string(opts_.fd) + "' is not a socket");
    opts_.is_unix = addr.ss_family == AF_UNIX;
    std::string local = local_address(opts_.fd);
    if (opts_.is_unix) {
        opts_.path = local;
    } else {
        size_t colon = local.rfind(':');
        opts_.inet.host = local.substr(0, colon);
        opts_.inet.port = colon == std::string::npos ? "" : local.substr(colon + 1);
    }
}

SocketChardev::~SocketChardev() {
    stop_reconnect_timer();
    set_listening(false);
    if (listen_fd_) {
        listen_fd_.reset();  // then the socket file goes
        if (opts_.is_unix) unlink(opts_.path.c_str());
    }
}

void SocketChardev::open_server() {
    if (opts_.fd >= 0) {
        listen_fd_.reset(opts_.fd);
    } else if (opts_.is_unix) {
        listen_fd_ = listen_unix(opts_.path);
    } else {
        InetAddress bound;
        listen_fd_ = listen_tcp(opts_.inet, bound);
        opts_.inet = bound;  // QEMU names the bound address from now on
    }
    if (opts_.wait) {
        messages_.info("QEMU waiting for connection on: " + filename());
        while (!connected()) {  // a client that already gave up does not count
            pollfd pfd{listen_fd_.get(), POLLIN, 0};
            if (::poll(&pfd, 1, -1) > 0) accept_client();
        }
    }
    if (!connected()) set_listening(true);
}

void SocketChardev::accept_client() {
    UniqueFd fd(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd) return;  // the client gave up already (or EAGAIN)
    set_listening(false);
    local_ = local_address(fd.get());
    peer_ = peer_address(fd.get());
    connect_fd(std::move(fd));
}

void SocketChardev::set_listening(bool on) {
    if (on == listening_ || !listen_fd_) return;
    if (on) loop_.add_fd(listen_fd_.get(), EPOLLIN, [this](uint32_t) { accept_client(); });
    else loop_.remove_fd(listen_fd_.get());
    listening_ = on;
}

bool SocketChardev::try_connect() {
    try {
        UniqueFd fd = opts_.is_unix ? connect_unix(opts_.path) : connect_tcp(opts_.inet);
        error_reported_ = false;
        local_ = local_address(fd.get());
        peer_ = peer_address(fd.get());
        connect_fd(std::move(fd));
        return true;
    } catch (const std::runtime_error& e) {
        if (!error_reported_) messages_.error("Unable to connect character device " + label() + ": " + e.what());
        error_reported_ = true;
        return false;
    }
}

void SocketChardev::on_disconnected() {
    local_.clear();
    peer_.clear();
    if (opts_.server) set_listening(true);
    else if (opts_.reconnect > 0) start_reconnect_timer();
}

void SocketChardev::start_reconnect_timer() {
    if (!timer_fd_) {
        timer_fd_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
        if (!timer_fd_) return;
        loop_.add_fd(timer_fd_.get(), EPOLLIN, [this](uint32_t) {
            uint64_t ticks;
            [[maybe_unused]] auto r = ::read(timer_fd_.get(), &ticks, sizeof ticks);
            if (connected() || try_connect()) stop_reconnect_timer();
        });
    }
    itimerspec every{};
    every.it_value.tv_sec = opts_.reconnect;
    every.it_interval.tv_sec = opts_.reconnect;
    timerfd_settime(timer_fd_.get(), 0, &every, nullptr);
}

void SocketChardev::stop_reconnect_timer() {
    if (!timer_fd_) return;
    loop_.remove_fd(timer_fd_.get());
    timer_fd_.reset();
}

std::string SocketChardev::endpoint() const {
    std::string s = opts_.is_unix ? "unix:" + opts_.path : "tcp:" + opts_.inet.host + ":" + opts_.inet.port;
    return opts_.server ? s + ",server=on" : s;
}

std::string SocketChardev::filename() const {
    if (!connected()) return "disconnected:" + endpoint();
    std::string server = opts_.server ? ",server=on" : "";
    if (opts_.is_unix) return "unix:" + local_ + server;
    return "tcp:" + local_ + server + " <-> " + peer_;
}

} // namespace kestrel
