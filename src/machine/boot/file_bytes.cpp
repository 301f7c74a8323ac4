#include "machine/boot/file_bytes.h"

#include "base/file_bytes.h"
#include "base/unique_fd.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kestrel {

namespace {

int64_t mtime_ns(const struct stat& st) { return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec; }

} // namespace

FileBytes::FileBytes(std::vector<uint8_t> bytes) : held_(std::move(bytes)) {
    data_ = held_.data();
    size_ = held_.size();
}

FileBytes::~FileBytes() {
    if (mapped_) munmap(const_cast<uint8_t*>(data_), size_);
}

int FileBytes::open(const std::string& path, std::shared_ptr<const FileBytes>& out) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return errno;
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return errno;
    if (S_ISDIR(st.st_mode)) return EISDIR;
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        void* p = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
        if (p != MAP_FAILED) {
            auto bytes = std::make_shared<FileBytes>();
            bytes->data_ = static_cast<const uint8_t*>(p);
            bytes->size_ = size_t(st.st_size);
            bytes->mapped_ = true;
            bytes->mtime_ns_ = mtime_ns(st);
            bytes->fd_ = std::move(fd);
            out = std::move(bytes);
            return 0;
        }
    }
    std::vector<uint8_t> held;
    if (int err = read_fd_bytes(fd.get(), held)) return err;
    out = std::make_shared<const FileBytes>(std::move(held));
    return 0;
}

bool FileBytes::changed_on_disk() const {
    if (!mapped_) return false;
    struct stat st {};
    return fstat(fd_.get(), &st) != 0 || uint64_t(st.st_size) != size_ || mtime_ns(st) != mtime_ns_;
}

void FileBytes::release_pages() const {
    if (mapped_) madvise(const_cast<uint8_t*>(data_), size_, MADV_DONTNEED);
}

} // namespace kestrel
