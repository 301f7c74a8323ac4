#pragma once
// A BlockBackend in memory for the device fuzzers: requests run when the
// device kicks, complete through an eventfd on the next loop round as the
// io_uring engine's do, and every buffer a device hands over is checked
// not to straddle the edge of guest RAM.
#include "base/unique_fd.h"
#include "block/block_backend.h"
#include "fuzz_support.h"
#include "kvm/guest_memory.h"

#include <cerrno>
#include <cstring>
#include <sys/eventfd.h>
#include <unistd.h>
#include <vector>

namespace kestrel::fuzz {

class MemoryDisk final : public BlockBackend {
public:
    MemoryDisk(const GuestMemory& ram, uint64_t size, bool read_only)
        : ram_(ram), bytes_(size), read_only_(read_only), path_("fuzz-disk"),
          event_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

    uint64_t size() const override { return bytes_.size(); }
    bool read_only() const override { return read_only_; }
    bool has_volatile_cache() const override { return true; }
    uint32_t logical_block_size() const override { return 512; }
    const std::string& path() const override { return path_; }

    void submit(BlockRequest request) override {
        for (const iovec& v : request.iov) check_in_guest_ram(v);
        queued_.push_back(std::move(request));
    }
    void kick() override {
        for (BlockRequest& r : queued_) {
            const int64_t result = execute(r);
            done_.emplace_back(std::move(r), result);
        }
        queued_.clear();
        uint64_t one = 1;
        if (!done_.empty()) [[maybe_unused]] auto n = ::write(event_fd_.get(), &one, sizeof one);
    }
    int completion_fd() const override { return event_fd_.get(); }
    void process_completions() override {
        uint64_t n;
        [[maybe_unused]] auto r = ::read(event_fd_.get(), &n, sizeof n);
        auto done = std::move(done_);
        done_.clear();
        for (auto& [request, result] : done) request.done(result);
    }
    Stats stats() const override { return {}; }

private:
    // A buffer is guest RAM (DMA) or the device's own (IDE's PIO sectors):
    // wholly inside one region or outside all of them. One that straddles a
    // region's edge came from a guest address the device did not bound.
    // The device's own buffers are ASan's to check.
    void check_in_guest_ram(const iovec& v) const {
        FUZZ_CHECK(v.iov_len > 0, "an empty buffer handed to the disk");
        const auto* p = static_cast<const uint8_t*>(v.iov_base);
        for (const MemoryRegion& r : ram_.regions()) {
            const bool inside = p >= r.host && v.iov_len <= r.size && p - r.host <= ptrdiff_t(r.size - v.iov_len);
            const bool apart = p + v.iov_len <= r.host || p >= r.host + r.size;
            FUZZ_CHECK(inside || apart, "a disk buffer across the edge of guest RAM");
        }
    }

    int64_t execute(const BlockRequest& r) {
        uint64_t length = r.length;
        if (r.op == BlockOp::Read || r.op == BlockOp::Write) {
            length = 0;
            for (const iovec& v : r.iov) length += v.iov_len;
        }
        if (r.op == BlockOp::Flush) return 0;
        if (r.offset > bytes_.size() || length > bytes_.size() - r.offset) return -EINVAL;
        if (r.op != BlockOp::Read && read_only_) return -EROFS;
        uint64_t at = r.offset;
        switch (r.op) {
        case BlockOp::Read:
            for (const iovec& v : r.iov) std::memcpy(v.iov_base, &bytes_[at], v.iov_len), at += v.iov_len;
            break;
        case BlockOp::Write:
            for (const iovec& v : r.iov) std::memcpy(&bytes_[at], v.iov_base, v.iov_len), at += v.iov_len;
            break;
        default: std::memset(&bytes_[at], 0, length); break;
        }
        return int64_t(length);
    }

    const GuestMemory& ram_;
    std::vector<uint8_t> bytes_;
    bool read_only_;
    std::string path_;
    UniqueFd event_fd_;
    std::vector<BlockRequest> queued_;
    std::vector<std::pair<BlockRequest, int64_t>> done_;
};

} // namespace kestrel::fuzz
