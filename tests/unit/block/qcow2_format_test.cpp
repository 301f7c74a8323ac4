// The qcow2 header, table entry and snapshot table parsers on byte
// buffers, valid and malformed (every malformed one must give QEMU's error,
// never a crash).
#include "block/qcow2/qcow2_format.h"

#include <catch2/catch.hpp>
#include <random>

using namespace kestrel::qcow2;

namespace {

Header sample_header() {
    Header h;
    h.version = 3;
    h.cluster_bits = 16;
    h.size = 1ull << 30;
    h.l1_size = 2;
    h.l1_table_offset = 0x30000;
    h.refcount_table_offset = 0x10000;
    h.refcount_table_clusters = 1;
    h.has_feature_table = true;
    h.feature_names = qemu_feature_names();
    return h;
}

std::vector<uint8_t> image_head(Header h) {
    std::vector<uint8_t> bytes = encode_header(h);
    bytes.resize(h.cluster_size(), 0);
    return bytes;
}

std::string parse_error(const std::vector<uint8_t>& head, bool writable = false) {
    try {
        parse_header(head, writable);
    } catch (const FormatError& e) {
        return e.what();
    }
    return "";
}

void poke32(std::vector<uint8_t>& b, size_t at, uint32_t v) { put_be32(&b[at], v); }
void poke64(std::vector<uint8_t>& b, size_t at, uint64_t v) { put_be64(&b[at], v); }

} // namespace

TEST_CASE("qcow2 header: what encode_header writes parses back", "[qcow2]") {
    Header h = sample_header();
    h.backing_file = "base.qcow2";
    h.backing_format = "qcow2";
    h.compatible_features = kCompatLazyRefcounts;
    Header back = parse_header(image_head(h), true);
    CHECK(back.version == 3);
    CHECK(back.cluster_size() == 65536);
    CHECK(back.size == (1ull << 30));
    CHECK(back.l1_size == 2);
    CHECK(back.l1_table_offset == 0x30000);
    CHECK(back.refcount_table_offset == 0x10000);
    CHECK(back.refcount_bits() == 16);
    CHECK(back.header_length == 112);
    CHECK(back.backing_file == "base.qcow2");
    CHECK(back.backing_format == "qcow2");
    CHECK(back.lazy_refcounts());
    CHECK(back.feature_names.size() == 8);
    CHECK(back.feature_names[5].name == "lazy refcounts");

    Header v2 = sample_header();
    v2.version = 2;
    v2.has_feature_table = false;
    Header back2 = parse_header(image_head(v2), true);
    CHECK(back2.version == 2);
    CHECK(back2.header_length == 72);
    CHECK(back2.refcount_order == 4);
}

TEST_CASE("qcow2 header: malformed headers give QEMU's errors", "[qcow2]") {
    std::vector<uint8_t> good = image_head(sample_header());
    auto with = [&](auto change) {
        std::vector<uint8_t> b = good;
        change(b);
        return parse_error(b);
    };
    CHECK(with([](auto& b) { b[0] = 'X'; }) == "Image is not in qcow2 format");
    CHECK(with([](auto& b) { poke32(b, 4, 4); }) == "Unsupported qcow2 version 4");
    CHECK(with([](auto& b) { poke32(b, 4, 1); }) == "Unsupported qcow2 version 1");
    CHECK(with([](auto& b) { poke32(b, 20, 8); }) == "Unsupported cluster size: 2^8");
    CHECK(with([](auto& b) { poke32(b, 20, 22); }) == "Unsupported cluster size: 2^22");
    CHECK(with([](auto& b) { poke32(b, 100, 96); }) == "qcow2 header too short");
    CHECK(with([](auto& b) {
              poke32(b, 20, 9);
              poke32(b, 100, 1024);
          }) == "qcow2 header exceeds cluster size");
    CHECK(with([](auto& b) { poke64(b, 8, 0x20000); }) == "Invalid backing file offset");
    CHECK(with([](auto& b) { poke32(b, 96, 7); }) == "Reference count entry width too large; may not exceed 64 bits");
    CHECK(with([](auto& b) { poke32(b, 32, 1); }) ==
          "Use of AES-CBC encrypted qcow2 images is no longer supported in system emulators");
    CHECK(with([](auto& b) { poke32(b, 32, 2); }) == "Encrypted qcow2 images (LUKS) are not supported by kestrel");
    CHECK(with([](auto& b) { poke32(b, 32, 3); }) == "Unsupported encryption method 3");
    CHECK(with([](auto& b) { poke64(b, 48, 0x10200); }) == "Reference count table offset invalid");
    CHECK(with([](auto& b) { poke32(b, 56, 0x1000); }) == "Reference count table too large");
    CHECK(with([](auto& b) { poke32(b, 56, 0); }) == "Image does not contain a reference count table");
    CHECK(with([](auto& b) { poke64(b, 40, 0x30008); }) == "Active L1 table offset invalid");
    CHECK(with([](auto& b) { poke32(b, 36, 0x400001); }) == "Active L1 table too large");
    CHECK(with([](auto& b) { poke32(b, 36, 1); }) == "L1 table is too small");
    CHECK(with([](auto& b) { poke32(b, 60, 70000); }) == "Snapshot table too large");
    CHECK(with([](auto& b) {
              poke32(b, 60, 1);
              poke64(b, 64, 0x123);
          }) == "Snapshot table offset invalid");
    CHECK(with([](auto& b) { b[104] = 1; }) == "qcow2: Compression type incompatible feature bit must be set");
    CHECK(with([](auto& b) { b[104] = 7; }) == "qcow2: unknown compression type: 7");
    CHECK(with([](auto& b) { poke64(b, 72, kIncompatCompression); }) ==
          "qcow2: Compression type incompatible feature bit must not be set");
    CHECK(with([](auto& b) { poke64(b, 72, kIncompatExtendedL2); }) ==
          "qcow2 images with extended L2 entries (subclusters) are not supported by kestrel");
    CHECK(with([](auto& b) { poke64(b, 72, kIncompatDataFile); }) ==
          "qcow2 images with an external data file are not supported by kestrel");
}

TEST_CASE("qcow2 header: unknown incompatible features are named from the feature table", "[qcow2]") {
    Header h = sample_header();
    h.feature_names.push_back({0, 9, "teleportation"});
    std::vector<uint8_t> b = image_head(h);
    poke64(b, 72, (1u << 9) | (1u << 12));
    CHECK(parse_error(b) == "Unsupported qcow2 feature(s): teleportation, Unknown incompatible feature: 1000");
    h.has_feature_table = false;
    b = image_head(h);
    poke64(b, 72, 1u << 5);
    CHECK(parse_error(b) == "Unsupported qcow2 feature(s): Unknown incompatible feature: 20");
}

TEST_CASE("qcow2 header: a corrupt image opens read-only only", "[qcow2]") {
    std::vector<uint8_t> b = image_head(sample_header());
    poke64(b, 72, kIncompatCorrupt);
    CHECK(parse_error(b, true) == "qcow2: Image is corrupt; cannot be opened read/write");
    CHECK(parse_error(b, false).empty());
}

TEST_CASE("qcow2 header: bad extensions", "[qcow2]") {
    Header h = sample_header();
    std::vector<uint8_t> b = image_head(h);
    poke32(b, 112, kExtBackingFormat);
    poke32(b, 116, 0x100000);
    CHECK(parse_error(b) == "Header extension too large");
    poke32(b, 116, 20);
    CHECK(parse_error(b) == "ERROR: ext_backing_format: len=20 too large (>=16)");
    poke32(b, 112, kExtBitmaps);
    poke32(b, 116, 8);
    CHECK(parse_error(b) == "bitmaps_ext: Invalid extension length");
    poke32(b, 112, 0x12345678);  // unknown (over the feature table's bytes): kept
    poke32(b, 116, 384);
    Header back = parse_header(b, false);
    REQUIRE(back.other_extensions.size() == 1);
    CHECK(back.other_extensions[0].type == 0x12345678);
    CHECK(back.other_extensions[0].data.size() == 384);
}

TEST_CASE("qcow2 header: truncated images read as zeros past their end, and fail cleanly", "[qcow2]") {
    std::vector<uint8_t> full = image_head(sample_header());
    for (size_t len : {0, 3, 4, 8, 24, 71, 72, 100}) {
        std::vector<uint8_t> b(full.begin(), full.begin() + long(len));
        CHECK_THROWS_AS(parse_header(b, false), FormatError);
    }
}

TEST_CASE("qcow2 header: random corruption never crashes the parser", "[qcow2]") {
    Header h = sample_header();
    h.backing_file = "base.img";
    h.backing_format = "raw";
    std::vector<uint8_t> good = encode_header(h);
    good.resize(4096, 0);
    std::mt19937 rng(1234);
    int parsed = 0, refused = 0;
    for (int i = 0; i < 20000; i++) {
        std::vector<uint8_t> b = good;
        int flips = 1 + int(rng() % 8);
        for (int f = 0; f < flips; f++) b[rng() % 700] = uint8_t(rng());
        b.resize(rng() % 2 ? b.size() : rng() % b.size());
        try {
            Header out = parse_header(b, rng() % 2);
            CHECK(out.cluster_bits >= 9);
            CHECK(out.cluster_bits <= 21);
            CHECK(out.backing_file.size() <= 1023);
            parsed++;
        } catch (const FormatError&) {
            refused++;
        }
    }
    CHECK(parsed > 0);
    CHECK(refused > 0);
}

TEST_CASE("qcow2 refcounts of every width pack like QEMU's", "[qcow2]") {
    for (uint32_t order = 0; order <= 6; order++) {
        std::vector<uint8_t> block(512, 0);
        uint64_t max = order == 6 ? UINT64_MAX : (uint64_t(1) << (1u << order)) - 1;
        uint64_t entries = 512 * 8 >> order;
        set_refcount(block, 5, order, max);
        set_refcount(block, 6, order, 1);
        for (uint64_t i = 0; i < entries; i++) {
            uint64_t want = i == 5 ? max : i == 6 ? 1 : 0;
            REQUIRE(get_refcount(block, i, order) == want);
        }
        set_refcount(block, 5, order, 0);
        CHECK(get_refcount(block, 5, order) == 0);
        CHECK(get_refcount(block, 6, order) == 1);
    }
    std::vector<uint8_t> bits(1, 0);
    set_refcount(bits, 0, 0, 1);
    CHECK(bits[0] == 0x01);  // lowest entry in the lowest bit
    set_refcount(bits, 7, 0, 1);
    CHECK(bits[0] == 0x81);
    std::vector<uint8_t> be(2, 0);
    set_refcount(be, 0, 4, 0x0102);
    CHECK(be[0] == 0x01);
    CHECK(be[1] == 0x02);
}

TEST_CASE("qcow2 L2 entries decode by kind", "[qcow2]") {
    Geometry g;
    g.cluster_bits = 16;
    CHECK(decode_l2(0, g).kind == ClusterKind::Unallocated);
    CHECK(decode_l2(kZeroFlag, g).kind == ClusterKind::Zero);
    L2Entry za = decode_l2(0x50000 | kZeroFlag | kCopied, g);
    CHECK(za.kind == ClusterKind::ZeroAlloc);
    CHECK(za.host_offset == 0x50000);
    CHECK(za.copied);
    L2Entry n = decode_l2(0x70000 | kCopied, g);
    CHECK(n.kind == ClusterKind::Normal);
    CHECK(n.host_offset == 0x70000);
    for (uint32_t bits : {9u, 12u, 16u, 21u}) {
        g.cluster_bits = bits;
        uint64_t offset = 0x123456789ull & g.coffset_mask(), bytes = 300;
        L2Entry c = decode_l2(encode_compressed(offset, bytes, g), g);
        CHECK(c.kind == ClusterKind::Compressed);
        CHECK(c.host_offset == offset);
        CHECK(c.compressed_bytes >= bytes);
        CHECK(c.compressed_bytes < bytes + 512);
        CHECK((c.host_offset + c.compressed_bytes) % 512 == 0);
    }
}

TEST_CASE("qcow2 snapshot table: round trip and malformed tables", "[qcow2]") {
    std::vector<Snapshot> in(2);
    in[0].id = "1";
    in[0].name = "before-upgrade";
    in[0].l1_table_offset = 0x90000;
    in[0].l1_size = 2;
    in[0].date_sec = 1700000000;
    in[0].vm_state_size = 5;
    in[0].disk_size = 1 << 30;
    in[1].id = "2";
    in[1].name = "x";
    in[1].icount = 42;
    in[1].disk_size = 4096;
    std::vector<uint8_t> table = encode_snapshot_table(in, 3);
    CHECK(table.size() % 8 == 0);
    std::vector<Snapshot> out = parse_snapshot_table(table, 2, 3);
    REQUIRE(out.size() == 2);
    CHECK(out[0].name == "before-upgrade");
    CHECK(out[0].l1_table_offset == 0x90000);
    CHECK(out[0].vm_state_size == 5);
    CHECK(out[0].disk_size == (1u << 30));
    CHECK(!out[0].icount);
    CHECK(out[1].icount == 42u);
    CHECK(snapshot_entry_size(table) + snapshot_entry_size(std::span(table).subspan(snapshot_entry_size(table))) ==
          table.size());

    std::vector<uint8_t> cut(table.begin(), table.begin() + 50);
    CHECK_THROWS_WITH(parse_snapshot_table(cut, 2, 3), "Failed to read snapshot table");
    std::vector<uint8_t> huge = table;
    put_be32(&huge[36], 5000);
    CHECK_THROWS_WITH(parse_snapshot_table(huge, 1, 3), Catch::Contains("Too much extra metadata"));
}
