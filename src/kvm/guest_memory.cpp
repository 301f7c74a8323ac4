#include "kvm/guest_memory.h"

#include "base/unique_fd.h"
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
#include <unistd.h>

namespace kestrel {
namespace {

std::string errno_text() { return std::strerror(errno); }

void log_discard_failure(const std::string& why) {
    static std::atomic<bool> logged{false};
    if (!logged.exchange(true)) spdlog::warn("guest RAM: cannot give pages back to the host: {}", why);
}

// -mem-path: a directory gets an unlinked temp file, a file is used as is.
UniqueFd open_backing_file(const std::string& path, uint64_t size) {
    struct stat st {};
    UniqueFd fd;
    if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        std::string tmpl = path + "/kestrel_back.XXXXXX";
        fd.reset(mkstemp(tmpl.data()));
        if (fd) unlink(tmpl.c_str());
    } else {
        fd.reset(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    }
    if (!fd)
        throw std::runtime_error("can't open backing store " + path + " for guest RAM: " + errno_text());
    if (ftruncate(fd.get(), off_t(size)) != 0)
        throw std::runtime_error("can't size backing store " + path + ": " + errno_text());
    return fd;
}

// -mem-prealloc: fault every page in now, and fail now if the host cannot
// back them (MAP_POPULATE alone would silently leave holes that SIGBUS later).
void preallocate(uint8_t* p, uint64_t size) {
    if (madvise(p, size, MADV_POPULATE_WRITE) == 0) return;
    if (errno != EINVAL) {
        std::string err = errno_text();
        munmap(p, size);
        throw std::runtime_error("os_mem_prealloc: Insufficient free host memory pages available to "
                                 "allocate guest RAM (" + err + ")");
    }
    // Kernels before 5.14: write each page's first byte back to itself.
    auto* bytes = reinterpret_cast<volatile uint8_t*>(p);
    const auto page = uint64_t(sysconf(_SC_PAGESIZE));
    for (uint64_t off = 0; off < size; off += page) bytes[off] = bytes[off];
}

[[noreturn]] void throw_map_error() {
    throw std::runtime_error("unable to map backing store for guest RAM: " + errno_text());
}

// Anonymous RAM starts on a 2 MiB boundary, as QEMU's does: KVM maps a
// host huge page into the guest as one large page only when guest-physical
// and host-virtual addresses agree modulo its size. Otherwise every 4 KiB
// the guest touches costs a nested page fault of its own (measured in the
// nested test host: ~96,000 such faults in one fio boot, 5x QEMU's).
// MAP_NORESERVE: the host commits pages as the guest touches them.
uint8_t* map_anonymous_ram(uint64_t size) {
    constexpr uint64_t kAlign = 2ull << 20;
    void* p = mmap(nullptr, size + kAlign, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw_map_error();
    auto start = reinterpret_cast<uintptr_t>(p);
    const uintptr_t aligned = (start + kAlign - 1) & ~uintptr_t(kAlign - 1);
    if (aligned > start) munmap(p, aligned - start);
    if (uintptr_t tail = start + size + kAlign - (aligned + size))
        munmap(reinterpret_cast<void*>(aligned + size), tail);
    auto* base = reinterpret_cast<uint8_t*>(aligned);
    madvise(base, size, MADV_HUGEPAGE);
    // What kestrel writes before the guest runs (boot data, ACPI tables,
    // the BIOS area) lies in the first 2 MiB, and Linux uses little of it:
    // small pages there keep a VM that has not run yet (-S) at a few KiB.
    madvise(base, std::min(size, kAlign), MADV_NOHUGEPAGE);
    madvise(base, size, MADV_MERGEABLE);
    return base;
}

// File (hugetlbfs) RAM is not MAP_NORESERVE, so a short hugepage pool fails
// here with a message instead of killing the guest with SIGBUS later. The
// file stays open: the balloon punches holes in it.
uint8_t* map_file_ram(int fd, uint64_t size) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) throw_map_error();
    return static_cast<uint8_t*>(p);
}

// hugetlbfs files are made of huge pages; everything else of small ones.
uint64_t backing_page_size(int fd) {
    const auto small = uint64_t(sysconf(_SC_PAGESIZE));
    struct statfs fs {};
    if (fd < 0 || fstatfs(fd, &fs) != 0 || fs.f_type != HUGETLBFS_MAGIC) return small;
    return uint64_t(fs.f_bsize);
}

struct RamMapping {
    uint8_t* base;
    UniqueFd fd;
};

RamMapping map_ram(const MemoryConfig& cfg) {
    UniqueFd fd;
    if (!cfg.mem_path.empty()) fd = open_backing_file(cfg.mem_path, cfg.size);
    uint8_t* base = fd ? map_file_ram(fd.get(), cfg.size) : map_anonymous_ram(cfg.size);
    if (cfg.prealloc) preallocate(base, cfg.size);
    return {base, std::move(fd)};
}

} // namespace

GuestMemory::GuestMemory(uint8_t* base, uint64_t size, std::vector<MemoryRegion> regions, UniqueFd fd,
                         bool zero)
    : base_(base), map_size_(size), regions_(std::move(regions)), fd_(std::move(fd)),
      page_size_(backing_page_size(fd_.get())), zero_at_creation_(zero) {}

GuestMemory::GuestMemory(GuestMemory&& o) noexcept
    : base_(o.base_), map_size_(o.map_size_), regions_(std::move(o.regions_)), fd_(std::move(o.fd_)),
      page_size_(o.page_size_), zero_at_creation_(o.zero_at_creation_) {
    o.base_ = nullptr;
    o.map_size_ = 0;
}

GuestMemory::~GuestMemory() {
    if (base_) munmap(base_, map_size_);
}

GuestMemory GuestMemory::create_pc(const MemoryConfig& cfg) {
    RamMapping ram = map_ram(cfg);
    std::vector<MemoryRegion> regions;
    uint64_t low = pc::ram_below_4g(cfg.size);
    regions.push_back({0, low, ram.base});
    if (uint64_t high = pc::ram_above_4g(cfg.size))
        regions.push_back({pc::HIGHMEM_START, high, ram.base + low});
    return GuestMemory(ram.base, cfg.size, std::move(regions), std::move(ram.fd),
                       cfg.mem_path.empty());
}

GuestMemory GuestMemory::create_flat(uint64_t size) {
    MemoryConfig cfg;
    cfg.size = size;
    RamMapping ram = map_ram(cfg);
    return GuestMemory(ram.base, size, {{0, size, ram.base}}, std::move(ram.fd), true);
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
    if (fd_ && fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off_t(offset), off_t(len)) != 0) {
        log_discard_failure(std::string("fallocate: ") + errno_text());
        return false;
    }
    if (page_size_ == uint64_t(sysconf(_SC_PAGESIZE)) && madvise(host, len, MADV_DONTNEED) != 0) {
        log_discard_failure(std::string("madvise: ") + errno_text());
        return false;
    }
    return true;
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
