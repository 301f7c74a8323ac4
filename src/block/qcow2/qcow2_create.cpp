#include "block/qcow2/qcow2_create.h"

#include "block/qcow2/qcow2_format.h"

#include <bit>
#include <cerrno>
#include <unistd.h>
#include <vector>

namespace kestrel {

using namespace qcow2;

std::string check_qcow2_create_options(const Qcow2CreateOptions& o) {
    if (!std::has_single_bit(o.cluster_size) || o.cluster_size < 512 || o.cluster_size > (2u << 20))
        return "Cluster size must be a power of two between 512 and 2048k";
    if (o.size % 512) return "Image size must be a multiple of 512 bytes";
    if (o.version < 3 && o.lazy_refcounts)
        return "Lazy refcounts only supported with compatibility level 1.1 and above (use version=v3 or greater)";
    if (!std::has_single_bit(o.refcount_bits) || o.refcount_bits > 64)
        return "Refcount width must be a power of two and may not exceed 64 bits";
    if (o.version < 3 && o.refcount_bits != 16)
        return "Different refcount widths than 16 bits require compatibility level 1.1 or above (use version=v3 or "
               "greater)";
    if (!o.backing_format.empty() && o.backing_file.empty())
        return "Backing format cannot be used without backing file";
    if (!o.backing_file.empty() && o.preallocation != Preallocation::Off)
        return "Backing file and preallocation can only be used at the same time if extended_l2 is on";
    if (o.version < 3 && o.compression_type != CompressionType::Zlib)
        return "Non-zlib compression type is only supported with compatibility level 1.1 and above (use version=v3 "
               "or greater)";
    Geometry g;
    g.cluster_bits = uint32_t(std::countr_zero(o.cluster_size));
    if (g.l1_entries_for(o.size) * 8 > kMaxL1Bytes) return "The image size is too large (try using a larger cluster size)";
    return "";
}

namespace {

int write_all(int fd, const std::vector<uint8_t>& data, uint64_t offset) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = pwrite(fd, data.data() + done, data.size() - done, off_t(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? -errno : -EIO;
        done += size_t(n);
    }
    return 0;
}

uint64_t div_ceil(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

} // namespace

int write_new_qcow2(int fd, const Qcow2CreateOptions& o) {
    Header h;
    h.version = o.version;
    h.cluster_bits = uint32_t(std::countr_zero(o.cluster_size));
    h.size = o.size;
    h.refcount_order = uint32_t(std::countr_zero(o.refcount_bits));
    h.header_length = o.version >= 3 ? 112 : kV2HeaderLength;
    if (o.lazy_refcounts) h.compatible_features |= kCompatLazyRefcounts;
    h.compression_type = o.compression_type;
    if (o.compression_type != CompressionType::Zlib) h.incompatible_features |= kIncompatCompression;
    h.backing_file = o.backing_file;
    h.backing_format = o.backing_format;
    // QEMU names the features only where clusters are 8 KiB or larger.
    if (o.version >= 3 && o.cluster_size >= 8192) {
        h.has_feature_table = true;
        h.feature_names = qemu_feature_names();
    }
    Geometry g = geometry_of(h);
    const uint64_t cs = g.cluster_size();
    h.l1_size = uint32_t(g.l1_entries_for(o.size));
    const uint64_t l1_clusters = div_ceil(uint64_t(h.l1_size) * 8, cs);
    // Refcount table and blocks big enough to count everything, themselves too.
    uint64_t blocks = 1, table_clusters = 1;
    for (;;) {
        uint64_t total = 1 + table_clusters + blocks + l1_clusters;
        uint64_t b = div_ceil(total, g.refblock_entries());
        uint64_t t = div_ceil(b * 8, cs);
        if (b == blocks && t == table_clusters) break;
        blocks = std::max(blocks, b);
        table_clusters = std::max(table_clusters, t);
    }
    const uint64_t total = 1 + table_clusters + blocks + l1_clusters;
    h.refcount_table_offset = cs;
    h.refcount_table_clusters = uint32_t(table_clusters);
    const uint64_t first_block = 1 + table_clusters;
    h.l1_table_offset = (first_block + blocks) * cs;

    std::vector<uint8_t> header;
    try {
        header = encode_header(h);
    } catch (const FormatError&) {
        return -ENOSPC;
    }
    header.resize(cs, 0);
    std::vector<uint64_t> reftable(table_clusters * cs / 8, 0);
    for (uint64_t i = 0; i < blocks; i++) reftable[i] = (first_block + i) * cs;
    std::vector<uint8_t> refblocks(blocks * cs, 0);
    for (uint64_t c = 0; c < total; c++) set_refcount(refblocks, c, h.refcount_order, 1);

    int r = write_all(fd, header, 0);
    if (r == 0) r = write_all(fd, encode_table(reftable), cs);
    if (r == 0) r = write_all(fd, refblocks, first_block * cs);
    if (r == 0 && h.l1_size) r = write_all(fd, std::vector<uint8_t>(uint64_t(h.l1_size) * 8, 0), h.l1_table_offset);
    return r;
}

} // namespace kestrel
