// fw_cfg: items and files as the guest reads them through the ports and
// DMA, and what malformed guest requests do (nothing harmful).
#include "devices/fw_cfg/fw_cfg.h"
#include "fake_device_context.h"

#include <catch2/catch.hpp>
#include <cstring>

using namespace kestrel;
using namespace kestrel::test;

namespace {

uint32_t bswap(uint32_t v) { return __builtin_bswap32(v); }

struct FwCfgFixture {
    FakeDeviceContext ctx;
    std::unique_ptr<Device> dev = ctx.realize("fw_cfg_io");
    FwCfg& cfg = *ctx.registry.find<FwCfg>();

    std::string read_port(uint16_t key, size_t n) {
        ctx.out(0x510, key, 2);
        std::string s;
        for (size_t i = 0; i < n; ++i) s += char(ctx.in(0x511, 1));
        return s;
    }
    // A DMA descriptor at `at`; returns the control word written back.
    uint32_t dma(uint64_t at, uint32_t control, uint32_t length, uint64_t address) {
        uint32_t desc[4] = {bswap(control), bswap(length), bswap(uint32_t(address >> 32)), bswap(uint32_t(address))};
        REQUIRE(ctx.ram.write_obj(at, desc));
        ctx.out(0x514, bswap(uint32_t(at >> 32)), 4);
        ctx.out(0x518, bswap(uint32_t(at)), 4);
        uint32_t result = 0;
        REQUIRE(ctx.ram.read_obj(at, result));
        return bswap(result);
    }
    std::string ram_text(uint64_t at, size_t n) {
        std::string s(n, '\0');
        REQUIRE(ctx.ram.read(at, {reinterpret_cast<uint8_t*>(s.data()), n}));
        return s;
    }
};

constexpr uint32_t SELECT = 0x08, READ = 0x02, SKIP = 0x04, WRITE = 0x10, ERROR = 0x01;

} // namespace

TEST_CASE("fw_cfg: signature, ID and items through the data port", "[fw_cfg]") {
    FwCfgFixture f;
    CHECK(f.read_port(0x00, 6) == std::string("QEMU\0\0", 6));  // zeros past the end
    CHECK(f.read_port(0x01, 4) == std::string("\x03\0\0\0", 4));  // traditional + DMA
    f.cfg.set_u16(fwcfg::NB_CPUS, 3);
    f.cfg.set_u32(fwcfg::IRQ0_OVERRIDE, 1);
    CHECK(f.read_port(fwcfg::NB_CPUS, 2) == std::string("\x03\0", 2));
    CHECK(f.read_port(fwcfg::IRQ0_OVERRIDE, 4) == std::string("\x01\0\0\0", 4));
    // A byte read at the selector port reads data too; a 16-bit write at
    // the data port selects; other widths do nothing.
    f.ctx.out(0x511, 0x00, 2);
    CHECK(f.ctx.in(0x510, 1) == 'Q');
    CHECK(f.ctx.in(0x511, 2) == 0);
    CHECK(f.ctx.in(0x511, 1) == 'E');
    f.ctx.out(0x510, 0x01, 4);
    CHECK(f.ctx.in(0x511, 1) == 'M');
    // Unknown keys and keys past the slots read zeros.
    CHECK(f.read_port(0x0d, 2) == std::string(2, '\0'));
    CHECK(f.read_port(0x3fff, 2) == std::string(2, '\0'));
    CHECK(f.read_port(0xffff, 2) == std::string(2, '\0'));
    CHECK(f.cfg.registers().selector == FwCfgRegisters::kInvalid);
}

TEST_CASE("fw_cfg: files sorted by name, their keys following, and the directory", "[fw_cfg]") {
    FwCfgFixture f;
    CHECK(f.cfg.add_file("opt/b", std::vector<uint8_t>{'b'}) == 0x20);
    CHECK(f.cfg.add_file("etc/a", std::vector<uint8_t>{'a', 'a'}) == 0x20);
    CHECK(f.cfg.file_key("opt/b") == 0x21);
    CHECK(f.read_port(0x21, 1) == "b");
    std::string dir = f.read_port(fwcfg::FILE_DIR, 4 + 2 * 64);
    CHECK(dir.substr(0, 4) == std::string("\0\0\0\2", 4));
    CHECK(dir.substr(4, 8) == std::string("\0\0\0\2\0\x20\0\0", 8));
    CHECK(dir.substr(12, 6) == std::string("etc/a\0", 6));
    CHECK(dir.substr(68, 8) == std::string("\0\0\0\1\0\x21\0\0", 8));
    CHECK_THROWS_WITH(f.cfg.add_file("opt/b", std::vector<uint8_t>{}), "duplicate fw_cfg file name: opt/b");
    CHECK_THROWS(f.cfg.add_file(std::string(56, 'x'), std::vector<uint8_t>{}));
    f.cfg.set_file("opt/b", FwCfgItem{{'c', 'd'}});
    CHECK(f.read_port(0x21, 2) == "cd");
    for (int i = 2; i < 32; ++i) f.cfg.add_file("opt/n" + std::to_string(100 + i), std::vector<uint8_t>{});
    CHECK_THROWS_WITH(f.cfg.add_file("zzz", std::vector<uint8_t>{}),
                      "fw_cfg: no slot left for file zzz (x-file-slots is 32)");
}

TEST_CASE("fw_cfg: DMA read, skip, select and write", "[fw_cfg]") {
    FwCfgFixture f;
    f.cfg.add_file("opt/data", std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'});
    FwCfgItem writable{{0, 0, 0, 0}};
    writable.writable = true;
    uint32_t written_at = ~0u;
    writable.on_write = [&](const std::vector<uint8_t>&, uint32_t off, uint32_t) { written_at = off; };
    f.cfg.add_file("opt/w", std::move(writable));

    CHECK(f.dma(0x1000, 0x20u << 16 | SELECT | READ, 8, 0x2000) == 0);
    CHECK(f.ram_text(0x2000, 8) == std::string("hello\0\0\0", 8));  // zeros past the end
    f.ctx.out(0x510, 0x20, 2);
    CHECK(f.dma(0x1000, SKIP, 3, 0) == 0);
    CHECK(f.ctx.in(0x511, 1) == 'l');
    CHECK(f.dma(0x1000, READ, 2, 0x2100) == 0);  // the selected item, from the current offset
    CHECK(f.ram_text(0x2100, 2) == std::string("o\0", 2));

    REQUIRE(f.ctx.ram.write_obj(0x3000, uint32_t(0x64636261)));
    CHECK(f.dma(0x1000, 0x21u << 16 | SELECT | WRITE, 4, 0x3000) == 0);
    CHECK(f.cfg.item_data(0x21) == std::vector<uint8_t>{'a', 'b', 'c', 'd'});
    CHECK(written_at == 0);
    CHECK(f.dma(0x1000, 0x21u << 16 | SELECT | WRITE, 5, 0x3000) == ERROR);  // longer than the item
    CHECK(f.dma(0x1000, 0x20u << 16 | SELECT | WRITE, 1, 0x3000) == ERROR);  // read-only
    CHECK(f.cfg.item_data(0x20)[0] == 'h');
    CHECK(f.dma(0x1000, 0x00, 4, 0x3000) == 0);  // no operation: nothing happens
}

TEST_CASE("fw_cfg: DMA with wild addresses and lengths fails cleanly", "[fw_cfg]") {
    FwCfgFixture f;
    f.cfg.add_file("opt/data", std::vector<uint8_t>(100, 7));
    // Destination outside RAM, or a length running past it.
    CHECK(f.dma(0x1000, 0x20u << 16 | SELECT | READ, 16, 0xfff00000) == ERROR);
    CHECK(f.dma(0x1000, 0x20u << 16 | SELECT | READ, 0xffffffff, 0xff000) == ERROR);
    CHECK(f.dma(0x1000, 0x20u << 16 | SELECT | SKIP, 0xffffffff, 0) == 0);  // skipping is harmless
    // A descriptor outside RAM: nothing to read, nothing written.
    f.ctx.out(0x514, bswap(0x1), 4);
    f.ctx.out(0x518, bswap(0x0), 4);
    f.ctx.out(0x518, bswap(0xfffffff0), 4);
    // Only the low half starts a transfer; a high half alone does nothing.
    f.ctx.out(0x514, bswap(0), 4);
    CHECK(f.cfg.registers().dma_address == 0);
    // Reads of the DMA port give the signature, any width.
    CHECK(f.ctx.in(0x514, 4) == 0x554d4551);  // "QEMU"
    CHECK(f.ctx.in(0x518, 4) == 0x47464320);  // " CFG"
    CHECK(f.ctx.in(0x51b, 1) == 'G');
}

TEST_CASE("fw_cfg: reset selects the signature; dma_enabled=off has no DMA", "[fw_cfg]") {
    FakeDeviceContext ctx;
    auto dev = ctx.realize("fw_cfg_io", {{"dma_enabled", "off"}});
    FwCfg& cfg = *ctx.registry.find<FwCfg>();
    CHECK(cfg.item_data(fwcfg::ID) == std::vector<uint8_t>{1, 0, 0, 0});
    CHECK(ctx.in(0x514, 4) == 0xffffffff);  // nothing mapped there
    ctx.out(0x510, 0x01, 2);
    ctx.in(0x511, 1);
    dev->reset();
    CHECK(ctx.in(0x511, 1) == 'Q');
}
