#include "machine/boot/kernel_payload.h"
#include "tests/unit/machine/bzimage_fixture.h"
#include "tests/unit/machine/vmlinux_fixture.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>

using namespace kestrel;
using namespace kestrel::test;

namespace {

std::string payload_error(const std::function<void()>& f) {
    try {
        f();
    } catch (const PayloadError& e) {
        return e.what();
    }
    return "";
}

KernelPayload payload_of(const std::vector<uint8_t>& image) {
    SetupHeader h = parse_setup_header(image, "k");
    auto p = find_payload(image, h, "k");
    REQUIRE(p);
    return *p;
}

std::vector<uint8_t> bzimage_with(const std::vector<uint8_t>& payload) {
    FakeKernel k;
    k.payload = payload;
    return k.bytes();
}

} // namespace

TEST_CASE("every compression the kernel offers decompresses to the vmlinux") {
    const auto vmlinux = make_vmlinux();
    for (Compression c : ALL_COMPRESSIONS) {
        INFO(compression_name(c));
        auto image = bzimage_with(compress(c, vmlinux));
        KernelPayload p = payload_of(image);
        CHECK(p.compression == c);
        CHECK(p.decompressed_size == vmlinux.size());
        DecompressedKernel out = decompress_payload(p);
        std::span<const uint8_t> bytes = out;
        CHECK(std::vector<uint8_t>(bytes.begin(), bytes.end()) == vmlinux);
    }
}

TEST_CASE("a corrupt payload of a checksummed format is an error, never a kernel") {
    const auto vmlinux = make_vmlinux();
    for (Compression c : {Compression::Gzip, Compression::Bzip2, Compression::Xz, Compression::Zstd}) {
        INFO(compression_name(c));
        auto stream = compress(c, vmlinux);
        stream[stream.size() / 2] ^= 0x55;
        auto image = bzimage_with(stream);
        CHECK_THROWS_AS(decompress_payload(payload_of(image)), PayloadError);
    }
}

TEST_CASE("a truncated payload is an error for every format") {
    const auto vmlinux = make_vmlinux();
    for (Compression c : ALL_COMPRESSIONS) {
        INFO(compression_name(c));
        auto stream = compress(c, vmlinux);
        std::vector<uint8_t> cut(stream.begin(), stream.begin() + long(stream.size() * 2 / 3));
        cut = with_size(cut, vmlinux.size());  // the announced size stays
        auto image = bzimage_with(cut);
        CHECK_THROWS_AS(decompress_payload(payload_of(image)), PayloadError);
    }
}

TEST_CASE("a stream asking for more decoder memory than any kernel's is refused, not allocated") {
    // .lzma: properties, a 3.5 GiB dictionary, unknown size; zstd: a frame
    // with a 2 GiB window (fuzz-kernel-payload's find, 2026-12-05).
    const std::vector<uint8_t> lzma{0x5d, 0x00, 0x00, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0x00, 0x12, 0x34, 0x56};
    const std::vector<uint8_t> zstd{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8, 0x01, 0x00, 0x00, 0x61};
    auto sink = [](std::span<const uint8_t>) { return true; };
    CHECK_THAT(payload_error([&] { decompress(Compression::Lzma, lzma, 1 << 30, sink); }),
               Catch::Contains("dictionary larger than any kernel's"));
    CHECK_THAT(payload_error([&] { decompress(Compression::Zstd, zstd, 1 << 30, sink); }),
               Catch::Contains("zstd data is corrupt"));
}

TEST_CASE("a payload that decompresses to another size than announced is an error") {
    auto stream = compress(Compression::Xz, make_vmlinux());
    uint32_t wrong = uint32_t(make_vmlinux().size() + 8);
    std::memcpy(stream.data() + stream.size() - 4, &wrong, 4);
    CHECK_THAT(payload_error([&] { decompress_payload(payload_of(bzimage_with(stream))); }),
               Catch::Contains("not the"));
    wrong = uint32_t(make_vmlinux().size() - 8);
    std::memcpy(stream.data() + stream.size() - 4, &wrong, 4);
    CHECK_THAT(payload_error([&] { decompress_payload(payload_of(bzimage_with(stream))); }),
               Catch::Contains("more than"));
    wrong = 0x7fffffff;  // implausible: refused before decompressing
    std::memcpy(stream.data() + stream.size() - 4, &wrong, 4);
    CHECK_THAT(payload_error([&] { decompress_payload(payload_of(bzimage_with(stream))); }),
               Catch::Contains("implausible"));
}

TEST_CASE("a bzImage whose payload reaches past the end of the file is refused as truncated") {
    FakeKernel k;
    k.payload = compress(Compression::Gzip, make_vmlinux());
    auto image = k.bytes();
    image.resize(5 * 512 + k.payload_offset + k.payload.size() - 100);  // setup: 4 + 1 sectors
    SetupHeader h = parse_setup_header(image, "/k/vmlinuz");
    try {
        find_payload(image, h, "/k/vmlinuz");
        FAIL("no error");
    } catch (const std::runtime_error& e) {
        CHECK_THAT(e.what(), Catch::StartsWith("could not load kernel '/k/vmlinuz': kernel image is truncated"));
    }
}

TEST_CASE("images without a payload kestrel knows boot through their own decompressor") {
    FakeKernel k;  // no payload fields
    auto image = k.bytes();
    CHECK_FALSE(find_payload(image, parse_setup_header(image, "k"), "k"));
    k.payload = std::vector<uint8_t>(64, 0x42);  // unknown magic
    image = k.bytes();
    CHECK_FALSE(find_payload(image, parse_setup_header(image, "k"), "k"));
}

TEST_CASE("parse_vmlinux places the segments and reads the relocation table") {
    ParsedVmlinux v = parse_vmlinux(make_vmlinux(), LOAD_PHYS);
    CHECK(v.layout.load_phys == LOAD_PHYS);
    CHECK(v.layout.kernel_map == KERNEL_MAP);
    CHECK(v.layout.entry_offset == 0);
    CHECK(v.layout.image_size == DATA_OFF + DATA_SIZE);
    CHECK(v.layout.memory_size == DATA_OFF + DATA_MEM);
    REQUIRE(v.segments.size() == 2);
    CHECK(v.segments[0].image_offset == 0);
    CHECK(v.segments[1].image_offset == DATA_OFF);
    CHECK(v.relocations.r32 == std::vector<uint32_t>{R32_AT});
    CHECK(v.relocations.r32_inverse == std::vector<uint32_t>{RINV_AT});
    CHECK(v.relocations.r64 == std::vector<uint32_t>{R64_AT});
}

TEST_CASE("apply_relocations moves virtual addresses by the offset") {
    auto vmlinux = make_vmlinux();
    ParsedVmlinux v = parse_vmlinux(vmlinux, LOAD_PHYS);
    std::vector<uint8_t> image(v.layout.image_size, 0);
    for (const auto& s : v.segments)
        std::memcpy(image.data() + s.image_offset, vmlinux.data() + s.file_offset, s.size);
    const int64_t delta = 0x2a00000;
    apply_relocations(image, v.relocations, delta);
    uint64_t r64;
    uint32_t r32;
    int32_t rinv;
    std::memcpy(&r64, image.data() + R64_AT, 8);
    std::memcpy(&r32, image.data() + R32_AT, 4);
    std::memcpy(&rinv, image.data() + RINV_AT, 4);
    CHECK(r64 == R64_VALUE + delta);
    CHECK(r32 == uint32_t(R32_VALUE + delta));
    CHECK(rinv == RINV_VALUE - delta);
    CHECK(image[R64_AT + 8] == image_byte(R64_AT + 8));  // nothing else moved

    Relocations outside;
    outside.r64 = {uint32_t(image.size() - 4)};
    CHECK_THROWS_AS(apply_relocations(image, outside, delta), PayloadError);
}

TEST_CASE("lay_out_image puts the segments at their offsets and zeros between them") {
    auto vmlinux = make_vmlinux();
    ParsedVmlinux v = parse_vmlinux(vmlinux, LOAD_PHYS);
    std::vector<uint8_t> image(v.layout.image_size, 0x5a);  // not zero: the gap must be written
    lay_out_image(v, vmlinux, image, false);
    CHECK(image[1] == image_byte(1));
    CHECK(image[TEXT_SIZE - 1] == image_byte(TEXT_SIZE - 1));
    CHECK(std::all_of(image.begin() + TEXT_SIZE, image.begin() + DATA_OFF, [](uint8_t b) { return b == 0; }));
    CHECK(image[DATA_OFF + 1] == image_byte(DATA_OFF + 1));
    CHECK(image.back() == 0);  // the data segment's zero tail, from the file

    std::vector<uint8_t> left(v.layout.image_size, 0x5a);
    lay_out_image(v, vmlinux, left, true);  // zero already: the gap is not touched
    CHECK(left[TEXT_SIZE] == 0x5a);
    CHECK(left[DATA_OFF + 1] == image_byte(DATA_OFF + 1));

    std::vector<uint8_t> small(v.layout.image_size - 1);
    CHECK_THROWS_AS(lay_out_image(v, vmlinux, small, false), PayloadError);
}

TEST_CASE("parse_vmlinux refuses malformed kernels") {
    const auto good = make_vmlinux();
    auto broken = [&](const std::function<void(std::vector<uint8_t>&)>& edit) {
        auto v = good;
        edit(v);
        return payload_error([&] { parse_vmlinux(v, LOAD_PHYS); });
    };
    CHECK_THAT(broken([](auto& v) { v[1] = 'X'; }), Catch::Contains("not an ELF"));
    CHECK_THAT(broken([](auto& v) { v[EI_CLASS] = ELFCLASS32; }), Catch::Contains("64-bit"));
    CHECK_THAT(broken([](auto& v) {  // data segment's file range past the end
                   put<uint64_t>(v, sizeof(Elf64_Ehdr) + offsetof(Elf64_Phdr, p_filesz), 1 << 30);
               }), Catch::Contains("beyond the end"));
    CHECK_THAT(broken([](auto& v) {  // a segment below the load address
                   put<uint64_t>(v, sizeof(Elf64_Ehdr) + offsetof(Elf64_Phdr, p_paddr), 0x100000);
               }), Catch::Contains("outside"));
    CHECK_THAT(broken([](auto& v) { put<uint64_t>(v, offsetof(Elf64_Ehdr, e_entry), 0x500000); }),
               Catch::Contains("entry point"));
    CHECK_THAT(broken([](auto& v) { put<uint32_t>(v, v.size() - 4, virt32(0x100000)); }),
               Catch::Contains("32-bit relocation"));
    CHECK_THAT(broken([](auto& v) { put<uint32_t>(v, v.size() - 20, virt32(DATA_OFF + DATA_SIZE - 4)); }),
               Catch::Contains("64-bit relocation"));
    CHECK_THAT(broken([](auto& v) {  // no terminators: the lists would run into the ELF file
                   for (size_t i = v.size() - 24; i < v.size(); i += 4) put<uint32_t>(v, i, virt32(0x10));
               }), Catch::Contains("runs into the kernel"));
    CHECK_THAT(payload_error([&] { parse_vmlinux(good, LOAD_PHYS + 0x200000); }),
               Catch::Contains("outside"));
}
