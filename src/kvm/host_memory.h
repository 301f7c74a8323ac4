#pragma once
// Host memory for guest RAM and memory backend objects: anonymous memory,
// a file (-mem-path, memory-backend-file) or a memfd (memory-backend-memfd),
// mapped as QEMU maps them. Errors are std::runtime_error with QEMU's texts.
#include "base/unique_fd.h"
#include "kvm/memory_config.h"

#include <cstdint>

namespace kestrel {

// One mapping; unmapped (and with discard-data, punched empty) when it goes.
class HostMemory {
public:
    HostMemory() = default;
    HostMemory(HostMemory&& o) noexcept;
    HostMemory& operator=(HostMemory&& o) noexcept;
    HostMemory(const HostMemory&) = delete;
    HostMemory& operator=(const HostMemory&) = delete;
    ~HostMemory();

    // The RAM of -m with -mem-path / -mem-prealloc and no memory-backend=.
    static HostMemory map_legacy(const MemoryConfig& cfg);
    // A memory backend object's memory.
    static HostMemory map_backend(const MemoryBackendConfig& b);

    uint8_t* base() const { return base_; }
    uint64_t size() const { return size_; }
    int fd() const { return fd_.get(); }
    // Anonymous memory and a new memfd read as zeros; a file may hold anything.
    bool zero_at_creation() const { return zero_; }
    // Gives up ownership: the caller unmaps. The fd stays here.
    UniqueFd take_fd() { return std::move(fd_); }
    uint8_t* release() {
        uint8_t* p = base_;
        base_ = nullptr;
        return p;
    }

private:
    void reset();
    uint8_t* base_ = nullptr;
    uint64_t size_ = 0;
    UniqueFd fd_;
    bool zero_ = true;
    bool discard_data_ = false;
};

// madvise(MADV_DONTDUMP) / (MADV_DODUMP) over guest RAM, as QEMU's
// dump-guest-core; MADV_MERGEABLE for merge=on.
void advise_dump(uint8_t* base, uint64_t size, bool dump);

} // namespace kestrel
