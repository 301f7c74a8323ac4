#include "machine/boot/kernel_cache.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>
#include <xxhash.h>

namespace kestrel {
namespace {

constexpr char MAGIC[8] = {'K', 'E', 'S', 'T', 'R', 'E', 'L', 'K'};
constexpr uint32_t VERSION = 2;
constexpr uint64_t HEADER_SIZE = 4096;
constexpr uint64_t DEFAULT_MAX_BYTES = 512ull << 20;
constexpr uint32_t MAX_RELOCS = 1u << 24;
constexpr uint64_t MAX_IMAGE = 1ull << 30;
constexpr size_t IO_CHUNK = 4 << 20;
constexpr time_t STALE_S = 3600;  // temporary and lock files older than this are leftovers
constexpr const char* SUFFIX = ".kernel";

struct EntryHeader {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint8_t key[16];
    uint64_t load_phys, kernel_map, entry_offset, image_size, memory_size;
    uint64_t image_offset, relocs_offset;
    uint64_t data_size;  // image bytes stored; the rest of image_size is zeros (.bss, .brk)
    uint32_t counts[3];  // 32-bit, inverse 32-bit, 64-bit relocations
    uint32_t reserved;
    uint64_t checksum;         // XXH3-64 of the image, then the relocation offsets
    uint64_t header_checksum;  // XXH3-64 of the header before this field
};
static_assert(sizeof(EntryHeader) == 128);

uint64_t header_checksum(const EntryHeader& h) {
    return XXH3_64bits(&h, offsetof(EntryHeader, header_checksum));
}
uint64_t align8(uint64_t v) { return (v + 7) & ~uint64_t(7); }

std::string errno_text() { return std::strerror(errno); }

void pwrite_all(int fd, const void* data, size_t len, uint64_t off) {
    auto* p = static_cast<const uint8_t*>(data);
    while (len) {
        ssize_t n = pwrite(fd, p, len, off_t(off));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("writing the kernel cache entry: " + errno_text());
        p += n;
        off += uint64_t(n);
        len -= size_t(n);
    }
}

bool pread_all(int fd, void* data, size_t len, uint64_t off) {
    auto* p = static_cast<uint8_t*>(data);
    while (len) {
        ssize_t n = pread(fd, p, len, off_t(off));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        off += uint64_t(n);
        len -= size_t(n);
    }
    return true;
}

uint64_t parse_bytes(const char* text, uint64_t fallback) {
    if (!text || !*text) return fallback;
    char* end = nullptr;
    uint64_t v = std::strtoull(text, &end, 10);
    switch (end && *end ? *end : 0) {
    case 'G': case 'g': return v << 30;
    case 'M': case 'm': return v << 20;
    case 'K': case 'k': return v << 10;
    case 0: return v;
    default: return fallback;
    }
}

bool make_dirs(const std::string& path) {
    for (size_t i = 1; i <= path.size(); i++) {
        if (i < path.size() && path[i] != '/') continue;
        std::string part = path.substr(0, i);
        if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) return false;
    }
    struct stat st {};
    return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && access(path.c_str(), W_OK) == 0;
}

// Header fields that must agree with each other and with the file's size.
std::string check_header(const EntryHeader& h, const CacheKey& key, uint64_t file_size) {
    if (std::memcmp(h.magic, MAGIC, sizeof MAGIC) != 0 || h.version != VERSION ||
        h.header_size != HEADER_SIZE)
        return "not an entry of this kestrel version";
    if (h.header_checksum != header_checksum(h)) return "header checksum mismatch";
    if (std::memcmp(h.key, key.bytes, sizeof key.bytes) != 0) return "entry of another kernel";
    uint64_t relocs = uint64_t(h.counts[0]) + h.counts[1] + h.counts[2];
    if (h.image_size == 0 || h.image_size > MAX_IMAGE || h.memory_size < h.image_size ||
        h.memory_size > MAX_IMAGE || h.entry_offset >= h.image_size || h.data_size > h.image_size ||
        h.image_offset != HEADER_SIZE || h.relocs_offset != HEADER_SIZE + align8(h.data_size) ||
        h.counts[0] > MAX_RELOCS || h.counts[1] > MAX_RELOCS || h.counts[2] > MAX_RELOCS)
        return "inconsistent header";
    if (file_size != h.relocs_offset + relocs * 4)
        return fmt::format("{} bytes long, {} expected", file_size, h.relocs_offset + relocs * 4);
    return "";
}

class Hasher {
public:
    Hasher() : st_(XXH3_createState(), XXH3_freeState) {
        if (!st_) throw std::bad_alloc();
        XXH3_64bits_reset(st_.get());
    }
    void add(const void* p, size_t n) { XXH3_64bits_update(st_.get(), p, n); }
    uint64_t digest() const { return XXH3_64bits_digest(st_.get()); }

private:
    std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> st_;
};

// Where the image's contents end: past it, only zero pages (.bss, .brk),
// which need not be stored, read or copied into fresh guest RAM.
uint64_t data_size(const ParsedVmlinux& k, std::span<const uint8_t> payload) {
    for (auto s = k.segments.rbegin(); s != k.segments.rend(); ++s) {
        const uint8_t* p = payload.data() + s->file_offset;
        for (uint64_t n = s->size; n > 0; n--) {
            if (p[n - 1])
                return std::min<uint64_t>(k.layout.image_size, (s->image_offset + n + 4095) & ~uint64_t(4095));
        }
    }
    return 0;
}

// Writes the image's first `size` bytes (segments at their offsets, zeros
// between) and the relocation offsets, hashing as it goes. Returns the end.
uint64_t write_body(int fd, const ParsedVmlinux& k, std::span<const uint8_t> payload, uint64_t size,
                    Hasher& hash) {
    const std::vector<uint8_t> zeros(64 << 10, 0);
    uint64_t pos = 0;
    auto put = [&](const uint8_t* p, uint64_t n) {
        hash.add(p, n);
        pwrite_all(fd, p, n, HEADER_SIZE + pos);
        pos += n;
    };
    walk_image(k, payload, size, [&](const uint8_t* bytes, uint64_t n) {
        if (bytes) return put(bytes, n);
        for (uint64_t left = n; left > 0;) {
            const uint64_t chunk = std::min<uint64_t>(zeros.size(), left);
            put(zeros.data(), chunk);
            left -= chunk;
        }
    });
    pos = align8(pos);
    for (const auto* list : {&k.relocations.r32, &k.relocations.r32_inverse, &k.relocations.r64}) {
        hash.add(list->data(), list->size() * 4);
        pwrite_all(fd, list->data(), list->size() * 4, HEADER_SIZE + pos);
        pos += list->size() * 4;
    }
    return HEADER_SIZE + pos;
}

// Links the unnamed (O_TMPFILE) or temporary file `fd` in as `final`.
void publish(int fd, const std::string& tmp_name, const std::string& dir, const std::string& final) {
    std::string name = tmp_name;
    if (name.empty()) {
        name = fmt::format("{}/.tmp-{}-{}", dir, getpid(), uint64_t(fd));
        std::string self = fmt::format("/proc/self/fd/{}", fd);
        if (linkat(AT_FDCWD, self.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) != 0)
            throw std::runtime_error("linking the kernel cache entry: " + errno_text());
    }
    if (rename(name.c_str(), final.c_str()) != 0) {
        std::string err = errno_text();
        unlink(name.c_str());
        throw std::runtime_error("renaming the kernel cache entry: " + err);
    }
}

std::optional<std::string> user_cache_dir() {
    const char* xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') return std::string(xdg) + "/kestrel/kernels";
    const char* home = getenv("HOME");
    if (!home || home[0] != '/') return std::nullopt;
    return std::string(home) + "/.cache/kestrel/kernels";
}

// Owned by root or by this process's user, writable by no one else.
bool owned_by_us_alone(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
    return (st.st_uid == 0 || st.st_uid == geteuid()) && !(st.st_mode & (S_IWGRP | S_IWOTH));
}

// The folder holding `path` ("/" for a top-level one).
std::string parent_of(const std::string& path) { return path.substr(0, std::max<size_t>(path.rfind('/'), 1)); }

bool trusted_shared_dir(const std::string& dir) {
    if (dir.empty() || dir[0] != '/') return false;
    return owned_by_us_alone(dir) && owned_by_us_alone(parent_of(dir));
}

// Root makes the shared folder and its parent (root's, 0755), as a package
// would, inside a trusted grandparent (/var/cache): under libvirt the
// user's own folder is new at every start.
void make_shared_dir(const std::string& dir) {
    const std::string parent = parent_of(dir);
    if (dir.empty() || dir[0] != '/' || access(dir.c_str(), F_OK) == 0 || !owned_by_us_alone(parent_of(parent)))
        return;
    for (const std::string& d : {parent, dir})
        if (mkdir(d.c_str(), 0755) == 0) chmod(d.c_str(), 0755);  // whatever the umask
}

} // namespace

std::string CacheKey::hex() const {
    std::string s;
    for (uint8_t b : bytes) s += fmt::format("{:02x}", b);
    return s;
}

CacheKey kernel_cache_key(std::span<const uint8_t> bzimage) {
    XXH128_hash_t h = XXH3_128bits(bzimage.data(), bzimage.size());
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    CacheKey k;
    std::memcpy(k.bytes, c.digest, sizeof k.bytes);
    return k;
}

KernelCache::KernelCache(std::string dir, uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {}

std::vector<KernelCache> KernelCache::from_environment(const std::string& shared_dir) {
    const uint64_t max = parse_bytes(getenv("KESTREL_KERNEL_CACHE_SIZE"), DEFAULT_MAX_BYTES);
    const char* chosen = getenv("KESTREL_KERNEL_CACHE");
    if (chosen && *chosen) {
        if (std::string(chosen) == "off") return {};
        return {KernelCache(chosen, max)};
    }
    std::vector<KernelCache> caches;
    if (std::optional<std::string> own = user_cache_dir()) caches.emplace_back(*own, max);
    if (geteuid() == 0) make_shared_dir(shared_dir);
    if (trusted_shared_dir(shared_dir)) {
        auto at = faccessat(AT_FDCWD, shared_dir.c_str(), W_OK, AT_EACCESS) == 0 ? caches.begin() : caches.end();
        caches.emplace(at, shared_dir, max);
    }
    return caches;
}

std::string KernelCache::entry_path(const CacheKey& key) const { return dir_ + "/" + key.hex() + SUFFIX; }

bool KernelCache::ensure_dir() const { return make_dirs(dir_); }

KernelCache::Status KernelCache::open(const CacheKey& key, std::optional<CacheEntry>& entry,
                                      std::string& why) const {
    int fd = ::open(entry_path(key).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::Miss;
    EntryHeader h{};
    struct stat st {};
    if (fstat(fd, &st) != 0 || !pread_all(fd, &h, sizeof h, 0))
        why = "too short";
    else
        why = check_header(h, key, uint64_t(st.st_size));
    if (!why.empty()) {
        close(fd);
        remove(key);
        return Status::Corrupt;
    }
    KernelLayout l{h.load_phys, h.kernel_map, h.entry_offset, h.image_size, h.memory_size};
    entry.emplace(fd, l, h.data_size, h.relocs_offset, h.counts, h.checksum);
    return Status::Hit;
}

void KernelCache::remove(const CacheKey& key) const { unlink(entry_path(key).c_str()); }

void KernelCache::store(const CacheKey& key, const ParsedVmlinux& k, std::span<const uint8_t> payload) const {
    if (!ensure_dir()) throw std::runtime_error("cannot create " + dir_ + ": " + errno_text());
    std::string tmp_name;
    int fd = ::open(dir_.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {  // file systems without O_TMPFILE: a named temporary file
        tmp_name = fmt::format("{}/.tmp-{}-{}", dir_, getpid(), key.hex());
        fd = ::open(tmp_name.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    }
    if (fd < 0) throw std::runtime_error("cannot write to " + dir_ + ": " + errno_text());
    try {
        EntryHeader h{};
        std::memcpy(h.magic, MAGIC, sizeof MAGIC);
        h.version = VERSION;
        h.header_size = HEADER_SIZE;
        std::memcpy(h.key, key.bytes, sizeof h.key);
        const KernelLayout& l = k.layout;
        h.load_phys = l.load_phys, h.kernel_map = l.kernel_map, h.entry_offset = l.entry_offset;
        h.image_size = l.image_size, h.memory_size = l.memory_size;
        h.image_offset = HEADER_SIZE;
        h.data_size = data_size(k, payload);
        h.relocs_offset = HEADER_SIZE + align8(h.data_size);
        h.counts[0] = uint32_t(k.relocations.r32.size());
        h.counts[1] = uint32_t(k.relocations.r32_inverse.size());
        h.counts[2] = uint32_t(k.relocations.r64.size());
        Hasher hash;
        const uint64_t end = write_body(fd, k, payload, h.data_size, hash);
        if (end > max_bytes_) throw std::runtime_error("the kernel is larger than the cache's size limit");
        // The length open() expects, also when nothing was written past the
        // header (an image of zeros without relocations).
        if (ftruncate(fd, off_t(end)) != 0)
            throw std::runtime_error("writing the kernel cache entry: " + errno_text());
        h.checksum = hash.digest();
        h.header_checksum = header_checksum(h);
        pwrite_all(fd, &h, sizeof h, 0);
        publish(fd, tmp_name, dir_, entry_path(key));
    } catch (...) {
        if (!tmp_name.empty()) unlink(tmp_name.c_str());
        close(fd);
        throw;
    }
    close(fd);
    trim();
}

KernelCache::FillLock::~FillLock() {
    if (fd_ < 0) return;
    unlink(path_.c_str());  // while still held: a waiter re-checks the entry after locking
    close(fd_);
}

std::optional<KernelCache::FillLock> KernelCache::try_lock_fill(const CacheKey& key) const {
    if (!ensure_dir()) return std::nullopt;
    std::string path = dir_ + "/" + key.hex() + ".lock";
    int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) return std::nullopt;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return std::nullopt;
    }
    return FillLock(fd, path);
}

void KernelCache::trim() const {
    struct Item {
        std::string path;
        uint64_t size;
        time_t mtime;
    };
    std::vector<Item> entries;
    std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir_.c_str()), closedir);
    if (!d) return;
    const time_t now = time(nullptr);
    uint64_t total = 0;
    while (dirent* e = readdir(d.get())) {
        std::string name = e->d_name, path = dir_ + "/" + name;
        struct stat st {};
        if (name == "." || name == ".." || lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        bool leftover = name.starts_with(".tmp-") || name.ends_with(".lock");
        if (leftover && now - st.st_mtime > STALE_S) unlink(path.c_str());
        if (!name.ends_with(SUFFIX)) continue;
        entries.push_back({path, uint64_t(st.st_size), st.st_mtime});
        total += uint64_t(st.st_size);
    }
    std::sort(entries.begin(), entries.end(), [](const Item& a, const Item& b) { return a.mtime < b.mtime; });
    for (const Item& e : entries) {
        if (total <= max_bytes_) break;
        if (unlink(e.path.c_str()) == 0) total -= e.size;
    }
}

CacheEntry::CacheEntry(int fd, const KernelLayout& layout, uint64_t data_size, uint64_t relocs_offset,
                       uint32_t counts[3], uint64_t checksum)
    : fd_(fd), layout_(layout), data_size_(data_size), relocs_offset_(relocs_offset),
      counts_{counts[0], counts[1], counts[2]}, checksum_(checksum) {}

CacheEntry::CacheEntry(CacheEntry&& o) noexcept
    : fd_(o.fd_), layout_(o.layout_), data_size_(o.data_size_), relocs_offset_(o.relocs_offset_),
      counts_{o.counts_[0], o.counts_[1], o.counts_[2]}, checksum_(o.checksum_) {
    o.fd_ = -1;
}

CacheEntry::~CacheEntry() {
    if (fd_ >= 0) close(fd_);
}

bool CacheEntry::read(std::span<uint8_t> dest, bool dest_is_zero, Relocations& relocs,
                      std::string& why) const {
    if (dest.size() != layout_.image_size) {
        why = "destination size mismatch";
        return false;
    }
    if (!dest_is_zero) std::memset(dest.data() + data_size_, 0, dest.size() - data_size_);
    Hasher hash;
    for (uint64_t off = 0; off < data_size_; off += IO_CHUNK) {
        size_t n = size_t(std::min<uint64_t>(IO_CHUNK, data_size_ - off));
        if (!pread_all(fd_, dest.data() + off, n, HEADER_SIZE + off)) {
            why = "read error";
            return false;
        }
        hash.add(dest.data() + off, n);
    }
    uint64_t off = relocs_offset_;
    for (int i = 0; i < 3; i++) {
        auto& list = i == 0 ? relocs.r32 : i == 1 ? relocs.r32_inverse : relocs.r64;
        list.resize(counts_[i]);
        if (!pread_all(fd_, list.data(), list.size() * 4, off)) {
            why = "read error";
            return false;
        }
        hash.add(list.data(), list.size() * 4);
        off += list.size() * 4;
    }
    if (hash.digest() != checksum_) {
        why = "checksum mismatch";
        return false;
    }
    return true;
}

void CacheEntry::touch() const { futimens(fd_, nullptr); }

} // namespace kestrel
