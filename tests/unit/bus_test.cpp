#include "devices/bus.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace kestrel;

namespace {
struct Recorder : BusDevice {
    std::vector<std::pair<uint64_t, uint64_t>> writes;
    void read(uint64_t offset, std::span<uint8_t> data) override { store_le(data, offset + 0x40); }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        writes.emplace_back(offset, load_le(data));
    }
};
} // namespace

TEST_CASE("bus dispatches by range with device-relative offsets") {
    Bus bus("pio");
    auto a = std::make_shared<Recorder>();
    auto b = std::make_shared<Recorder>();
    REQUIRE(bus.insert(0x3f8, 8, a));
    REQUIRE(bus.insert(0x2f8, 8, b));
    REQUIRE_FALSE(bus.insert(0x3fc, 2, b));  // overlaps a
    REQUIRE_FALSE(bus.insert(0x3f0, 9, b));  // runs into a

    uint8_t v = 0x55;
    REQUIRE(bus.write(0x3fb, {&v, 1}));
    REQUIRE(a->writes.size() == 1);
    CHECK(a->writes[0] == std::pair<uint64_t, uint64_t>{3, 0x55});

    uint8_t r[2];
    REQUIRE(bus.read(0x2f9, r));
    CHECK(load_le(r) == 0x41);
    CHECK_FALSE(bus.read(0x400, r));
    CHECK(r[0] == 0xff);
    CHECK(bus.remove(0x3f8));
    CHECK_FALSE(bus.write(0x3f8, {&v, 1}));
}

TEST_CASE("bus generation changes with the layout only") {
    Bus bus("pio");
    auto a = std::make_shared<Recorder>();
    uint64_t g = bus.generation();
    REQUIRE(bus.insert(0x60, 1, a));
    CHECK(bus.generation() != g);
    g = bus.generation();
    REQUIRE_FALSE(bus.insert(0x60, 1, a));  // refused: nothing changed
    uint8_t v = 1;
    bus.write(0x60, {&v, 1});
    bus.read(0x60, {&v, 1});
    CHECK(bus.generation() == g);
    REQUIRE(bus.insert_overlay(0x60, 1, a, "over"));
    CHECK(bus.generation() != g);
    g = bus.generation();
    CHECK_FALSE(bus.remove(0x70));
    CHECK(bus.generation() == g);
    CHECK(bus.remove(0x60));
    CHECK(bus.generation() != g);
    g = bus.generation();
    bus.clear();
    CHECK(bus.generation() != g);
}
