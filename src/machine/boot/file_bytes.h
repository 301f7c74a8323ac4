#pragma once
// Boot images (kernel, initrd) kept so that a machine reset can reload
// them without opening the files again.
#include "base/file_bytes.h"
#include "base/unique_fd.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

// A boot file's bytes: the file mapped read-only (MAP_PRIVATE), or bytes
// held in memory (contents read from a pipe, or built by a test). A mapped
// file costs no memory of kestrel's own: its pages are the page cache's,
// and release_pages() takes them out of kestrel's RSS once they have been
// copied into guest RAM (they are read again from the page cache when
// needed: at a reset, or by fw_cfg).
class FileBytes {
public:
    FileBytes() = default;
    explicit FileBytes(std::vector<uint8_t> bytes);
    ~FileBytes();
    FileBytes(const FileBytes&) = delete;
    FileBytes& operator=(const FileBytes&) = delete;

    // Maps `path` (reads it when it cannot be mapped). 0 or an errno value.
    static int open(const std::string& path, std::shared_ptr<const FileBytes>& out);

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const uint8_t* begin() const { return data_; }
    const uint8_t* end() const { return data_ + size_; }
    operator std::span<const uint8_t>() const { return {data_, size_}; }

    // A mapped file whose size or modification time is no longer what it
    // was when mapped: its pages may now hold other bytes, or be gone.
    bool changed_on_disk() const;
    void release_pages() const;

private:
    std::vector<uint8_t> held_;
    UniqueFd fd_;  // of a mapped file: to see it change
    int64_t mtime_ns_ = 0;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    bool mapped_ = false;
};

} // namespace kestrel
