#pragma once
// The decompressed-kernel cache: one file per bzImage (keyed by a hash of
// its bytes) holding the kernel as its own decompressor would lay it out in
// memory, plus its relocation table, under a checksum.
//
// Folder: $KESTREL_KERNEL_CACHE if set ("off" disables the cache), else
// $XDG_CACHE_HOME/kestrel/kernels, else ~/.cache/kestrel/kernels; beside it
// the shared folder /var/cache/kestrel/kernels when it exists (root makes
// it) and only root or this user can write it (see from_environment). Bounded:
// after each new entry the least recently used ones go until the folder
// holds at most $KESTREL_KERNEL_CACHE_SIZE bytes (K/M/G suffixes; 512M).
// Entries appear whole or not at all (written as unnamed files, then
// linked and renamed into place); one process fills a given entry at a time
// (a lock file), others boot without it meanwhile. A reader checks the
// header and the checksum of everything it reads; a bad entry is removed.
#include "machine/boot/kernel_payload.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

struct CacheKey {
    uint8_t bytes[16] = {};
    std::string hex() const;
    bool operator==(const CacheKey&) const = default;
};

// XXH3-128 of the whole bzImage.
CacheKey kernel_cache_key(std::span<const uint8_t> bzimage);

class CacheEntry;

class KernelCache {
public:
    KernelCache(std::string dir, uint64_t max_bytes);
    // The caches the environment asks for, in lookup order; a miss fills
    // the first. The user's folder ($KESTREL_KERNEL_CACHE set: that alone;
    // "off": none) and `shared_dir` (made when this process is root) if it
    // is trusted: it and its parent are owned by root or by this user and
    // writable by nobody else, so no other user can plant a kernel there.
    // When this process can write the shared folder it comes first (its
    // entries outlive a per-run XDG_CACHE_HOME such as libvirt's).
    static std::vector<KernelCache> from_environment(const std::string& shared_dir = SHARED_DIR);
    static constexpr const char* SHARED_DIR = "/var/cache/kestrel/kernels";

    const std::string& dir() const { return dir_; }
    std::string entry_path(const CacheKey& key) const;

    enum class Status { Hit, Miss, Corrupt };
    // Opens the entry of `key` and checks its header. A bad header removes
    // the entry (Corrupt); `why` says what was wrong.
    Status open(const CacheKey& key, std::optional<CacheEntry>& entry, std::string& why) const;
    void remove(const CacheKey& key) const;

    // Writes the entry for `key` from a parsed decompressed kernel, whole
    // or not at all, then trims the folder. Throws std::runtime_error.
    void store(const CacheKey& key, const ParsedVmlinux& kernel,
               std::span<const uint8_t> payload) const;

    // A lock held while one process fills the entry of `key`; nullopt when
    // another process holds it (or the folder cannot be written).
    class FillLock {
    public:
        explicit FillLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
        FillLock(FillLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
        FillLock& operator=(FillLock&&) = delete;
        ~FillLock();

    private:
        int fd_;
        std::string path_;
    };
    std::optional<FillLock> try_lock_fill(const CacheKey& key) const;

    // Removes the least recently used entries (and stale temporary and lock
    // files) until the folder holds at most max_bytes.
    void trim() const;

private:
    bool ensure_dir() const;

    std::string dir_;
    uint64_t max_bytes_;
};

// An open, header-checked entry.
class CacheEntry {
public:
    CacheEntry(int fd, const KernelLayout& layout, uint64_t data_size, uint64_t relocs_offset,
               uint32_t counts[3], uint64_t checksum);
    CacheEntry(CacheEntry&& o) noexcept;
    CacheEntry& operator=(CacheEntry&&) = delete;
    ~CacheEntry();

    const KernelLayout& layout() const { return layout_; }
    // Reads the image into `dest` (exactly layout().image_size bytes) and
    // the relocations. The image's zero tail is not stored: it is written
    // only if `dest_is_zero` is false. Returns false with `why` set when a
    // read fails or the checksum does not match (dest then holds whatever
    // was read).
    bool read(std::span<uint8_t> dest, bool dest_is_zero, Relocations& relocs, std::string& why) const;
    uint64_t data_size() const { return data_size_; }
    // Marks the entry as recently used (its modification time).
    void touch() const;

private:
    int fd_;
    KernelLayout layout_;
    uint64_t data_size_;
    uint64_t relocs_offset_;
    uint32_t counts_[3];
    uint64_t checksum_;
};

} // namespace kestrel
