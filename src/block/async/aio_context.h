#pragma once
// AioContext: one io_uring and the coroutines waiting on it, driven by one
// thread at a time. A task co_awaits readv/writev/fsync/fallocate; the
// context submits them (batched until kick() or the next poll), and poll()
// resumes each waiting task with its result. Tasks may also yield to the
// context (post) so that wake-ups never nest deeply on the stack.
//
// Two ways to drive it: a device's queue thread watches event_fd() and
// calls poll(); a command-line tool calls run(task), which blocks until the
// task has finished.
#include "block/async/task.h"
#include "block/io_ring.h"

#include <coroutine>
#include <cstdint>
#include <deque>
#include <exception>
#include <optional>
#include <sys/uio.h>
#include <vector>

namespace kestrel {

class AioContext;

enum class AioOp : uint8_t { Readv, Writev, Fsync, Fdatasync, Fallocate };

// One system call a task waits for. Lives in the waiting task's frame.
struct AioRequest {
    AioContext* ctx = nullptr;
    AioOp op = AioOp::Readv;
    int fd = -1;
    const iovec* iov = nullptr;
    unsigned iov_count = 0;
    uint64_t offset = 0;
    uint64_t length = 0;  // Fallocate
    int mode = 0;         // Fallocate
    int result = 0;
    std::coroutine_handle<> waiter;

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h);
    int await_resume() const noexcept { return result; }
};

class AioContext {
public:
    explicit AioContext(unsigned ring_entries = 256);
    AioContext(const AioContext&) = delete;
    AioContext& operator=(const AioContext&) = delete;

    // Readable when poll() has work: completions or posted tasks.
    int event_fd() const { return ring_.event_fd(); }

    AioRequest readv(int fd, const iovec* iov, unsigned count, uint64_t offset) {
        return {this, AioOp::Readv, fd, iov, count, offset};
    }
    AioRequest writev(int fd, const iovec* iov, unsigned count, uint64_t offset) {
        return {this, AioOp::Writev, fd, iov, count, offset};
    }
    AioRequest fdatasync(int fd) { return {this, AioOp::Fdatasync, fd}; }
    AioRequest fsync(int fd) { return {this, AioOp::Fsync, fd}; }
    AioRequest fallocate(int fd, int mode, uint64_t offset, uint64_t length) {
        AioRequest r{this, AioOp::Fallocate, fd};
        r.offset = offset;
        r.length = length;
        r.mode = mode;
        return r;
    }

    // co_await ctx.yield(): resume from the next poll().
    struct Yield {
        AioContext* ctx;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) { ctx->post(h); }
        void await_resume() const noexcept {}
    };
    Yield yield() { return {this}; }

    // Resumes h from the next poll() (never from inside this call).
    void post(std::coroutine_handle<> h);
    // Makes event_fd() readable (work for the owner outside the ring).
    void notify() { ring_.signal(); }

    // Hands the prepared submissions to the kernel.
    void kick();
    // Resumes every task whose system call completed and every posted
    // task, then kicks. Never blocks.
    void poll();
    // Blocks until `done` becomes true, polling as completions arrive.
    void run_until(const bool& done);

    // Runs a task to its end on this context (tools, opening images); an
    // exception the task throws comes out here.
    template <typename T>
    T run(Task<T> task) {
        std::optional<T> result;
        std::exception_ptr error;
        bool done = false;
        spawn(catching(std::move(task), error), [&](std::optional<T> value) {
            result = std::move(value);
            done = true;
        });
        run_until(done);
        if (error) std::rethrow_exception(error);
        return std::move(*result);
    }
    void run(Task<void> task) {
        std::exception_ptr error;
        bool done = false;
        spawn(catching_void(std::move(task), error), [&](bool) { done = true; });
        run_until(done);
        if (error) std::rethrow_exception(error);
    }

    // Reads and writes run on the kernel's io-wq worker threads instead of
    // inline in the submitting thread (IOSQE_ASYNC): buffered copies of
    // several requests then use several CPUs.
    void set_run_in_workers(bool on) { run_in_workers_ = on; }

    // System calls submitted or waiting for a slot, not completed yet.
    unsigned in_flight() const { return in_kernel_ + unsigned(waiting_.size()); }

private:
    friend struct AioRequest;
    template <typename T>
    static Task<std::optional<T>> catching(Task<T> task, std::exception_ptr& error) {
        try {
            co_return co_await task;
        } catch (...) {
            error = std::current_exception();
        }
        co_return std::nullopt;
    }
    static Task<bool> catching_void(Task<void> task, std::exception_ptr& error) {
        try {
            co_await task;
        } catch (...) {
            error = std::current_exception();
        }
        co_return true;
    }

    void start(AioRequest* req);
    bool give_sqe(AioRequest* req);
    void fill_ring();

    IoRing ring_;
    unsigned max_in_kernel_;
    unsigned in_kernel_ = 0;
    unsigned unsubmitted_ = 0;
    std::deque<AioRequest*> waiting_;                 // no SQE yet
    std::deque<std::coroutine_handle<>> ready_;      // posted
    std::vector<IoRing::Completion> reaped_;
    bool polling_ = false;
    bool run_in_workers_ = false;
};

} // namespace kestrel
