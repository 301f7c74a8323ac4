#include "machine/boot/setup_header.h"
#include "tests/unit/machine/bzimage_fixture.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using kestrel::test::FakeKernel;

namespace {
std::string parse_error(const std::vector<uint8_t>& image) {
    try {
        parse_setup_header(image, "vmlinuz");
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}
} // namespace

TEST_CASE("setup header of a good bzImage is parsed") {
    FakeKernel k;
    k.setup_sects = 27;
    SetupHeader h = parse_setup_header(k.bytes(), "vmlinuz");
    CHECK(h.version == 0x020f);
    CHECK(h.setup_sects == 27);
    CHECK(h.setup_bytes() == 28 * 512);
    CHECK(h.initrd_addr_max == 0x7fffffff);
    CHECK(h.kernel_alignment == 0x200000);
    CHECK(h.relocatable);
    CHECK(h.xloadflags == 1);
    CHECK(h.cmdline_size == 0x7ff);
    CHECK(h.pref_address == 0x1000000);
    CHECK(h.init_size == 0x800000);
    CHECK(h.header_end == 0x26c);
    CHECK(h.loadflags == 1);
}

TEST_CASE("setup_sects 0 means 4") {
    FakeKernel k;
    k.setup_sects = 0;
    SetupHeader h = parse_setup_header(k.bytes(), "vmlinuz");
    CHECK(h.setup_sects == 4);
    CHECK(h.setup_bytes() == 5 * 512);
}

TEST_CASE("a file without HdrS is not a bzImage") {
    std::vector<uint8_t> elf(4096, 0);
    std::memcpy(elf.data(), "\x7f" "ELF", 4);
    CHECK_FALSE(is_bzimage(elf));
    std::string err = parse_error(elf);
    CHECK(err.find("could not load kernel 'vmlinuz'") == 0);
    CHECK(err.find("not a Linux bzImage") != std::string::npos);
    CHECK(parse_error(std::vector<uint8_t>(10, 0)).find("not a Linux bzImage") != std::string::npos);
}

TEST_CASE("boot protocol older than 2.06 is refused") {
    FakeKernel k;
    k.version = 0x0205;
    CHECK(is_bzimage(k.bytes()));
    std::string err = parse_error(k.bytes());
    CHECK(err.find("could not load kernel 'vmlinuz'") == 0);
    CHECK(err.find("protocol 2.05 is too old") != std::string::npos);
    k.version = 0x0206;  // accepted as far as the version goes ...
    CHECK(parse_error(k.bytes()).find("XLF_KERNEL_64") != std::string::npos);  // ... but has no xloadflags
}

TEST_CASE("a kernel without a 64-bit entry point is refused") {
    FakeKernel k;
    k.xloadflags = 0x2;  // can be loaded above 4G, but no 64-bit entry
    std::string err = parse_error(k.bytes());
    CHECK(err.find("could not load kernel 'vmlinuz'") == 0);
    CHECK(err.find("no 64-bit entry point") != std::string::npos);
}

TEST_CASE("a bzImage cut inside its setup code is refused") {
    FakeKernel k;
    auto bytes = k.bytes();
    bytes.resize(0x300);  // setup claims 5 sectors
    CHECK(parse_error(bytes).find("truncated") != std::string::npos);
}
