// dump-guest-memory's kdump-zlib and kdump-lzo files, read back: the
// flattened stream, the diskdump header and sub-header, both bitmaps, the
// page descriptors and each page decompressed; and failing writes. QEMU
// 7.2's dump of the same guest is compared in tests/cli/dump_test.py.
#include "../stub_vm.h"
#include "two_block_ram.h"

#include "monitor/dump/elf_core.h"
#include "monitor/dump/guest_dumper.h"
#include "monitor/dump/kdump_core.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <endian.h>
#include <fcntl.h>
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <unistd.h>
#include <zlib.h>

using namespace kestrel;

namespace {

constexpr uint64_t kHigh = 1ull << 32, kPage = 4096;

// 1 MiB at 0 (page 3 zero, page 5 incompressible) and 64 KiB at 4 GiB.
class KdumpVm : public test::StubVm {
public:
    KdumpVm() : ram{std::vector<uint8_t>(1 << 20), std::vector<uint8_t>(1 << 16)} {
        for (size_t i = 0; i < low.size(); i++) low[i] = static_cast<uint8_t>(i * 7);
        for (size_t i = 0; i < high.size(); i++) high[i] = static_cast<uint8_t>(i / 3);
        std::memset(low.data() + 3 * kPage, 0, kPage);
        uint32_t x = 12345;
        for (size_t i = 5 * kPage; i < 6 * kPage; i++) low[i] = static_cast<uint8_t>((x = x * 1103515245 + 12345) >> 24);
        cpus = {CpuDumpState{}, CpuDumpState{}, CpuDumpState{}};
    }
    VmStatus status() const override { return {"paused", false}; }
    std::vector<RamBlock> ram_blocks() const override { return {{0, low.size()}, {kHigh, high.size()}}; }
    std::vector<CpuDumpState> cpu_dump_states() override { return cpus; }
    bool read_physical(uint64_t a, std::span<uint8_t> out) const override {
        if (a >= kHigh && fail_high) return false;
        return ram.read(a, out);
    }
    test::TwoBlockRam ram;
    std::vector<uint8_t>& low = ram.low;
    std::vector<uint8_t>& high = ram.high;
    std::vector<CpuDumpState> cpus;
    bool fail_high = false;
};

struct Events : EventSink {
    void emit_event(std::string_view, const nlohmann::json& data) override { last = data; }
    nlohmann::json last;
};

template <typename T> T at(const std::vector<uint8_t>& b, size_t off) {
    T v;
    std::memcpy(&v, b.data() + off, sizeof v);
    return v;
}

std::vector<uint8_t> read_fd(int fd) {
    std::vector<uint8_t> out;
    uint8_t buf[65536];
    for (ssize_t n; (n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(out.size()))) > 0;)
        out.insert(out.end(), buf, buf + n);
    return out;
}

// makedumpfile -R: the records of the flattened stream into a plain file.
std::vector<uint8_t> unflatten(const std::vector<uint8_t>& raw) {
    REQUIRE(std::memcmp(raw.data(), "makedumpfile\0\0\0\0", 16) == 0);
    REQUIRE(be64toh(at<uint64_t>(raw, 16)) == 1);
    std::vector<uint8_t> out;
    size_t pos = 4096;
    for (;;) {
        REQUIRE(pos + 16 <= raw.size());
        uint64_t off = be64toh(at<uint64_t>(raw, pos)), size = be64toh(at<uint64_t>(raw, pos + 8));
        pos += 16;
        if (off == ~0ull && size == ~0ull) break;
        REQUIRE(pos + size <= raw.size());
        if (out.size() < off + size) out.resize(off + size);
        std::memcpy(out.data() + off, raw.data() + pos, size);
        pos += size;
    }
    CHECK(pos == raw.size());
    return out;
}

std::vector<uint8_t> page_of(const std::vector<uint8_t>& d, size_t desc) {
    uint64_t off = at<uint64_t>(d, desc);
    uint32_t size = at<uint32_t>(d, desc + 8), flags = at<uint32_t>(d, desc + 12);
    std::vector<uint8_t> page(kPage);
    if (flags == kKdumpZlib) {
        uLongf n = kPage;
        REQUIRE(uncompress(page.data(), &n, d.data() + off, size) == Z_OK);
        REQUIRE(n == kPage);
    } else if (flags == kKdumpLzo) {
        lzo_uint n = kPage;
        REQUIRE(lzo1x_decompress_safe(d.data() + off, size, page.data(), &n, nullptr) == LZO_E_OK);
        REQUIRE(n == kPage);
    } else if (flags == kKdumpSnappy) {
        size_t n = kPage;
        REQUIRE(snappy_uncompress(reinterpret_cast<const char*>(d.data() + off), size,
                                  reinterpret_cast<char*>(page.data()), &n) == SNAPPY_OK);
        REQUIRE(n == kPage);
    } else {
        REQUIRE(flags == 0);
        REQUIRE(size == kPage);
        std::memcpy(page.data(), d.data() + off, kPage);
    }
    return page;
}

void check_kdump(const KdumpVm& vm, const std::vector<uint8_t>& d, uint32_t flag) {
    CHECK(std::memcmp(d.data(), "KDUMP   ", 8) == 0);
    CHECK(at<uint32_t>(d, 8) == 6);
    CHECK(std::strcmp(reinterpret_cast<const char*>(d.data()) + 12 + 4 * 65, "x86_64") == 0);
    CHECK(at<uint32_t>(d, 424) == flag);
    CHECK(at<uint32_t>(d, 428) == kPage);
    uint64_t max_mapnr = (kHigh + vm.high.size()) / kPage;
    CHECK(at<uint32_t>(d, 440) == max_mapnr);
    CHECK(at<uint32_t>(d, 460) == 3);
    CHECK(at<uint64_t>(d, kPage + 96) == max_mapnr);
    CHECK(at<uint32_t>(d, kPage + 8) == 1);   // dump level
    std::vector<uint8_t> notes = elf_core_notes(vm.cpus);
    REQUIRE(at<uint64_t>(d, kPage + 48) == kPage + 104);
    REQUIRE(at<uint64_t>(d, kPage + 56) == notes.size());
    CHECK(std::memcmp(d.data() + kPage + 104, notes.data(), notes.size()) == 0);
    uint32_t sub_blocks = at<uint32_t>(d, 432), bitmap_blocks = at<uint32_t>(d, 436);
    CHECK(sub_blocks == (104 + notes.size() + kPage - 1) / kPage);
    uint64_t bitmap_len = (max_mapnr / 8 + kPage - 1) / kPage * kPage;
    REQUIRE(bitmap_blocks == 2 * bitmap_len / kPage);
    size_t bitmap_at = (1 + sub_blocks) * kPage;
    REQUIRE(d.size() > bitmap_at + 2 * bitmap_len);
    CHECK(std::memcmp(d.data() + bitmap_at, d.data() + bitmap_at + bitmap_len, bitmap_len) == 0);
    std::vector<uint64_t> pfns;
    for (uint64_t pfn = 0; pfn < max_mapnr; pfn++)
        if (d[bitmap_at + pfn / 8] >> (pfn % 8) & 1) pfns.push_back(pfn);
    REQUIRE(pfns.size() == (vm.low.size() + vm.high.size()) / kPage);
    CHECK(pfns[255] == 255);
    CHECK(pfns[256] == kHigh / kPage);
    size_t desc_at = bitmap_at + 2 * bitmap_len, zero_at = desc_at + 24 * pfns.size();
    for (size_t i = 0; i < pfns.size(); i++) {
        const std::vector<uint8_t>& m = i < 256 ? vm.low : vm.high;
        size_t in = (i < 256 ? i : i - 256) * kPage;
        INFO("page " << i);
        CHECK(page_of(d, desc_at + 24 * i) == std::vector<uint8_t>(m.begin() + in, m.begin() + in + kPage));
    }
    CHECK(at<uint64_t>(d, desc_at + 24 * 3) == zero_at);          // the shared zero page
    CHECK(at<uint32_t>(d, desc_at + 24 * 5 + 12) == 0);           // stored plain
    CHECK(at<uint32_t>(d, desc_at + 24 * 0 + 12) == flag);        // compressed
    CHECK(at<uint32_t>(d, desc_at + 24 * 0 + 8) < kPage);
}

UniqueFd temp_fd() {
    char name[] = "/tmp/kestrel-kdump-XXXXXX";
    int fd = mkstemp(name);
    ::unlink(name);
    return UniqueFd(fd);
}

std::vector<uint8_t> dump(KdumpVm& vm, const std::string& format) {
    Events events;
    GuestDumper dumper(vm, events, [](std::function<void()>) { FAIL("nothing is posted"); });
    DumpRequest r;
    r.format = format;
    dumper.check(r);
    UniqueFd fd = temp_fd();
    int raw = ::dup(fd.get());
    dumper.start(r, std::move(fd));
    CHECK(events.last["result"]["status"] == "completed");
    CHECK(events.last["result"]["completed"] == events.last["result"]["total"]);
    std::vector<uint8_t> out = read_fd(raw);
    ::close(raw);
    return out;
}

} // namespace

TEST_CASE("kdump-zlib: flattened diskdump with zlib pages, a shared zero page, plain when incompressible", "[dump]") {
    KdumpVm vm;
    check_kdump(vm, unflatten(dump(vm, "kdump-zlib")), kKdumpZlib);
}

TEST_CASE("kdump-lzo: the same layout with lzo1x pages", "[dump]") {
    KdumpVm vm;
    check_kdump(vm, unflatten(dump(vm, "kdump-lzo")), kKdumpLzo);
}

TEST_CASE("kdump-snappy: the same layout with snappy pages", "[dump]") {
    KdumpVm vm;
    check_kdump(vm, unflatten(dump(vm, "kdump-snappy")), kKdumpSnappy);
}

TEST_CASE("kdump: the formats reported are the ones written; others refused with QEMU's text", "[dump]") {
    CHECK(GuestDumper::formats() == std::vector<std::string>{"elf", "kdump-zlib", "kdump-lzo", "kdump-snappy"});
    CHECK(kdump_compression("kdump-zlib") == kKdumpZlib);
    CHECK(kdump_compression("kdump-lzo") == kKdumpLzo);
    CHECK(kdump_compression("kdump-snappy") == kKdumpSnappy);
    CHECK(!kdump_compression("win-dmp"));
    CHECK(!kdump_compression("elf"));
    KdumpVm vm;
    Events events;
    GuestDumper dumper(vm, events, [](std::function<void()>) {});
    DumpRequest r;
    r.format = "win-dmp";
    CHECK_THROWS_WITH(dumper.check(r), "win-dmp is not available now");
    r.format = "kdump-lzo";
    r.paging = true;
    CHECK_THROWS_WITH(dumper.check(r), "kdump-compressed format doesn't support paging or filter");
}

TEST_CASE("kdump: a failing write or read ends the dump with QEMU's error and DUMP_COMPLETED failed", "[dump]") {
    KdumpVm vm;
    Events events;
    GuestDumper dumper(vm, events, [](std::function<void()>) {});
    DumpRequest r;
    r.format = "kdump-zlib";
    CHECK_THROWS_WITH(dumper.start(r, UniqueFd(::open("/dev/full", O_WRONLY))),
                      "dump: failed to write start flat header");
    CHECK(events.last["result"]["status"] == "failed");
    CHECK(events.last["error"] == "dump: failed to write start flat header");
    CHECK(dumper.progress().status == "failed");

    vm.fail_high = true;   // the headers and low pages written, then the read fails
    CHECK_THROWS_WITH(dumper.start(r, temp_fd()), "dump: failed to save memory");
    CHECK(events.last["error"] == "dump: failed to save memory");
    CHECK(events.last["result"]["completed"] == int64_t(vm.low.size()));
}
