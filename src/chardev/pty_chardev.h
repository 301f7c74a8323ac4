#pragma once
// -chardev pty: a new pseudo-terminal in raw mode, announced on stderr as
// QEMU does: "char device redirected to /dev/pts/N (label ID)".
// Connected while someone has the slave side open. Like QEMU, kestrel
// learns that by polling the master for a hang-up every second while
// nobody has it open; meanwhile the master is not read (its hang-up would
// make epoll spin). Output while not connected is dropped (never blocks)
// unless the slave has been opened since the last poll: then, as QEMU
// 8.1's pty does, it goes to the master at once, and the loop adopts the
// connection (a guest that prints right after `cont` loses nothing).
#include "chardev/stream_chardev.h"

#include <atomic>
#include <memory>

namespace kestrel {

class PtyChardev final : public StreamChardev {
public:
    // Throws std::runtime_error("Failed to create PTY: <strerror>").
    PtyChardev(std::string label, EventLoop& loop);
    ~PtyChardev() override;
    void write(std::span<const uint8_t> data) override;
    std::string filename() const override { return "pty:" + slave_path_; }
    const std::string& slave_path() const { return slave_path_; }

    static constexpr int kPollSeconds = 1;

private:
    void on_disconnected() override { start_polling(); }
    void start_polling();
    void stop_polling();
    void check_slave();  // connects when the slave is open
    bool slave_open() const;  // any thread


    UniqueFd master_fd_;
    UniqueFd timer_fd_;  // while polling for the slave
    std::string slave_path_;
    std::atomic<bool> check_posted_{false};
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // for posted checks
};

} // namespace kestrel
