// qcow2 images whose refcounts a fuzzer (or an attacker) chose: counts of
// 2^63 and more in 64-bit refcount blocks, counts and refcount blocks for
// space past the end of the file.
#include "block/async/co_sync.h"
#include "block/image/image_open.h"
#include "block/qcow2/qcow2_check.h"
#include "block/qcow2/qcow2_create.h"
#include "block/qcow2/qcow2_image.h"
#include "block_test_util.h"

#include <algorithm>
#include <fcntl.h>

using namespace kestrel;
using namespace kestrel::test;

namespace {

std::string make_qcow2(const std::string& path, uint32_t cluster_size, uint32_t refcount_bits) {
    Qcow2CreateOptions o;
    o.size = 4 << 20;
    o.cluster_size = cluster_size;
    o.refcount_bits = refcount_bits;
    return make_qcow2_image(path, o);
}

uint64_t file_size(const std::string& path) {
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    return uint64_t(st.st_size);
}

void put64(const std::string& path, uint64_t offset, uint64_t value) {
    uint8_t bytes[8];
    qcow2::put_be64(bytes, value);
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(pwrite(fd, bytes, 8, off_t(offset)) == 8);
    close(fd);
}

uint64_t reftable_offset(const std::string& path) { return qcow2::be64(read_file(path, 48, 8).data()); }
uint64_t first_refblock(const std::string& path) {
    return qcow2::be64(read_file(path, reftable_offset(path), 8).data());
}

std::unique_ptr<AsyncImage> open_qcow2(AioContext& ctx, const std::string& path, bool writable,
                                       bool repair = false) {
    ImageOpenOptions o;
    o.path = path;
    o.format = "qcow2";
    o.read_only = !writable;
    o.for_repair = repair;
    o.open_backing = false;
    return open_image(ctx, o);
}

Qcow2CheckResult check(AioContext& ctx, const std::string& path, Qcow2Repair repair = Qcow2Repair::None) {
    auto img = open_qcow2(ctx, path, repair != Qcow2Repair::None, repair != Qcow2Repair::None);
    Qcow2CheckResult res;
    REQUIRE(ctx.run(qcow2_check(static_cast<Qcow2Image&>(*img), repair, res)) == 0);
    for (const std::string& m : res.messages) UNSCOPED_INFO(m);
    return res;
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; i++) v[i] = uint8_t(seed + i * 13 + (i >> 9));
    return v;
}

void write_and_close(AioContext& ctx, const std::string& path, uint64_t offset, std::vector<uint8_t> data) {
    auto img = open_qcow2(ctx, path, true);
    std::vector<iovec> iov{{data.data(), data.size()}};
    REQUIRE(ctx.run(img->write(offset, iov)) == 0);
    REQUIRE(ctx.run(img->close()) == 0);
}

void require_reads(AioContext& ctx, const std::string& path, uint64_t offset, const std::vector<uint8_t>& want) {
    auto img = open_qcow2(ctx, path, false);
    std::vector<uint8_t> back(want.size());
    std::vector<iovec> iov{{back.data(), back.size()}};
    REQUIRE(ctx.run(img->read(offset, iov)) == 0);
    CHECK(back == want);
}

} // namespace

TEST_CASE("qcow2 check: a 64-bit refcount of 2^63 or more is a count, as qemu-img reads it", "[qcow2]") {
    // fuzz-qcow2's negative-refcount-after-writes: such a count was taken
    // for an errno ("Can't get refcount for cluster 39: Unknown error").
    // qemu-img 7.2 calls it a leak, prints it whole and repairs it.
    TempDir dir;
    AioContext ctx;
    std::string path = make_qcow2(dir.file("big.qcow2"), 512, 64);
    write_and_close(ctx, path, 0, pattern(512, 1));
    const uint64_t unused = file_size(path) / 512;  // a cluster past the end, made part of the file
    REQUIRE(truncate(path.c_str(), off_t((unused + 1) * 512)) == 0);
    put64(path, first_refblock(path) + unused * 8, (uint64_t(1) << 63) + 5);

    Qcow2CheckResult res = check(ctx, path);
    CHECK(res.check_errors == 0);
    CHECK(res.corruptions == 0);
    CHECK(res.leaks == 1);
    const std::string leak =
        "Leaked cluster " + std::to_string(unused) + " refcount=9223372036854775813 reference=0";
    CHECK(std::count(res.messages.begin(), res.messages.end(), leak) == 1);

    res = check(ctx, path, Qcow2Repair::Leaks);
    CHECK(res.leaks_fixed == 1);
    CHECK(res.check_errors == 0);
    res = check(ctx, path);
    CHECK(res.leaks == 0);
    CHECK(res.corruptions == 0);
    CHECK(res.check_errors == 0);
    require_reads(ctx, path, 0, pattern(512, 1));
}

TEST_CASE("qcow2: counts stored past the end of the file are dropped when new clusters reach them", "[qcow2]") {
    // The same input: counts of ~2^64 for clusters just past the end of the
    // file moved every new cluster past them, and once the file had grown
    // over them they were part of it.
    TempDir dir;
    AioContext ctx;
    std::string path = make_qcow2(dir.file("junk.qcow2"), 512, 64);
    const uint64_t end = file_size(path) / 512;
    for (uint64_t c = end; c < end + 10; c++) put64(path, first_refblock(path) + c * 8, 0xffff030000010000);
    CHECK(check(ctx, path).leaks == 0);  // (past the end of the file: not looked at)

    const std::vector<uint8_t> data = pattern(16 * 512, 7);
    write_and_close(ctx, path, 64 << 10, data);
    CHECK(file_size(path) < (end + 16 + 8) * 512);  // the new clusters start at the old end
    Qcow2CheckResult res = check(ctx, path);
    CHECK(res.check_errors == 0);
    CHECK(res.corruptions == 0);
    CHECK(res.leaks == 0);
    require_reads(ctx, path, 64 << 10, data);
}

TEST_CASE("qcow2: a refcount block for space far past the end of the file does not move new clusters there",
          "[qcow2]") {
    // A refcount table entry naming a block of nonzero counts for clusters
    // at 80 GiB: new clusters went there (fuzz-qcow2 saw a 7 KiB input grow
    // to 16 GiB) and check then walked every cluster of the file.
    TempDir dir;
    AioContext ctx;
    std::string path = make_qcow2(dir.file("far.qcow2"), 65536, 16);
    const uint64_t junk_block = file_size(path);
    {
        std::vector<uint8_t> ones(65536, 0x01);
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        REQUIRE(pwrite(fd, ones.data(), ones.size(), off_t(junk_block)) == ssize_t(ones.size()));
        close(fd);
    }
    put64(path, reftable_offset(path) + 40 * 8, junk_block);  // counts for clusters at 40 * 2 GiB
    const Qcow2CheckResult before = check(ctx, path);

    const std::vector<uint8_t> data = pattern(3 * 65536, 9);
    write_and_close(ctx, path, 65536, data);
    CHECK(file_size(path) <= junk_block + 8 * 65536);
    Qcow2CheckResult after = check(ctx, path);
    CHECK(after.check_errors == 0);
    CHECK(after.corruptions == before.corruptions);  // the junk block's own count (0), nothing new
    CHECK(after.leaks == before.leaks);
    require_reads(ctx, path, 65536, data);
}

TEST_CASE("qcow2 check: an L2 entry with reserved bits set is a corruption, as qemu-img reports it", "[qcow2]") {
    // fuzz-qcow2's l2-entry-reserved-bits: an entry 0xb00 (bit 8 set) reads
    // as cluster 0xa00; check called the image consistent, and after a
    // write to the cluster's other reference it no longer was.
    TempDir dir;
    AioContext ctx;
    std::string path = make_qcow2(dir.file("reserved.qcow2"), 512, 16);
    write_and_close(ctx, path, 0, pattern(512, 1));
    const uint64_t l1_offset = qcow2::be64(read_file(path, 40, 8).data());
    const uint64_t l2_offset = qcow2::be64(read_file(path, l1_offset, 8).data()) & qcow2::kOffsetMask;
    const uint64_t entry = qcow2::be64(read_file(path, l2_offset, 8).data());
    put64(path, l2_offset, entry | 0x100);

    Qcow2CheckResult res = check(ctx, path);
    CHECK(res.corruptions == 1);
    char want[80];
    std::snprintf(want, sizeof want, "ERROR found l2 entry with reserved bits set: %" PRIx64, entry | 0x100);
    CHECK(std::count(res.messages.begin(), res.messages.end(), std::string(want)) == 1);
}
