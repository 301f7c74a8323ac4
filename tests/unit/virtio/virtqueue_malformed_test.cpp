// Every way a driver can hand over a bad ring: the queue breaks (pop says
// Broken from then on, push does nothing), one warning is logged, and no
// memory outside guest RAM is touched.
#include "test_ring.h"

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sstream>

using namespace kestrel;
using namespace kestrel::test;

namespace {

// Captures spdlog output while alive.
struct LogCapture {
    std::ostringstream out;
    std::shared_ptr<spdlog::logger> saved = spdlog::default_logger();
    LogCapture() {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
    }
    ~LogCapture() { spdlog::set_default_logger(saved); }
    size_t count(const std::string& what) const {
        size_t n = 0;
        const std::string s = out.str();
        for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
        return n;
    }
};

// Pops once, expects Broken, and checks the queue stays broken and inert.
std::string expect_broken(TestRing& r) {
    LogCapture log;
    Virtqueue vq(r.mem, r.layout, "vq-under-test");
    VirtqueueChain chain;
    CHECK(vq.pop(chain) == PopResult::Broken);
    CHECK(vq.broken());
    CHECK(vq.pop(chain) == PopResult::Broken);
    vq.push(0, 1);
    CHECK(r.used_idx() == 0);
    CHECK_FALSE(vq.needs_interrupt());
    CHECK(log.count("vq-under-test:") == 1);
    CHECK(log.count("needs a reset") == 1);
    return log.out.str();
}

} // namespace

TEST_CASE("virtqueue malformed: buffers outside guest RAM", "[virtio]") {
    TestRing r(16, 1 << 20);
    SECTION("past the end") { r.add_chain({{(1 << 20) - 8, 16, true}}); }
    SECTION("address wraps around 2^64") { r.add_chain({{~uint64_t(0) - 4, 16, true}}); }
    SECTION("second buffer of a chain") { r.add_chain({{0x10000, 16}, {1 << 21, 4, true}}); }
    CHECK(expect_broken(r).find("outside guest RAM") != std::string::npos);
}

TEST_CASE("virtqueue malformed: indices", "[virtio]") {
    TestRing r;
    SECTION("head >= queue size") {
        r.make_available(16);
        CHECK(expect_broken(r).find("descriptor 16 available") != std::string::npos);
    }
    SECTION("next >= queue size") {
        r.set_desc(0, 0x10000, 16, kNext, 99);
        r.make_available(0);
        CHECK(expect_broken(r).find("next index 99") != std::string::npos);
    }
    SECTION("avail idx more than the queue size ahead") {
        r.set_avail_idx(17);
        CHECK(expect_broken(r).find("from 0 to 17") != std::string::npos);
    }
}

TEST_CASE("virtqueue malformed: loops and over-long chains", "[virtio]") {
    TestRing r;
    SECTION("two descriptors pointing at each other") {
        r.set_desc(0, 0x10000, 16, kNext, 1);
        r.set_desc(1, 0x10000, 16, kNext, 0);
        r.make_available(0);
    }
    SECTION("a descriptor pointing at itself") {
        r.set_desc(3, 0x10000, 16, kNext, 3);
        r.make_available(3);
    }
    SECTION("a loop inside an indirect table") {
        r.layout.indirect = true;
        r.set_table_desc(0x8000, 0, 0x10000, 16, kNext, 1);
        r.set_table_desc(0x8000, 1, 0x10000, 16, kNext, 0);
        r.set_desc(0, 0x8000, 32, kIndirect);
        r.make_available(0);
    }
    SECTION("direct and indirect descriptors together longer than the queue") {
        r.layout.indirect = true;
        for (uint16_t i = 0; i < 10; ++i) r.set_desc(i, 0x10000, 16, kNext, uint16_t(i + 1));
        r.set_desc(10, 0x8000, 16 * 8, kIndirect);
        for (uint16_t i = 0; i < 8; ++i)
            r.set_table_desc(0x8000, i, 0x10000, 16, i < 7 ? kNext : 0, uint16_t(i + 1));
        r.make_available(0);
    }
    CHECK(expect_broken(r).find("longer than the queue size") != std::string::npos);
}

TEST_CASE("virtqueue malformed: indirect tables", "[virtio]") {
    TestRing r;
    r.layout.indirect = true;
    std::string expected;
    SECTION("indirect without the feature") {
        r.layout.indirect = false;
        r.add_indirect_chain(0x8000, {{0x10000, 16}});
        expected = "without VIRTIO_F_RING_INDIRECT_DESC";
    }
    SECTION("length not a multiple of 16") {
        r.set_desc(0, 0x8000, 24, kIndirect);
        r.make_available(0);
        expected = "indirect table of 24 bytes";
    }
    SECTION("empty table") {
        r.set_desc(0, 0x8000, 0, kIndirect);
        r.make_available(0);
        expected = "indirect table of 0 bytes";
    }
    SECTION("table longer than the queue") {
        r.set_desc(0, 0x8000, 16 * 17, kIndirect);
        r.make_available(0);
        expected = "indirect table of 272 bytes";
    }
    SECTION("table outside guest RAM") {
        r.set_desc(0, (4 << 20) - 16, 32, kIndirect);
        r.make_available(0);
        expected = "outside guest RAM";
    }
    SECTION("indirect inside an indirect table") {
        r.set_table_desc(0x8000, 0, 0x10000, 16, kNext, 1);
        r.set_table_desc(0x8000, 1, 0x9000, 16, kIndirect);
        r.set_desc(0, 0x8000, 32, kIndirect);
        r.make_available(0);
        expected = "inside an indirect table";
    }
    SECTION("indirect descriptor with NEXT") {
        r.set_table_desc(0x8000, 0, 0x10000, 16, 0);
        r.set_desc(0, 0x8000, 16, kIndirect | kNext, 1);
        r.set_desc(1, 0x10000, 16, 0);
        r.make_available(0);
        expected = "with the NEXT flag";
    }
    SECTION("NEXT beyond the table's length") {
        r.set_table_desc(0x8000, 0, 0x10000, 16, kNext, 1);
        r.set_table_desc(0x8000, 1, 0x10000, 16, kNext, 2);  // table has 2 entries
        r.set_table_desc(0x8000, 2, 0x10000, 16, 0);          // there, but not in the table
        r.set_desc(0, 0x8000, 32, kIndirect);
        r.make_available(0);
        expected = "next index 2 beyond the indirect table of 2 entries";
    }
    CHECK(expect_broken(r).find(expected) != std::string::npos);
}

TEST_CASE("virtqueue malformed: directions, zero sizes, ring placement", "[virtio]") {
    TestRing r;
    std::string expected = "readable descriptor after a device-writable";
    SECTION("readable after writable") {
        r.add_chain({{0x10000, 16}, {0x11000, 16, true}, {0x12000, 16}});
    }
    SECTION("readable after writable in an indirect table") {
        r.layout.indirect = true;
        r.add_indirect_chain(0x8000, {{0x11000, 16, true}, {0x12000, 16}});
    }
    SECTION("zero-sized buffer") {
        r.add_chain({{0x10000, 16}, {0x11000, 0, true}});
        expected = "zero-sized buffer";
    }
    SECTION("descriptor table outside RAM") {
        r.layout.desc = (4 << 20) - 16 * 8;
        expected = "rings outside guest RAM or misaligned";
    }
    SECTION("used ring misaligned") {
        r.layout.used = 0x4002;
        expected = "rings outside guest RAM or misaligned";
    }
    SECTION("size not a power of two") {
        r.layout.size = 12;
        expected = "rings outside guest RAM or misaligned";
    }
    CHECK(expect_broken(r).find(expected) != std::string::npos);
}

TEST_CASE("virtqueue malformed: a bad chain after good ones keeps earlier state", "[virtio]") {
    TestRing r;
    Virtqueue vq(r.mem, r.layout);
    VirtqueueChain chain;
    r.add_chain({{0x10000, 16, true}});
    REQUIRE(vq.pop(chain) == PopResult::Chain);
    vq.push(chain.head, 16);
    r.make_available(40);
    CHECK(vq.pop(chain) == PopResult::Broken);
    CHECK(vq.last_avail_idx() == 1);
    CHECK(r.used_idx() == 1);
    CHECK_FALSE(vq.enable_notification());
}
