#pragma once
// A BlockBackend over an unlinked temp file: kick() runs the queued
// requests synchronously (unless held) and their completions are delivered
// through an eventfd, as the real engine does. run_queued() may be called
// from another thread (an engine completing in the background).
#include "block/block_backend.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <mutex>
#include <stdexcept>
#include <sys/eventfd.h>
#include <unistd.h>
#include <vector>

namespace kestrel::test {

class FakeBlockBackend final : public BlockBackend {
public:
    struct Op {
        BlockOp op;
        uint64_t offset;
        uint64_t length;
    };

    explicit FakeBlockBackend(uint64_t size, bool read_only = false, bool volatile_cache = true)
        : size_(size), read_only_(read_only), volatile_cache_(volatile_cache) {
        char name[] = "/tmp/kestrel-blk-XXXXXX";
        fd_ = mkstemp(name);
        path_ = name;
        unlink(name);
        event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd_ < 0 || event_fd_ < 0 || ftruncate(fd_, off_t(size)) != 0)
            throw std::runtime_error("fake backend");
    }
    ~FakeBlockBackend() override {
        close(fd_);
        close(event_fd_);
    }

    uint64_t size() const override { return size_; }
    bool read_only() const override { return read_only_; }
    bool has_volatile_cache() const override { return volatile_cache_; }
    uint32_t logical_block_size() const override { return 512; }
    const std::string& path() const override { return path_; }

    void submit(BlockRequest request) override {
        std::lock_guard guard(lock_);
        ops.push_back({request.op, request.offset, request.length});
        queued_.push_back(std::move(request));
    }
    void kick() override {
        ++kicks;
        if (!hold) run_queued();
    }
    int completion_fd() const override { return event_fd_; }
    void process_completions() override {
        uint64_t n;
        [[maybe_unused]] auto r = ::read(event_fd_, &n, sizeof n);
        std::vector<std::pair<BlockRequest, int64_t>> done;
        {
            std::lock_guard guard(lock_);
            done.swap(completed_);
        }
        for (auto& [request, result] : done) request.done(result);
    }
    Stats stats() const override { return {}; }

    // Runs what was submitted (also when held) and signals the eventfd.
    void run_queued() {
        std::lock_guard guard(lock_);
        for (auto& request : queued_) {
            const int64_t result = execute(request);
            completed_.emplace_back(std::move(request), result);
        }
        queued_.clear();
        uint64_t one = 1;
        if (!completed_.empty()) [[maybe_unused]] auto r = ::write(event_fd_, &one, sizeof one);
    }

    std::vector<uint8_t> file_bytes(uint64_t offset, size_t len) const {
        std::vector<uint8_t> out(len);
        [[maybe_unused]] auto r = pread(fd_, out.data(), len, off_t(offset));
        return out;
    }
    void fill_file(uint64_t offset, size_t len, uint8_t value) {
        std::vector<uint8_t> bytes(len, value);
        [[maybe_unused]] auto r = pwrite(fd_, bytes.data(), len, off_t(offset));
    }
    size_t queued() {
        std::lock_guard guard(lock_);
        return queued_.size();
    }

    std::vector<Op> ops;
    unsigned kicks = 0;
    bool hold = false;
    int64_t fail_with = 0;  // e.g. -EIO: every request fails

private:
    int64_t execute(BlockRequest& r) {
        if (fail_with) return fail_with;
        ssize_t n = 0;
        switch (r.op) {
        case BlockOp::Read: n = preadv(fd_, r.iov.data(), int(r.iov.size()), off_t(r.offset)); break;
        case BlockOp::Write: n = pwritev(fd_, r.iov.data(), int(r.iov.size()), off_t(r.offset)); break;
        case BlockOp::Flush: n = fdatasync(fd_); break;
        case BlockOp::Discard:
        case BlockOp::WriteZeroes: {
            std::vector<uint8_t> zeros(r.length, 0);
            n = pwrite(fd_, zeros.data(), zeros.size(), off_t(r.offset));
            break;
        }
        }
        return n < 0 ? -errno : n;
    }

    uint64_t size_;
    bool read_only_, volatile_cache_;
    std::string path_;
    int fd_ = -1, event_fd_ = -1;
    std::mutex lock_;
    std::vector<BlockRequest> queued_;
    std::vector<std::pair<BlockRequest, int64_t>> completed_;
};

} // namespace kestrel::test
