#include "block/image_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/stat.h>

namespace kestrel {

namespace {

[[noreturn]] void throw_open_error(const std::string& path, const char* reason) {
    throw std::runtime_error("Could not open '" + path + "': " + reason);
}

// A directory or character device given as file=: refused before opening,
// as QEMU's 'file' driver does.
void check_file_type(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;  // open() reports it
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        throw std::runtime_error("'file' driver requires '" + path + "' to be a regular file");
}

UniqueFd open_or_throw(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags);
    if (fd >= 0) return UniqueFd(fd);
    int err = errno;
    if (err == EINVAL && (flags & O_DIRECT)) {
        UniqueFd probe(::open(path.c_str(), flags & ~O_DIRECT));
        if (probe) throw_open_error(path, "filesystem does not support O_DIRECT");
    }
    throw_open_error(path, std::strerror(err));
}

uint64_t device_size(int fd, const std::string& path) {
    uint64_t bytes = 0;
    if (ioctl(fd, BLKGETSIZE64, &bytes) != 0)
        throw std::runtime_error("Could not get the size of '" + path + "': " + std::strerror(errno));
    return bytes;
}

} // namespace

int cache_mode_open_flags(CacheMode cache) {
    switch (cache) {
    case CacheMode::None: return O_DIRECT;
    case CacheMode::Writethrough: return O_DSYNC;
    case CacheMode::Directsync: return O_DIRECT | O_DSYNC;
    case CacheMode::Writeback:
    case CacheMode::Unsafe: break;
    }
    return 0;
}

ImageFile open_image_file(const std::string& path, bool writable, CacheMode cache) {
    check_file_type(path);
    int base_flags = O_CLOEXEC | (writable ? O_RDWR : O_RDONLY);
    int cache_flags = cache_mode_open_flags(cache);
    ImageFile image;
    image.fd = open_or_throw(path, base_flags | cache_flags);

    struct stat st {};
    if (fstat(image.fd.get(), &st) != 0) throw_open_error(path, std::strerror(errno));
    image.block_device = S_ISBLK(st.st_mode);
    if (image.block_device) {
        image.size = device_size(image.fd.get(), path);
        int sector = 0;
        if (ioctl(image.fd.get(), BLKSSZGET, &sector) == 0 && sector > 0)
            image.logical_block_size = static_cast<uint32_t>(sector);
    } else {
        image.size = static_cast<uint64_t>(st.st_size);
    }

    if (cache_flags & O_DIRECT) {
        probe_dio_alignment(image);
        image.buffered_fd = open_or_throw(path, base_flags | (cache_flags & ~O_DIRECT));
    }
    return image;
}

// Direct I/O alignment from statx (Linux 6.1+); otherwise the usual 512
// bytes, with the device's sector size for offsets. A request the kernel
// still refuses (EINVAL) is retried on the buffered fd.
void probe_dio_alignment(ImageFile& image) {
    struct statx sx {};
    if (statx(image.fd.get(), "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
        (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_mem_align && sx.stx_dio_offset_align) {
        image.dio_mem_align = sx.stx_dio_mem_align;
        image.dio_offset_align = sx.stx_dio_offset_align;
        return;
    }
    image.dio_mem_align = 512;
    image.dio_offset_align = image.block_device ? image.logical_block_size : 512;
}

} // namespace kestrel
