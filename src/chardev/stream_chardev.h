#pragma once
// The base of the backends whose peer comes and goes: socket, pty, pipe,
// udp. It owns the connection's fds while one exists and moves bytes both
// ways without ever blocking the caller.
//
// Output (write(), any thread): with no connection the data is dropped, as
// QEMU does. Otherwise it is written at once with a non-blocking write;
// what the peer does not take is queued (up to kOutputLimit bytes) and
// flushed by the loop when the fd is writable. Past the limit (a peer that
// stopped reading) output is dropped, logged once until the queue drains.
// The guest is never blocked by a slow or absent peer.
//
// Input (loop thread): read into a bounded buffer and handed to the
// frontend up to can_receive(); while the buffer is full the fd is not
// read; frontend_ready() resumes. EOF or a read error (ECONNRESET, EIO from
// a pty whose slave closed) ends the connection: closed() is posted to the
// frontend and the subclass's on_disconnected() runs.
#include "chardev/chardev.h"
#include "chardev/frontend_notifier.h"
#include "base/event_loop.h"
#include "base/unique_fd.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace kestrel {

class StreamChardev : public Chardev {
public:
    ~StreamChardev() override;

    void write(std::span<const uint8_t> data) override;
    // Takes at most kWriteWindow bytes while the queue holds less than
    // that; writable() follows when the queue drains below it again.
    size_t write_some(std::span<const uint8_t> data) override;
    void attach(CharFrontend* frontend) override;
    void frontend_ready() override;
    bool connected() const override { return connected_; }
    std::vector<UniqueFd> take_received_fds() override;
    size_t output_backlog() const override;

    // Large enough for any monitor reply (QMP echoes a megabyte-long id or
    // command name back in full); a bound all the same for a dead reader.
    static constexpr size_t kOutputLimit = 16 * 1024 * 1024;
    static constexpr size_t kInputBufferSize = 4096;
    static constexpr size_t kWriteWindow = 64 * 1024;

protected:
    StreamChardev(std::string label, EventLoop& loop);

    // Loop thread (or before run()). Ends any connection, takes the new
    // one's fds (one both ways, or an input and an output fd; either may be
    // empty), makes them non-blocking, starts reading and posts opened() to
    // the frontend.
    void connect_fd(UniqueFd fd);
    void connect_fds(UniqueFd in_fd, UniqueFd out_fd);
    // Loop thread. Ends the connection (no-op without one): closes its fds,
    // drops queued output and unread input, posts closed(), then calls
    // on_disconnected().
    void disconnect();
    virtual void on_disconnected() {}
    // Datagram fds (udp): a read of 0 bytes is an empty datagram, errors
    // (ECONNREFUSED from ICMP) are ignored, unsent output is dropped.
    void set_datagram() { datagram_ = true; }
    // Runs fn on the loop unless this chardev is destroyed first.
    void post_guarded(std::function<void()> fn);

    EventLoop& loop_;
    FrontendNotifier notifier_{loop_, frontend_};

private:
    void adopt_connection(UniqueFd in_fd, UniqueFd own_out_fd, int out_fd);
    void close_connection();
    void on_fd_event(uint32_t events, bool is_input);
    void read_input();
    ssize_t receive_with_fds(uint8_t* buf, size_t room);
    void deliver_input();
    bool flush_output();          // loop thread; false: the peer is gone
    size_t write_now(std::span<const uint8_t> data);  // out_lock_ held
    void queue_output(std::span<const uint8_t> data); // out_lock_ held
    void post_update();
    void update_watch();
    void watch(int fd, uint32_t events);

    std::atomic<bool> connected_{false};
    bool datagram_ = false;
    UniqueFd in_fd_;
    UniqueFd own_out_fd_;        // the output fd when it is not in_fd_

    mutable std::mutex out_lock_;  // out_fd_ and the output queue
    int out_fd_ = -1;            // in_fd_, own_out_fd_ or -1
    bool out_is_socket_ = false;
    std::vector<uint8_t> out_queue_;
    bool dropping_ = false;
    bool writable_wanted_ = false;  // write_some() refused some: post writable()

    std::vector<uint8_t> input_;
    bool in_is_socket_ = false;
    std::vector<UniqueFd> received_fds_;  // SCM_RIGHTS, not taken yet
    std::map<int, uint32_t> watched_;  // fd -> events in the loop's epoll set
    std::atomic<bool> update_posted_{false};
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace kestrel
