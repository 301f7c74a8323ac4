#pragma once
// A character device backend (stdio, file, null, ...) and the device side it
// feeds (a UART). Output: the frontend calls write() from a vCPU thread; it
// must not block for long (a socket with no client drops the output). Input: the backend reads on the event loop thread
// and hands the frontend at most can_receive() bytes; when the frontend has
// room again it calls frontend_ready() (any thread) so buffered input flows.
#include "base/unique_fd.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

class CharFrontend {
public:
    virtual ~CharFrontend() = default;
    virtual size_t can_receive() = 0;
    virtual void receive(std::span<const uint8_t> data) = 0;
    // Loop thread. A peer is there (socket client connected, pty opened,
    // stdio at attach time) / went away. Monitors greet on opened().
    virtual void opened() {}
    virtual void closed() {}
    // A mux (mon:stdio) gave this frontend the keyboard, or took it away.
    virtual void focus_changed(bool /*has_focus*/) {}
    // A break condition on the line (mux "C-a b").
    virtual void receive_break() {}
    // Loop thread. The backend takes output again after write_some()
    // took less than it was given.
    virtual void writable() {}
};

class Chardev {
public:
    virtual ~Chardev() = default;
    virtual void write(std::span<const uint8_t> data) = 0;
    // Output for a frontend that must lose nothing (virtio-serial): takes
    // what the backend can accept without dropping any and returns how
    // much it took (0 with no peer or a full queue). When it took less,
    // the frontend's writable() is posted once the backend can take more.
    // Backends whose write() never drops take everything.
    virtual size_t write_some(std::span<const uint8_t> data) {
        write(data);
        return data.size();
    }
    virtual void attach(CharFrontend* frontend) { frontend_ = frontend; }
    virtual void frontend_ready() {}
    const std::string& label() const { return label_; }
    // QEMU's query-chardev "filename": "stdio", "file", "null",
    // "pty:/dev/pts/3", "unix:/tmp/q,server=on", "disconnected:unix:...".
    virtual std::string filename() const = 0;
    // A peer is connected (always true for stdio, file, null).
    virtual bool connected() const { return true; }
    // Loop thread. The file descriptors the peer sent (SCM_RIGHTS on a
    // Unix socket) with the input handed over last, now the caller's; as
    // QEMU, each message with fds replaces those not taken yet.
    virtual std::vector<UniqueFd> take_received_fds() { return {}; }
    // Any thread. Output accepted by write() that the peer has not taken
    // yet (queued for a slow reader); 0 for backends that write at once.
    virtual size_t output_backlog() const { return 0; }
    // QEMU's query-chardev "frontend-open" for frontends that open and
    // close their end (a virtio-serial port follows its guest); unset, a
    // chardev counts as open while a frontend uses it.
    void set_frontend_open(bool open) { frontend_open_ = open; }
    std::optional<bool> frontend_open() const { return frontend_open_; }

protected:
    explicit Chardev(std::string label) : label_(std::move(label)) {}
    CharFrontend* frontend_ = nullptr;
    std::string label_;
    std::optional<bool> frontend_open_;
};

} // namespace kestrel
