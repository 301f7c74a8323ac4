#include "block/image/image_open.h"

#include "block/image/raw_image.h"
#include "block/image_file.h"
#include "block/image_lock.h"
#include "block/qcow2/qcow2_format.h"
#include "block/qcow2/qcow2_image.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace kestrel {

namespace {

// QEMU opens chains of any depth (qemu-io read through 70 images); kestrel
// bounds the recursion and the descriptors each image keeps open.
constexpr unsigned kMaxChainDepth = 256;

struct FileId {
    dev_t dev;
    ino_t ino;
    bool operator<(const FileId& o) const { return dev != o.dev ? dev < o.dev : ino < o.ino; }
};

ImagePermissions permissions_for(const ImageOpenOptions& o) {
    ImagePermissions perms = drive_permissions(!o.read_only, o.snapshot_base);
    if (o.force_share) perms.shared = kPermAll;
    return perms;
}

std::unique_ptr<AsyncImage> open_chain(AioContext& ctx, const ImageOpenOptions& o, std::set<FileId>& seen,
                                       unsigned depth);

std::unique_ptr<AsyncImage> open_backing_of(AioContext& ctx, Qcow2Image& image, const ImageOpenOptions& o,
                                            std::set<FileId>& seen, unsigned depth) {
    const qcow2::Header& h = image.header();
    ImageOpenOptions b;
    b.path = resolve_backing_path(o.path, h.backing_file);
    b.format = h.backing_format;
    b.read_only = true;
    b.cache = o.cache == CacheMode::Unsafe ? CacheMode::Writeback : o.cache;
    b.lock = o.lock;
    b.snapshot_base = true;
    b.force_share = o.force_share;
    b.l2_cache_bytes = o.l2_cache_bytes;
    try {
        if (depth + 1 >= kMaxChainDepth)
            throw std::runtime_error("Backing chain is too deep (more than " + std::to_string(kMaxChainDepth) + " images)");
        return open_chain(ctx, b, seen, depth + 1);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("Could not open backing file: ") + e.what());
    }
}

std::unique_ptr<AsyncImage> open_chain(AioContext& ctx, const ImageOpenOptions& o, std::set<FileId>& seen,
                                       unsigned depth) {
    std::string format = o.format.empty() ? probe_image_format(o.path) : o.format;
    if (format != "raw" && format != "qcow2") throw std::runtime_error("Unknown driver '" + format + "'");
    ImageFile file = open_image_file(o.path, !o.read_only, o.cache);
    struct stat st {};
    if (fstat(file.fd.get(), &st) == 0 && !seen.insert({st.st_dev, st.st_ino}).second)
        throw std::runtime_error("Backing file '" + o.path + "' creates an infinite loop.");
    if (o.lock) file.lock = lock_image(file.fd.get(), o.path, permissions_for(o));
    if (format == "raw")
        return std::make_unique<RawImage>(ctx, o.path, std::move(file), o.read_only, o.discard_unmap, o.cache);
    Qcow2OpenOptions q;
    q.read_only = o.read_only;
    q.cache = o.cache;
    q.discard_unmap = o.discard_unmap;
    q.l2_cache_bytes = o.l2_cache_bytes;
    q.for_repair = o.for_repair;
    std::unique_ptr<Qcow2Image> image = Qcow2Image::open(ctx, o.path, std::move(file), q);
    if (o.open_backing && !image->header().backing_file.empty())
        image->set_backing(open_backing_of(ctx, *image, o, seen, depth));
    return image;
}

} // namespace

std::string resolve_backing_path(const std::string& overlay, const std::string& backing) {
    if (backing.empty() || backing[0] == '/') return backing;
    auto slash = overlay.rfind('/');
    if (slash == std::string::npos) return backing;
    return overlay.substr(0, slash + 1) + backing;
}

std::string probe_image_format(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("Could not open '" + path + "': " + std::strerror(errno));
    uint8_t head[104] = {};
    ssize_t n = pread(fd, head, sizeof head, 0);
    close(fd);
    if (n == ssize_t(sizeof head) && qcow2::be32(head) == qcow2::kMagic && qcow2::be32(head + 4) >= 2)
        return "qcow2";
    return "raw";
}

std::unique_ptr<AsyncImage> open_image(AioContext& ctx, const ImageOpenOptions& options) {
    std::set<FileId> seen;
    return open_chain(ctx, options, seen, 0);
}

} // namespace kestrel
