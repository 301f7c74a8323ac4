#pragma once
// A chardev over a pair of file descriptors: the base of stdio and file.
//
// Output: write() (any thread) writes straight to out_fd, waiting in poll()
// if the fd is non-blocking and full. After a real error (EPIPE: the reader
// went away) output is dropped, logged once.
//
// Input (event loop thread): in_fd is read into a bounded buffer and handed
// to the frontend up to its can_receive(). While the buffer is full the fd is
// not watched; frontend_ready() (any thread) posts a delivery to the loop,
// which resumes polling. At EOF input stops. Fds that epoll cannot watch
// (a regular file or /dev/null as stdin) are read directly as the frontend
// takes data.
//
// Always "connected": attach() posts opened() to the frontend.
#include "chardev/chardev.h"
#include "chardev/frontend_notifier.h"
#include "base/event_loop.h"
#include "base/unique_fd.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace kestrel {

class FdChardev : public Chardev {
public:
    // in_fd < 0: no input; out_fd < 0: output discarded. Call from the loop
    // thread or before run(). Borrowed fds (stdio) stay open; owned ones
    // are closed on destruction.
    FdChardev(std::string label, EventLoop& loop, int in_fd, int out_fd);
    FdChardev(std::string label, EventLoop& loop, UniqueFd in_fd, UniqueFd out_fd);
    ~FdChardev() override;

    void write(std::span<const uint8_t> data) override;
    void attach(CharFrontend* frontend) override;
    void frontend_ready() override;

    static constexpr size_t kInputBufferSize = 4096;

private:
    void post_pump();
    void pump();                 // loop thread: read if it can, deliver
    void on_input_event();       // loop thread: epoll said in_fd is ready
    bool read_some();            // false: nothing read (EOF, error, would block)
    void deliver();
    void update_polling();

    EventLoop& loop_;
    UniqueFd owned_in_, owned_out_;  // empty when borrowed
    int in_fd_;
    int out_fd_;

    std::mutex output_lock_;
    bool output_broken_ = false;

    std::mutex input_lock_;      // frontend_ and the input state below
    std::vector<uint8_t> input_;
    bool input_watched_ = false;     // in_fd_ is in the loop's epoll set
    bool input_direct_ = false;      // in_fd_ cannot be polled: read on demand
    bool input_eof_ = false;

    std::atomic<bool> pump_posted_{false};
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
    FrontendNotifier notifier_{loop_, frontend_};
};

} // namespace kestrel
