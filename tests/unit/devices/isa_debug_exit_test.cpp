// isa-debug-exit: what a guest write does, and what absurd settings do not.
#include "fake_device_context.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

TEST_CASE("isa-debug-exit: a write of V asks for exit status (V << 1) | 1", "[debug-exit]") {
    FakeDeviceContext ctx;
    auto dev = ctx.realize("isa-debug-exit", {{"iobase", "0xf4"}, {"iosize", "0x04"}});
    ctx.out(0xf4, 3, 1);
    ctx.out(0xf6, 0x0102, 2);       // any port of the range, any width
    ctx.out(0xf4, 0xffffffff, 4);
    CHECK(ctx.control.exits == std::vector<int>{7, 0x205, int(0x1ffffffffull & 0xffffffff)});
    CHECK(ctx.in(0xf4, 4) == 0);    // reads are zero and end nothing
    CHECK(ctx.control.exits.size() == 3);
    ctx.out(0xf8, 1, 1);            // outside the range
    CHECK(ctx.control.exits.size() == 3);
}

TEST_CASE("isa-debug-exit: QEMU's defaults, no ports at size 0, taken ports refused", "[debug-exit]") {
    FakeDeviceContext ctx;
    auto dev = ctx.realize("isa-debug-exit");
    ctx.out(0x501, 1, 1);
    CHECK(ctx.control.exits == std::vector<int>{3});
    CHECK_THROWS_WITH(ctx.realize("isa-debug-exit"), "I/O ports 0x501-0x502 are already in use");
    auto none = ctx.realize("isa-debug-exit", {{"iobase", "0x600"}, {"iosize", "0"}});
    ctx.out(0x600, 1, 1);
    CHECK(ctx.control.exits.size() == 1);
    // An absurd range maps nowhere a guest can reach and hurts nothing.
    auto far = ctx.realize("isa-debug-exit", {{"iobase", "0xffffffff"}, {"iosize", "0xffffffff"}});
    CHECK(ctx.control.exits.size() == 1);
}
