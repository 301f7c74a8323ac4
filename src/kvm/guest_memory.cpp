#include "kvm/guest_memory.h"

#include "kvm/pc_memory_map.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/magic.h>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <thread>
#include <unistd.h>

namespace kestrel {
namespace {

std::string errno_text() { return std::strerror(errno); }

void log_discard_failure(const std::string& why) {
    static std::atomic<bool> logged{false};
    if (!logged.exchange(true)) spdlog::warn("guest RAM: cannot give pages back to the host: {}", why);
}

// hugetlbfs files are made of huge pages; everything else of small ones.
uint64_t backing_page_size(int fd) {
    const auto small = uint64_t(sysconf(_SC_PAGESIZE));
    struct statfs fs {};
    if (fd < 0 || fstatfs(fd, &fs) != 0 || fs.f_type != HUGETLBFS_MAGIC) return small;
    return uint64_t(fs.f_bsize);
}

HostMemory map_ram(const MemoryConfig& cfg) {
    return cfg.backend ? HostMemory::map_backend(*cfg.backend) : HostMemory::map_legacy(cfg);
}

constexpr uint64_t kPopulateChunk = 2ull << 20;

} // namespace

// MADV_POPULATE_WRITE faults pages in as a write would, but leaves the
// bytes alone, so the guest may already be running and writing the same
// range. Kernels before 5.14 lack it: then nothing is done (touching the
// bytes from here could undo the guest's writes).
class GuestMemory::Populator {
public:
    using Ranges = std::vector<std::pair<uint8_t*, uint64_t>>;
    explicit Populator(Ranges ranges) : thread_([this, r = std::move(ranges)] { run(r); }) {}
    ~Populator() {
        stop_ = true;
        wait();
    }
    void wait() {
        if (thread_.joinable()) thread_.join();
    }

private:
    void run(const Ranges& ranges) {
        for (const auto& [begin, len] : ranges)
            if (!populate(begin, len)) return;
    }
    // From the end down, 2 MiB at a time (a huge page each): a guest that
    // clears the range from its start meets this thread halfway instead of
    // following it.
    bool populate(uint8_t* begin, uint64_t len) {
        const auto page = uint64_t(sysconf(_SC_PAGESIZE));
        const auto first = reinterpret_cast<uintptr_t>(begin) & ~uintptr_t(page - 1);
        uintptr_t end = reinterpret_cast<uintptr_t>(begin) + len;
        while (end > first) {
            if (stop_) return false;
            uintptr_t start = std::max<uintptr_t>(first, (end - 1) & ~uintptr_t(kPopulateChunk - 1));
            if (madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_WRITE) != 0) return false;
            end = start;
        }
        return true;
    }

    std::atomic<bool> stop_{false};
    std::thread thread_;
};

GuestMemory::GuestMemory(HostMemory ram, std::vector<MemoryRegion> regions)
    : base_(ram.base()), map_size_(ram.size()), regions_(std::move(regions)),
      page_size_(backing_page_size(ram.fd())), zero_at_creation_(ram.zero_at_creation()), ram_(std::move(ram)) {}

GuestMemory::GuestMemory(GuestMemory&& o) noexcept
    : base_(o.base_), map_size_(o.map_size_), regions_(std::move(o.regions_)), page_size_(o.page_size_),
      zero_at_creation_(o.zero_at_creation_), ram_(std::move(o.ram_)), populator_(std::move(o.populator_)) {
    o.base_ = nullptr;
    o.map_size_ = 0;
}

GuestMemory::~GuestMemory() = default;

GuestMemory GuestMemory::create_pc(const MemoryConfig& cfg) {
    HostMemory ram = map_ram(cfg);
    std::vector<MemoryRegion> regions;
    uint64_t low = pc::ram_below_4g(cfg.size);
    regions.push_back({0, low, ram.base()});
    if (uint64_t high = pc::ram_above_4g(cfg.size))
        regions.push_back({pc::HIGHMEM_START, high, ram.base() + low});
    return GuestMemory(std::move(ram), std::move(regions));
}

GuestMemory GuestMemory::create_flat(uint64_t size) {
    MemoryConfig cfg;
    cfg.size = size;
    HostMemory ram = map_ram(cfg);
    uint8_t* base = ram.base();
    return GuestMemory(std::move(ram), {{0, size, base}});
}

uint64_t GuestMemory::below_4g() const { return regions_.empty() ? 0 : regions_[0].size; }
uint64_t GuestMemory::above_4g() const { return regions_.size() > 1 ? regions_[1].size : 0; }

uint8_t* GuestMemory::host_ptr(uint64_t gpa, uint64_t len) const {
    for (const auto& r : regions_) {
        if (gpa >= r.gpa && gpa - r.gpa <= r.size && len <= r.size - (gpa - r.gpa))
            return r.host + (gpa - r.gpa);
    }
    return nullptr;
}

// QEMU's order: a file loses the range first (for hugetlbfs that also
// unmaps it), then small pages are dropped from the mapping, which for a
// shared file leaves it reading the hole just punched.
bool GuestMemory::discard(uint8_t* host, uint64_t len) const {
    const uint64_t mask = page_size_ - 1;
    const auto offset = uint64_t(host - base_);
    if (host < base_ || offset > map_size_ || len > map_size_ - offset || ((offset | len) & mask) != 0) {
        log_discard_failure("a range outside guest RAM or not page aligned");
        return false;
    }
    if (len == 0) return true;
    if (ram_.fd() >= 0 && fallocate(ram_.fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off_t(offset), off_t(len)) != 0) {
        log_discard_failure(std::string("fallocate: ") + errno_text());
        return false;
    }
    if (page_size_ == uint64_t(sysconf(_SC_PAGESIZE)) && madvise(host, len, MADV_DONTNEED) != 0) {
        log_discard_failure(std::string("madvise: ") + errno_text());
        return false;
    }
    return true;
}

void GuestMemory::populate_in_background(std::vector<std::pair<uint64_t, uint64_t>> ranges) const {
    wait_for_populate();
    populate_pending_.clear();
    for (const auto& [gpa, len] : ranges)
        if (uint8_t* p = host_ptr(gpa, len); p && len) populate_pending_.emplace_back(p, len);
    if (!populate_held_) release_populate();
}

void GuestMemory::release_populate() const {
    populate_held_ = false;
    if (populate_pending_.empty()) return;
    populator_ = std::make_unique<Populator>(std::move(populate_pending_));
    populate_pending_.clear();
}

void GuestMemory::wait_for_populate() const {
    if (!populator_) return;
    populator_->wait();
    populator_.reset();
}

bool GuestMemory::read(uint64_t gpa, std::span<uint8_t> out) const {
    uint8_t* p = host_ptr(gpa, out.size());
    if (!p) return false;
    std::memcpy(out.data(), p, out.size());
    return true;
}

bool GuestMemory::write(uint64_t gpa, std::span<const uint8_t> in) const {
    uint8_t* p = host_ptr(gpa, in.size());
    if (!p) return false;
    std::memcpy(p, in.data(), in.size());
    return true;
}

} // namespace kestrel
