#include "block/image_lock.h"

#include <cerrno>
#include <fcntl.h>
#include <stdexcept>
#include <string>

namespace kestrel {

namespace {

constexpr int kPermLockBase = 100;
constexpr int kSharedLockBase = 200;
constexpr int kPermissionCount = 4;
constexpr const char* kPermissionNames[kPermissionCount] = {
    "consistent read", "write", "write unchanged", "resize"};

bool lock_byte(int fd, int offset) {
    struct flock fl {};
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = offset;
    fl.l_len = 1;
    return fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

// Whether another open file description holds a lock on the byte.
bool byte_locked_by_others(int fd, int offset) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = offset;
    fl.l_len = 1;
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0) return false;
    return fl.l_type != F_UNLCK;
}

std::string in_use_hint(const std::string& path) {
    return "\nIs another process using the image [" + path + "]?";
}

void apply_locks(int fd, ImagePermissions perms) {
    for (int i = 0; i < kPermissionCount; i++) {
        unsigned bit = 1u << i;
        if ((perms.used & bit) && !lock_byte(fd, kPermLockBase + i))
            throw std::runtime_error("Failed to lock byte " + std::to_string(kPermLockBase + i));
        if (!(perms.shared & bit) && !lock_byte(fd, kSharedLockBase + i))
            throw std::runtime_error("Failed to lock byte " + std::to_string(kSharedLockBase + i));
    }
}

void check_conflicts(int fd, const std::string& path, ImagePermissions perms) {
    for (int i = 0; i < kPermissionCount; i++) {
        if ((perms.used & (1u << i)) && byte_locked_by_others(fd, kSharedLockBase + i))
            throw std::runtime_error(std::string("Failed to get \"") + kPermissionNames[i] +
                                     "\" lock" + in_use_hint(path));
    }
    for (int i = 0; i < kPermissionCount; i++) {
        if (!(perms.shared & (1u << i)) && byte_locked_by_others(fd, kPermLockBase + i))
            throw std::runtime_error(std::string("Failed to get shared \"") + kPermissionNames[i] +
                                     "\" lock" + in_use_hint(path));
    }
}

void unlock_all(int fd) {
    struct flock fl {};
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = kPermLockBase;
    fl.l_len = kSharedLockBase + kPermissionCount - kPermLockBase;
    fcntl(fd, F_OFD_SETLK, &fl);
}

} // namespace

ImagePermissions drive_permissions(bool writable, bool snapshot_base) {
    ImagePermissions perms;
    perms.used = kPermConsistentRead | (writable ? kPermWrite : 0u);
    perms.shared = kPermAll & ~kPermWrite;
    if (snapshot_base) perms.shared &= ~kPermResize;
    return perms;
}

ImageLock lock_image(int fd, const std::string& path, ImagePermissions perms) {
    ImageLock lock(fd);
    apply_locks(fd, perms);
    check_conflicts(fd, path, perms);
    return lock;
}

void ImageLock::release() {
    if (fd_ >= 0) unlock_all(std::exchange(fd_, -1));
}

} // namespace kestrel
