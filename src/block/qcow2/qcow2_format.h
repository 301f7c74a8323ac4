#pragma once
// The qcow2 on-disk format (QEMU's docs/interop/qcow2.txt) as pure
// functions on byte buffers: the header and its extensions, L1/L2 entries,
// refcounts of every width and the snapshot table. Nothing here does I/O, so
// malformed images are tested (and fuzzed) without files. Errors are
// FormatError with QEMU's texts.
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace kestrel::qcow2 {

// errno-style code beside the message (EINVAL, ENOTSUP, EFBIG, EACCES).
class FormatError : public std::runtime_error {
public:
    FormatError(const std::string& what, int err) : std::runtime_error(what), err_(err) {}
    int err() const { return err_; }

private:
    int err_;
};

inline uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t be32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline uint64_t be64(const uint8_t* p) { return uint64_t(be32(p)) << 32 | be32(p + 4); }
inline void put_be16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}
inline void put_be32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = uint8_t(v >> (24 - 8 * i));
}
inline void put_be64(uint8_t* p, uint64_t v) {
    put_be32(p, uint32_t(v >> 32));
    put_be32(p + 4, uint32_t(v));
}

constexpr uint32_t kMagic = 0x514649fb;  // "QFI\xfb"
constexpr uint32_t kMinClusterBits = 9;
constexpr uint32_t kMaxClusterBits = 21;
constexpr uint32_t kV2HeaderLength = 72;
constexpr uint32_t kV3HeaderLength = 104;
constexpr uint32_t kMaxBackingNameLength = 1023;
constexpr uint64_t kMaxL1Bytes = 32u << 20;        // QEMU's QCOW_MAX_L1_SIZE
constexpr uint64_t kMaxReftableBytes = 8u << 20;   // QCOW_MAX_REFTABLE_SIZE
constexpr uint32_t kMaxSnapshots = 65536;
constexpr uint32_t kMaxSnapshotExtraData = 1024;
constexpr uint64_t kMaxSnapshotTableBytes = 64u << 20;

// Table entries.
constexpr uint64_t kOffsetMask = 0x00fffffffffffe00ull;  // bits 9-55
constexpr uint64_t kCopied = 1ull << 63;
constexpr uint64_t kCompressed = 1ull << 62;
constexpr uint64_t kZeroFlag = 1;
constexpr uint64_t kL1Reserved = 0x7f000000000001ffull;
constexpr uint64_t kL2Reserved = 0x3f000000000001feull;  // standard descriptors
constexpr uint64_t kReftableReserved = 0x1ff;

// Feature bits.
constexpr uint64_t kIncompatDirty = 1u << 0;
constexpr uint64_t kIncompatCorrupt = 1u << 1;
constexpr uint64_t kIncompatDataFile = 1u << 2;
constexpr uint64_t kIncompatCompression = 1u << 3;
constexpr uint64_t kIncompatExtendedL2 = 1u << 4;
constexpr uint64_t kIncompatKnown = 0x1f;
constexpr uint64_t kCompatLazyRefcounts = 1u << 0;
constexpr uint64_t kAutoclearBitmaps = 1u << 0;
constexpr uint64_t kAutoclearDataFileRaw = 1u << 1;

// Header extension types.
constexpr uint32_t kExtEnd = 0;
constexpr uint32_t kExtBackingFormat = 0xe2792aca;
constexpr uint32_t kExtFeatureTable = 0x6803f857;
constexpr uint32_t kExtBitmaps = 0x23852875;
constexpr uint32_t kExtCrypto = 0x0537be77;
constexpr uint32_t kExtDataFile = 0x44415441;

enum class CompressionType : uint8_t { Zlib = 0, Zstd = 1 };

struct FeatureName {
    uint8_t type = 0;  // 0 incompatible, 1 compatible, 2 autoclear
    uint8_t bit = 0;
    std::string name;
};

struct HeaderExtension {
    uint32_t type = 0;
    std::vector<uint8_t> data;
};

struct Header {
    uint32_t version = 3;
    uint64_t backing_file_offset = 0;
    uint32_t backing_file_size = 0;
    uint32_t cluster_bits = 16;
    uint64_t size = 0;
    uint32_t crypt_method = 0;
    uint32_t l1_size = 0;
    uint64_t l1_table_offset = 0;
    uint64_t refcount_table_offset = 0;
    uint32_t refcount_table_clusters = 0;
    uint32_t nb_snapshots = 0;
    uint64_t snapshots_offset = 0;
    uint64_t incompatible_features = 0;
    uint64_t compatible_features = 0;
    uint64_t autoclear_features = 0;
    uint32_t refcount_order = 4;
    uint32_t header_length = kV3HeaderLength;
    CompressionType compression_type = CompressionType::Zlib;
    // Fields past the ones known here (header_length beyond 112), kept.
    std::vector<uint8_t> unknown_fields;

    // From the extensions and the backing file name.
    std::string backing_file;
    std::string backing_format;
    std::string data_file;
    std::vector<FeatureName> feature_names;
    bool has_feature_table = false;
    std::vector<HeaderExtension> other_extensions;  // bitmaps, crypto, unknown: kept as they are

    uint64_t cluster_size() const { return uint64_t(1) << cluster_bits; }
    uint32_t refcount_bits() const { return 1u << refcount_order; }
    bool dirty() const { return incompatible_features & kIncompatDirty; }
    bool corrupt() const { return incompatible_features & kIncompatCorrupt; }
    bool lazy_refcounts() const { return compatible_features & kCompatLazyRefcounts; }
};

// Everything QEMU checks before it reads any table: magic, version, cluster
// size, header length, feature bits, refcount width, compression type,
// encryption, the extensions and the placement of the L1 table, refcount
// table and snapshot table. `head` holds the first bytes of the image (up to
// 2 MiB, less if the file is shorter; missing bytes read as zeros, as in
// QEMU). `writable`: a corrupt image is refused.
Header parse_header(std::span<const uint8_t> head, bool writable);

// The first cluster: header, extensions (backing format, feature table,
// the others kept), end marker, then the backing file name. Sets
// header_length and backing_file_offset/size. Throws FormatError when it
// does not fit.
std::vector<uint8_t> encode_header(Header& header);

// The 48-byte feature name table QEMU writes into v3 images.
std::vector<FeatureName> qemu_feature_names();

// Sizes and index arithmetic of one image.
struct Geometry {
    uint32_t cluster_bits = 16;
    uint32_t refcount_order = 4;
    uint64_t size = 0;

    uint64_t cluster_size() const { return uint64_t(1) << cluster_bits; }
    uint32_t l2_bits() const { return cluster_bits - 3; }
    uint64_t l2_entries() const { return uint64_t(1) << l2_bits(); }
    // Guest bytes one L2 table maps.
    uint64_t l2_span() const { return uint64_t(1) << (cluster_bits + l2_bits()); }
    uint64_t l1_index(uint64_t guest) const { return guest >> (cluster_bits + l2_bits()); }
    uint64_t l2_index(uint64_t guest) const { return (guest >> cluster_bits) & (l2_entries() - 1); }
    uint64_t offset_in_cluster(uint64_t v) const { return v & (cluster_size() - 1); }
    uint64_t cluster_floor(uint64_t v) const { return v & ~(cluster_size() - 1); }
    uint64_t cluster_ceil(uint64_t v) const { return cluster_floor(v + cluster_size() - 1); }
    uint32_t refcount_bits() const { return 1u << refcount_order; }
    // Refcount entries per refcount block, as a shift.
    uint32_t refblock_bits() const { return cluster_bits + 3 - refcount_order; }
    uint64_t refblock_entries() const { return uint64_t(1) << refblock_bits(); }
    uint64_t refcount_max() const {
        return refcount_order == 6 ? UINT64_MAX : (uint64_t(1) << refcount_bits()) - 1;
    }
    // L1 entries needed for `bytes` of guest disk.
    uint64_t l1_entries_for(uint64_t bytes) const { return (bytes + l2_span() - 1) / l2_span(); }
    // Compressed cluster descriptors.
    uint32_t csize_shift() const { return 62 - (cluster_bits - 8); }
    uint64_t csize_mask() const { return (uint64_t(1) << (cluster_bits - 8)) - 1; }
    uint64_t coffset_mask() const { return (uint64_t(1) << csize_shift()) - 1; }
};

Geometry geometry_of(const Header& header);

// What one L2 entry says about its guest cluster.
enum class ClusterKind {
    Unallocated,  // backing file, or zeros without one
    Zero,         // reads as zeros (v3 zero flag), no host cluster
    ZeroAlloc,    // reads as zeros, host cluster kept (zero flag + offset)
    Normal,       // data at host_offset
    Compressed,   // compressed data at host_offset, compressed_bytes long
};

struct L2Entry {
    ClusterKind kind = ClusterKind::Unallocated;
    uint64_t host_offset = 0;
    uint64_t compressed_bytes = 0;  // Compressed: bytes to read from host_offset
    bool copied = false;           // refcount is exactly 1: may be written in place
};

L2Entry decode_l2(uint64_t entry, const Geometry& g);
// An entry for a compressed cluster of `bytes` at host `offset`.
uint64_t encode_compressed(uint64_t offset, uint64_t bytes, const Geometry& g);
// Host clusters a compressed cluster touches (first, count).
std::pair<uint64_t, uint64_t> compressed_host_clusters(const L2Entry& e, const Geometry& g);

// Refcounts in a refcount block of any width (1..64 bits; sub-byte widths
// pack the lowest entry in the lowest bits, as QEMU does).
uint64_t get_refcount(std::span<const uint8_t> block, uint64_t index, uint32_t refcount_order);
void set_refcount(std::span<uint8_t> block, uint64_t index, uint32_t refcount_order, uint64_t value);

// Big-endian table of 64-bit entries.
std::vector<uint64_t> decode_table(std::span<const uint8_t> bytes);
std::vector<uint8_t> encode_table(std::span<const uint64_t> entries);

// One internal snapshot (the snapshot table).
struct Snapshot {
    uint64_t l1_table_offset = 0;
    uint32_t l1_size = 0;
    std::string id;
    std::string name;
    uint32_t date_sec = 0;
    uint32_t date_nsec = 0;
    uint64_t vm_clock_nsec = 0;
    uint64_t vm_state_size = 0;
    std::optional<uint64_t> disk_size;  // extra data (always in v3)
    std::optional<uint64_t> icount;
    std::vector<uint8_t> unknown_extra;  // extra data beyond what is known, kept
};

// Bytes of the table for nb entries starting at `table`: throws FormatError
// when an entry is incomplete or the table passes kMaxSnapshotTableBytes.
std::vector<Snapshot> parse_snapshot_table(std::span<const uint8_t> table, uint32_t nb_snapshots,
                                           uint32_t version);
std::vector<uint8_t> encode_snapshot_table(const std::vector<Snapshot>& snapshots, uint32_t version);
// Bytes one entry takes, for reading the table in pieces.
uint64_t snapshot_entry_size(std::span<const uint8_t> entry_head);

// QEMU's validate_table: entry count within `max_bytes`, offset cluster
// aligned and not overflowing. Throws "<name> too large" / "<name> offset
// invalid".
void validate_table(const Geometry& g, uint64_t offset, uint64_t entries, uint64_t entry_len,
                    uint64_t max_bytes, const std::string& name);

} // namespace kestrel::qcow2
