#pragma once
// QEMU-compatible image locking, so that kestrel and qemu-system-x86_64
// refuse each other's images exactly as two QEMUs do.
//
// Each permission bit i (consistent read, write, write unchanged, resize)
// has two lock bytes in the image file, locked with shared (read) OFD locks:
//   100 + i  held while we USE the permission,
//   200 + i  held while we do NOT SHARE it with others.
// Opening checks that nobody else unshares what we use (byte 200+i) and that
// nobody else uses what we unshare (byte 100+i). OFD locks belong to the open
// file description, so two opens in one process conflict too. Closing the
// fd is not enough to release them: an io_uring request that has completed
// may still hold the file for a moment, so a reopen of the same image would
// find the old locks. ImageLock unlocks explicitly.
#include <string>
#include <utility>

namespace kestrel {

enum ImagePermission : unsigned {
    kPermConsistentRead = 1u << 0,
    kPermWrite = 1u << 1,
    kPermWriteUnchanged = 1u << 2,
    kPermResize = 1u << 3,
    kPermAll = (1u << 4) - 1,
};

struct ImagePermissions {
    unsigned used = 0;    // what this open does
    unsigned shared = 0;  // what others may do meanwhile
};

// What QEMU's -drive takes: a writer uses read+write and shares all but
// write; a reader uses read and shares all but write; the base of a
// snapshot=on drive also refuses resizing.
ImagePermissions drive_permissions(bool writable, bool snapshot_base);

// The lock bytes held on an fd; released on destruction, which must come
// before the fd is closed.
class ImageLock {
public:
    ImageLock() = default;
    explicit ImageLock(int fd) : fd_(fd) {}
    ~ImageLock() { release(); }
    ImageLock(ImageLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    ImageLock& operator=(ImageLock&& other) noexcept {
        if (this != &other) {
            release();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    ImageLock(const ImageLock&) = delete;
    ImageLock& operator=(const ImageLock&) = delete;

    void release();

private:
    int fd_ = -1;
};

// Takes the locks on fd, then checks for conflicts. Throws std::runtime_error
// with QEMU's text, e.g.
//   Failed to get "write" lock\nIs another process using the image [PATH]?
//   Failed to get shared "write" lock\nIs another process using the image [PATH]?
[[nodiscard]] ImageLock lock_image(int fd, const std::string& path, ImagePermissions perms);

} // namespace kestrel
