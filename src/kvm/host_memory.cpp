#include "kvm/host_memory.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/memfd.h>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace kestrel {
namespace {

constexpr uint64_t kHugeAlign = 2ull << 20;

std::string errno_text() { return std::strerror(errno); }

[[noreturn]] void throw_map_error() {
    throw std::runtime_error("unable to map backing store for guest RAM: " + errno_text());
}

// A directory gets an unlinked temporary file, a file is used as is (and
// grown to `size` when shorter, as QEMU does).
UniqueFd open_backing_file(const std::string& path, uint64_t size, bool readonly) {
    struct stat st {};
    UniqueFd fd;
    if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        std::string tmpl = path + "/kestrel_back.XXXXXX";
        fd.reset(mkostemp(tmpl.data(), O_CLOEXEC));
        if (fd) unlink(tmpl.c_str());
    } else {
        fd.reset(open(path.c_str(), (readonly ? O_RDONLY : O_RDWR | O_CREAT) | O_CLOEXEC, 0600));
    }
    if (!fd)
        throw std::runtime_error("can't open backing store " + path + " for guest RAM: " + errno_text());
    if (fstat(fd.get(), &st) == 0 && uint64_t(st.st_size) < size && !readonly &&
        ftruncate(fd.get(), off_t(size)) != 0)
        throw std::runtime_error("can't size backing store " + path + ": " + errno_text());
    return fd;
}

UniqueFd create_memfd(const MemoryBackendConfig& b) {
    unsigned flags = MFD_CLOEXEC | (b.seal ? MFD_ALLOW_SEALING : 0);
    if (b.hugetlb) {
        flags |= MFD_HUGETLB;
        if (b.hugetlbsize) flags |= unsigned(__builtin_ctzll(b.hugetlbsize)) << MFD_HUGE_SHIFT;
    }
    UniqueFd fd(memfd_create(MemoryBackendConfig::type_name(b.kind), flags));
    if (!fd) throw std::runtime_error("failed to create memfd: " + errno_text());
    if (ftruncate(fd.get(), off_t(b.size)) != 0) throw std::runtime_error("failed to resize memfd to " +
                                                                          std::to_string(b.size) + ": " + errno_text());
    if (b.seal && fcntl(fd.get(), F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
        throw std::runtime_error("failed to add seals to memfd: " + errno_text());
    return fd;
}

// Fault every page in now, and fail now if the host cannot back them
// (MAP_POPULATE alone would silently leave holes that SIGBUS later).
void preallocate(uint8_t* p, uint64_t size) {
    if (madvise(p, size, MADV_POPULATE_WRITE) == 0) return;
    if (errno != EINVAL) {
        std::string err = errno_text();
        throw std::runtime_error("os_mem_prealloc: Insufficient free host memory pages available to "
                                 "allocate guest RAM (" + err + ")");
    }
    // Kernels before 5.14: write each page's first byte back to itself.
    auto* bytes = reinterpret_cast<volatile uint8_t*>(p);
    const auto page = uint64_t(sysconf(_SC_PAGESIZE));
    for (uint64_t off = 0; off < size; off += page) bytes[off] = bytes[off];
}

// Maps `size` bytes at an address aligned to `align`: KVM maps a host huge
// page into the guest as one large page only when guest-physical and
// host-virtual addresses agree modulo its size. fd < 0: anonymous memory.
uint8_t* map_aligned(int fd, uint64_t size, uint64_t align, int prot, int flags) {
    void* area = mmap(nullptr, size + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (area == MAP_FAILED) throw_map_error();
    auto start = reinterpret_cast<uintptr_t>(area);
    const uintptr_t aligned = (start + align - 1) & ~uintptr_t(align - 1);
    void* p = mmap(reinterpret_cast<void*>(aligned), size, prot, flags | MAP_FIXED | (fd < 0 ? MAP_ANONYMOUS : 0),
                   fd, 0);
    if (p == MAP_FAILED) {
        int err = errno;
        munmap(area, size + align);
        errno = err;
        throw_map_error();
    }
    if (aligned > start) munmap(area, aligned - start);
    if (uintptr_t tail = start + size + align - (aligned + size)) munmap(reinterpret_cast<void*>(aligned + size), tail);
    return static_cast<uint8_t*>(p);
}

// Anonymous RAM: huge pages where the guest uses them; the first 2 MiB
// (what kestrel writes before the guest runs, little used by Linux) in
// small pages keeps a VM that has not run yet (-S) at a few KiB.
void advise_anonymous(uint8_t* base, uint64_t size) {
    madvise(base, size, MADV_HUGEPAGE);
    madvise(base, std::min(size, kHugeAlign), MADV_NOHUGEPAGE);
}

} // namespace

void advise_dump(uint8_t* base, uint64_t size, bool dump) {
    madvise(base, size, dump ? MADV_DODUMP : MADV_DONTDUMP);
}

HostMemory::HostMemory(HostMemory&& o) noexcept { *this = std::move(o); }

HostMemory& HostMemory::operator=(HostMemory&& o) noexcept {
    if (this != &o) {
        reset();
        base_ = std::exchange(o.base_, nullptr);
        size_ = std::exchange(o.size_, 0);
        fd_ = std::move(o.fd_);
        zero_ = o.zero_;
        discard_data_ = o.discard_data_;
    }
    return *this;
}

HostMemory::~HostMemory() { reset(); }

void HostMemory::reset() {
    if (discard_data_ && fd_) fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, off_t(size_));
    if (base_) munmap(base_, size_);
    base_ = nullptr;
}

// -mem-path files are mapped shared (the balloon punches holes in them);
// hugetlbfs pages are not MAP_NORESERVE, so a short pool fails here with a
// message instead of killing the guest with SIGBUS later.
HostMemory HostMemory::map_legacy(const MemoryConfig& cfg) {
    HostMemory m;
    m.size_ = cfg.size;
    if (!cfg.mem_path.empty()) {
        m.fd_ = open_backing_file(cfg.mem_path, cfg.size, false);
        void* p = mmap(nullptr, cfg.size, PROT_READ | PROT_WRITE, MAP_SHARED, m.fd_.get(), 0);
        if (p == MAP_FAILED) throw_map_error();
        m.base_ = static_cast<uint8_t*>(p);
        m.zero_ = false;
    } else {
        m.base_ = map_aligned(-1, cfg.size, kHugeAlign, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
        advise_anonymous(m.base_, cfg.size);
    }
    if (cfg.merge) madvise(m.base_, cfg.size, MADV_MERGEABLE);
    if (!cfg.dump) advise_dump(m.base_, cfg.size, false);
    if (cfg.prealloc) preallocate(m.base_, cfg.size);
    return m;
}

HostMemory HostMemory::map_backend(const MemoryBackendConfig& b) {
    using Kind = MemoryBackendConfig::Kind;
    HostMemory m;
    m.size_ = b.size;
    if (b.kind == Kind::File) m.fd_ = open_backing_file(b.mem_path, b.size, b.readonly);
    if (b.kind == Kind::Memfd) m.fd_ = create_memfd(b);
    int prot = PROT_READ | (b.readonly ? 0 : PROT_WRITE);
    int flags = (b.share ? MAP_SHARED : MAP_PRIVATE) | (b.reserve ? 0 : MAP_NORESERVE);
    uint64_t align = std::max<uint64_t>(b.align, kHugeAlign);
    m.base_ = map_aligned(m.fd_.get(), b.size, align, prot, flags);
    m.zero_ = b.kind != Kind::File;
    m.discard_data_ = b.kind == Kind::File && b.discard_data;
    if (b.kind == Kind::Ram) advise_anonymous(m.base_, b.size);
    if (b.merge) madvise(m.base_, b.size, MADV_MERGEABLE);
    if (!b.dump) advise_dump(m.base_, b.size, false);
    if (b.prealloc) preallocate(m.base_, b.size);
    return m;
}

} // namespace kestrel
