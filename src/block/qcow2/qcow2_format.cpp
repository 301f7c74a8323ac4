#include "block/qcow2/qcow2_format.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cinttypes>
#include <cstdio>

namespace kestrel::qcow2 {

namespace {

[[noreturn]] void fail(const std::string& what, int err = EINVAL) { throw FormatError(what, err); }

std::string hex(uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%" PRIx64, v);
    return buf;
}

// The image's first bytes; anything past the file reads as zeros.
class HeadReader {
public:
    explicit HeadReader(std::span<const uint8_t> head) : head_(head) {}
    void copy(uint64_t offset, void* out, size_t len) const {
        if (len == 0) return;
        auto* dst = static_cast<uint8_t*>(out);
        std::memset(dst, 0, len);
        if (offset >= head_.size()) return;
        size_t n = size_t(std::min<uint64_t>(len, head_.size() - offset));
        std::memcpy(dst, head_.data() + offset, n);
    }
    uint32_t u32(uint64_t offset) const {
        uint8_t b[4];
        copy(offset, b, 4);
        return be32(b);
    }
    uint64_t u64(uint64_t offset) const {
        uint8_t b[8];
        copy(offset, b, 8);
        return be64(b);
    }
    std::vector<uint8_t> bytes(uint64_t offset, size_t len) const {
        std::vector<uint8_t> out(len);
        copy(offset, out.data(), len);
        return out;
    }

private:
    std::span<const uint8_t> head_;
};

void read_fixed_fields(const HeadReader& in, Header& h) {
    h.backing_file_offset = in.u64(8);
    h.backing_file_size = in.u32(16);
    h.cluster_bits = in.u32(20);
    h.size = in.u64(24);
    h.crypt_method = in.u32(32);
    h.l1_size = in.u32(36);
    h.l1_table_offset = in.u64(40);
    h.refcount_table_offset = in.u64(48);
    h.refcount_table_clusters = in.u32(56);
    h.nb_snapshots = in.u32(60);
    h.snapshots_offset = in.u64(64);
}

void read_v3_fields(const HeadReader& in, Header& h) {
    if (h.version == 2) {
        h.incompatible_features = h.compatible_features = h.autoclear_features = 0;
        h.refcount_order = 4;
        h.header_length = kV2HeaderLength;
        return;
    }
    h.incompatible_features = in.u64(72);
    h.compatible_features = in.u64(80);
    h.autoclear_features = in.u64(88);
    h.refcount_order = in.u32(96);
    h.header_length = in.u32(100);
    if (h.header_length < kV3HeaderLength) fail("qcow2 header too short");
}

void read_additional_fields(const HeadReader& in, Header& h) {
    uint8_t type = 0;
    if (h.header_length > 104) in.copy(104, &type, 1);
    h.compression_type = CompressionType(type);
    if (h.header_length > 112) h.unknown_fields = in.bytes(112, h.header_length - 112);
}

std::string ext_string(const std::vector<uint8_t>& data) {
    return std::string(data.begin(), data.end());
}

void read_feature_table(const std::vector<uint8_t>& data, Header& h) {
    h.has_feature_table = true;
    for (size_t i = 0; i + 48 <= data.size(); i += 48) {
        FeatureName f;
        f.type = data[i];
        f.bit = data[i + 1];
        const char* name = reinterpret_cast<const char*>(&data[i + 2]);
        f.name = std::string(name, strnlen(name, 46));
        h.feature_names.push_back(std::move(f));
    }
}

// QEMU's qcow2_read_extensions: from the end of the header to the backing
// file name (or the end of the first cluster).
void read_extensions(const HeadReader& in, Header& h) {
    uint64_t end = h.backing_file_offset ? h.backing_file_offset : h.cluster_size();
    uint64_t offset = h.header_length;
    while (offset < end) {
        uint32_t type = in.u32(offset);
        uint32_t len = in.u32(offset + 4);
        offset += 8;
        if (offset > end || len > end - offset) fail("Header extension too large");
        std::vector<uint8_t> data = in.bytes(offset, len);
        switch (type) {
        case kExtEnd: return;
        case kExtBackingFormat:
            if (len >= 16)
                fail("ERROR: ext_backing_format: len=" + std::to_string(len) + " too large (>=16)");
            h.backing_format = ext_string(data);
            break;
        case kExtFeatureTable: read_feature_table(data, h); break;
        case kExtDataFile: h.data_file = ext_string(data); break;
        case kExtCrypto:
            if (h.crypt_method != 2) fail("CRYPTO header extension only expected with LUKS encryption method");
            h.other_extensions.push_back({type, std::move(data)});
            break;
        case kExtBitmaps:
            if (len != 24) fail("bitmaps_ext: Invalid extension length");
            h.other_extensions.push_back({type, std::move(data)});
            break;
        default: h.other_extensions.push_back({type, std::move(data)}); break;
        }
        offset += (uint64_t(len) + 7) & ~uint64_t(7);
    }
}

void check_incompatible(const Header& h, bool writable) {
    uint64_t unknown = h.incompatible_features & ~kIncompatKnown;
    if (unknown) {
        std::string names;
        for (const FeatureName& f : h.feature_names) {
            if (f.type != 0 || f.bit > 63 || !(unknown & (uint64_t(1) << f.bit))) continue;
            names += (names.empty() ? "" : ", ") + f.name;
            unknown &= ~(uint64_t(1) << f.bit);
        }
        if (unknown) names += (names.empty() ? "" : ", ") + ("Unknown incompatible feature: " + hex(unknown));
        fail("Unsupported qcow2 feature(s): " + names, ENOTSUP);
    }
    if (h.corrupt() && writable) fail("qcow2: Image is corrupt; cannot be opened read/write", EACCES);
    if (h.incompatible_features & kIncompatDataFile)
        fail("qcow2 images with an external data file are not supported by kestrel", ENOTSUP);
    if (h.incompatible_features & kIncompatExtendedL2)
        fail("qcow2 images with extended L2 entries (subclusters) are not supported by kestrel", ENOTSUP);
}

void check_compression(const Header& h) {
    bool flagged = h.incompatible_features & kIncompatCompression;
    auto type = uint8_t(h.compression_type);
    if (type > 1) fail("qcow2: unknown compression type: " + std::to_string(type));
    if (type == 0 && flagged) fail("qcow2: Compression type incompatible feature bit must not be set");
    if (type != 0 && !flagged) fail("qcow2: Compression type incompatible feature bit must be set");
}

void check_encryption(const Header& h) {
    if (h.crypt_method > 2) fail("Unsupported encryption method " + std::to_string(h.crypt_method));
    if (h.crypt_method == 1)
        fail("Use of AES-CBC encrypted qcow2 images is no longer supported in system emulators", ENOTSUP);
    if (h.crypt_method == 2) fail("Encrypted qcow2 images (LUKS) are not supported by kestrel", ENOTSUP);
}

void check_tables(const Header& h) {
    Geometry g = geometry_of(h);
    validate_table(g, h.refcount_table_offset, uint64_t(h.refcount_table_clusters) << (h.cluster_bits - 3), 8,
                   kMaxReftableBytes, "Reference count table");
    if (h.refcount_table_clusters == 0) fail("Image does not contain a reference count table");
    validate_table(g, h.snapshots_offset, h.nb_snapshots, 40, 40ull * kMaxSnapshots, "Snapshot table");
    validate_table(g, h.l1_table_offset, h.l1_size, 8, kMaxL1Bytes, "Active L1 table");
    uint64_t needed = g.l1_entries_for(h.size);
    if (needed > INT32_MAX) fail("Image is too big", EFBIG);
    if (h.l1_size < needed) fail("L1 table is too small");
}

void read_backing_name(const HeadReader& in, Header& h) {
    if (!h.backing_file_offset) return;
    if (h.backing_file_size > kMaxBackingNameLength) fail("Backing file name too long");
    std::vector<uint8_t> name = in.bytes(h.backing_file_offset, h.backing_file_size);
    h.backing_file = std::string(name.begin(), name.end());
}

} // namespace

Geometry geometry_of(const Header& header) {
    Geometry g;
    g.cluster_bits = header.cluster_bits;
    g.refcount_order = header.refcount_order;
    g.size = header.size;
    return g;
}

void validate_table(const Geometry& g, uint64_t offset, uint64_t entries, uint64_t entry_len,
                    uint64_t max_bytes, const std::string& name) {
    if (entries > max_bytes / entry_len) fail(name + " too large", EFBIG);
    uint64_t bytes = entries * entry_len;
    if (uint64_t(INT64_MAX) - bytes < offset || g.offset_in_cluster(offset))
        fail(name + " offset invalid");
}

Header parse_header(std::span<const uint8_t> head, bool writable) {
    HeadReader in(head);
    Header h;
    if (in.u32(0) != kMagic) fail("Image is not in qcow2 format");
    h.version = in.u32(4);
    if (h.version < 2 || h.version > 3) fail("Unsupported qcow2 version " + std::to_string(h.version), ENOTSUP);
    read_fixed_fields(in, h);
    if (h.cluster_bits < kMinClusterBits || h.cluster_bits > kMaxClusterBits)
        fail("Unsupported cluster size: 2^" + std::to_string(h.cluster_bits));
    read_v3_fields(in, h);
    if (h.header_length > h.cluster_size()) fail("qcow2 header exceeds cluster size");
    if (h.header_length % 8 && h.version == 3) fail("qcow2 header length is not a multiple of 8");
    read_additional_fields(in, h);
    if (h.backing_file_offset > h.cluster_size()) fail("Invalid backing file offset");
    read_extensions(in, h);
    check_incompatible(h, writable);
    if (h.refcount_order > 6) fail("Reference count entry width too large; may not exceed 64 bits");
    check_compression(h);
    check_encryption(h);
    check_tables(h);
    read_backing_name(in, h);
    return h;
}

std::vector<FeatureName> qemu_feature_names() {
    return {{0, 0, "dirty bit"},          {0, 1, "corrupt bit"},    {0, 2, "external data file"},
            {0, 3, "compression type"},   {0, 4, "extended L2 entries"}, {1, 0, "lazy refcounts"},
            {2, 0, "bitmaps"},            {2, 1, "raw external data"}};
}

namespace {

void append_extension(std::vector<uint8_t>& out, uint32_t type, std::span<const uint8_t> data) {
    size_t at = out.size();
    out.resize(at + 8 + ((data.size() + 7) & ~size_t(7)), 0);
    put_be32(&out[at], type);
    put_be32(&out[at + 4], uint32_t(data.size()));
    if (!data.empty()) std::memcpy(&out[at + 8], data.data(), data.size());
}

std::span<const uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::vector<uint8_t> feature_table_bytes(const std::vector<FeatureName>& names) {
    std::vector<uint8_t> data(names.size() * 48, 0);
    for (size_t i = 0; i < names.size(); i++) {
        data[i * 48] = names[i].type;
        data[i * 48 + 1] = names[i].bit;
        std::memcpy(&data[i * 48 + 2], names[i].name.data(), std::min<size_t>(names[i].name.size(), 46));
    }
    return data;
}

} // namespace

std::vector<uint8_t> encode_header(Header& h) {
    if (h.version == 2) {
        h.header_length = kV2HeaderLength;
    } else {
        h.header_length = uint32_t(std::max<size_t>(112, 112 + ((h.unknown_fields.size() + 7) & ~size_t(7))));
    }
    std::vector<uint8_t> out(h.header_length, 0);
    put_be32(&out[0], kMagic);
    put_be32(&out[4], h.version);
    put_be32(&out[20], h.cluster_bits);
    put_be64(&out[24], h.size);
    put_be32(&out[32], h.crypt_method);
    put_be32(&out[36], h.l1_size);
    put_be64(&out[40], h.l1_table_offset);
    put_be64(&out[48], h.refcount_table_offset);
    put_be32(&out[56], h.refcount_table_clusters);
    put_be32(&out[60], h.nb_snapshots);
    put_be64(&out[64], h.snapshots_offset);
    if (h.version >= 3) {
        put_be64(&out[72], h.incompatible_features);
        put_be64(&out[80], h.compatible_features);
        put_be64(&out[88], h.autoclear_features);
        put_be32(&out[96], h.refcount_order);
        put_be32(&out[100], h.header_length);
        out[104] = uint8_t(h.compression_type);
        if (!h.unknown_fields.empty()) std::memcpy(&out[112], h.unknown_fields.data(), h.unknown_fields.size());
    }
    if (!h.backing_format.empty()) append_extension(out, kExtBackingFormat, as_bytes(h.backing_format));
    if (!h.data_file.empty()) append_extension(out, kExtDataFile, as_bytes(h.data_file));
    for (const HeaderExtension& e : h.other_extensions) append_extension(out, e.type, e.data);
    if (h.has_feature_table) append_extension(out, kExtFeatureTable, feature_table_bytes(h.feature_names));
    append_extension(out, kExtEnd, {});
    if (h.backing_file.size() > kMaxBackingNameLength) fail("Backing file name too long");
    if (h.backing_file.empty()) {
        h.backing_file_offset = 0;
        h.backing_file_size = 0;
    } else {
        h.backing_file_offset = out.size();
        h.backing_file_size = uint32_t(h.backing_file.size());
        out.insert(out.end(), h.backing_file.begin(), h.backing_file.end());
    }
    put_be64(&out[8], h.backing_file_offset);
    put_be32(&out[16], h.backing_file_size);
    if (out.size() > h.cluster_size()) fail("No space left in the file header", ENOSPC);
    return out;
}

L2Entry decode_l2(uint64_t entry, const Geometry& g) {
    L2Entry e;
    if (entry & kCompressed) {
        e.kind = ClusterKind::Compressed;
        e.host_offset = entry & g.coffset_mask();
        uint64_t sectors = ((entry >> g.csize_shift()) & g.csize_mask()) + 1;
        e.compressed_bytes = sectors * 512 - (e.host_offset & 511);
        return e;
    }
    e.copied = entry & kCopied;
    e.host_offset = entry & kOffsetMask;
    if (entry & kZeroFlag)
        e.kind = e.host_offset ? ClusterKind::ZeroAlloc : ClusterKind::Zero;
    else
        e.kind = e.host_offset ? ClusterKind::Normal : ClusterKind::Unallocated;
    return e;
}

uint64_t encode_compressed(uint64_t offset, uint64_t bytes, const Geometry& g) {
    uint64_t last_sector = (offset + bytes - 1) >> 9;
    uint64_t extra_sectors = last_sector - (offset >> 9);
    return kCompressed | (extra_sectors << g.csize_shift()) | offset;
}

std::pair<uint64_t, uint64_t> compressed_host_clusters(const L2Entry& e, const Geometry& g) {
    uint64_t first = e.host_offset >> g.cluster_bits;
    uint64_t last = (e.host_offset + e.compressed_bytes - 1) >> g.cluster_bits;
    return {first, last - first + 1};
}

uint64_t get_refcount(std::span<const uint8_t> block, uint64_t index, uint32_t order) {
    switch (order) {
    case 0:
    case 1:
    case 2: {
        uint32_t bits = 1u << order;
        uint32_t per_byte = 8 / bits;
        uint32_t shift = uint32_t(index % per_byte) * bits;
        return (block[index / per_byte] >> shift) & ((1u << bits) - 1);
    }
    case 3: return block[index];
    case 4: return be16(&block[index * 2]);
    case 5: return be32(&block[index * 4]);
    default: return be64(&block[index * 8]);
    }
}

void set_refcount(std::span<uint8_t> block, uint64_t index, uint32_t order, uint64_t value) {
    switch (order) {
    case 0:
    case 1:
    case 2: {
        uint32_t bits = 1u << order;
        uint32_t per_byte = 8 / bits;
        uint32_t shift = uint32_t(index % per_byte) * bits;
        uint8_t mask = uint8_t(((1u << bits) - 1) << shift);
        uint8_t& b = block[index / per_byte];
        b = uint8_t((b & ~mask) | ((value << shift) & mask));
        return;
    }
    case 3: block[index] = uint8_t(value); return;
    case 4: put_be16(&block[index * 2], uint16_t(value)); return;
    case 5: put_be32(&block[index * 4], uint32_t(value)); return;
    default: put_be64(&block[index * 8], value); return;
    }
}

// (Tables of up to 2^18 entries are decoded at every open and check: one
// byte swap each, not eight shifts.)
std::vector<uint64_t> decode_table(std::span<const uint8_t> bytes) {
    std::vector<uint64_t> out(bytes.size() / 8);
    if (out.empty()) return out;  // (memcpy from a null span)
    std::memcpy(out.data(), bytes.data(), out.size() * 8);
    if constexpr (std::endian::native == std::endian::little)
        for (uint64_t& v : out) v = __builtin_bswap64(v);
    return out;
}

std::vector<uint8_t> encode_table(std::span<const uint64_t> entries) {
    std::vector<uint8_t> out(entries.size() * 8);
    uint8_t* p = out.data();
    for (uint64_t v : entries) {
        if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
        std::memcpy(p, &v, 8);
        p += 8;
    }
    return out;
}

} // namespace kestrel::qcow2
