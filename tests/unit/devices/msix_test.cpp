#include "devices/pci/msix.h"

#include <catch2/catch.hpp>

#include <vector>

using namespace kestrel;

namespace {

struct RecordingSink : MsiSink {
    struct Call {
        unsigned vector;
        MsiMessage message;
    };
    std::vector<Call> sent, prepared;
    void send(unsigned vector, const MsiMessage& message) override { sent.push_back({vector, message}); }
    void prepare(unsigned vector, const MsiMessage& message) override { prepared.push_back({vector, message}); }
};

struct MsixFixture {
    std::shared_ptr<RecordingSink> sink = std::make_shared<RecordingSink>();
    Msix msix;

    explicit MsixFixture(unsigned vectors = 3) : msix(MsixLayout{vectors, 1, 0x1000, 0, 0x800}, sink) {}

    void write32(uint64_t offset, uint32_t value) {
        uint8_t buf[4];
        store_le(buf, value);
        msix.write(offset, buf);
    }
    uint64_t read(uint64_t offset, unsigned len) {
        uint8_t buf[8];
        msix.read(offset, {buf, len});
        return load_le({buf, len});
    }
    void program(unsigned vector, uint64_t address, uint32_t data, bool masked) {
        uint64_t entry = vector * Msix::ENTRY_SIZE;
        write32(entry + Msix::ENTRY_ADDR_LO, uint32_t(address));
        write32(entry + Msix::ENTRY_ADDR_HI, uint32_t(address >> 32));
        write32(entry + Msix::ENTRY_DATA, data);
        write32(entry + Msix::ENTRY_CONTROL, masked ? 1 : 0);
    }
};

} // namespace

TEST_CASE("msix: capability registers describe table size, BIR and offsets", "[msix]") {
    MsixFixture f(2);
    CHECK(f.msix.initial_control() == 0x0001);  // table size is N-1
    CHECK(f.msix.table_register() == 0x00000001);
    CHECK(f.msix.pba_register() == 0x00000801);
    CHECK_THROWS(Msix(MsixLayout{200, 1, 0x1000, 0, 0x800}, f.sink));  // table runs into the PBA
    CHECK_THROWS(Msix(MsixLayout{0, 1, 0x1000, 0, 0x800}, f.sink));
    CHECK_THROWS(Msix(MsixLayout{4, 1, 0x1000, 0, 0x1000}, f.sink));  // PBA past the BAR
}

TEST_CASE("msix: entries start masked with a zero message and keep what is written", "[msix]") {
    MsixFixture f;
    for (unsigned v = 0; v < 3; ++v) {
        CHECK(f.read(v * 16 + 12, 4) == 1);
        CHECK(f.read(v * 16, 8) == 0);
        CHECK(f.msix.masked(v));
    }
    f.program(1, 0x1'fee0'0000ull, 0x4041, true);
    CHECK(f.read(16, 4) == 0xfee00000);
    CHECK(f.read(20, 4) == 1);
    CHECK(f.read(16, 8) == 0x1'fee0'0000ull);
    CHECK(f.read(24, 4) == 0x4041);
    CHECK(f.msix.message(1) == MsiMessage{0x1'fee0'0000ull, 0x4041});

    uint8_t qword[8];
    store_le(qword, 0xfee01000);  // one 8-byte write covers address low and high
    f.msix.write(32, qword);
    CHECK(f.msix.message(2).address == 0xfee01000);
    CHECK(f.read(0x100, 4) == 0);  // past the table: reads as zero
}

TEST_CASE("msix: an enabled, unmasked vector is sent at once", "[msix]") {
    MsixFixture f;
    f.msix.control_written(Msix::CONTROL_ENABLE);
    f.program(0, 0xfee00000, 0x31, false);
    REQUIRE(f.sink->prepared.size() == 1);  // routes set up when it became deliverable
    CHECK(f.sink->prepared[0].vector == 0);
    f.msix.notify(0);
    REQUIRE(f.sink->sent.size() == 1);
    CHECK(f.sink->sent[0].vector == 0);
    CHECK(f.sink->sent[0].message == MsiMessage{0xfee00000, 0x31});
    CHECK_FALSE(f.msix.pending(0));
    f.msix.notify(7);  // no such vector
    CHECK(f.sink->sent.size() == 1);
}

TEST_CASE("msix: masked vectors become pending and fire when unmasked", "[msix]") {
    MsixFixture f;
    f.program(1, 0xfee00000, 0x41, true);
    f.msix.notify(1);  // MSI-X still disabled
    CHECK(f.msix.pending(1));
    CHECK(f.read(0x800, 8) == 0b10);
    f.msix.control_written(Msix::CONTROL_ENABLE);  // enabled, but the entry is masked
    CHECK(f.sink->sent.empty());
    CHECK(f.msix.pending(1));
    f.write32(16 + 12, 0);  // unmask
    REQUIRE(f.sink->sent.size() == 1);
    CHECK(f.sink->sent[0].vector == 1);
    CHECK(f.sink->sent[0].message.data == 0x41);
    CHECK_FALSE(f.msix.pending(1));
    CHECK(f.read(0x800, 8) == 0);
}

TEST_CASE("msix: the function mask holds every vector back", "[msix]") {
    MsixFixture f;
    f.msix.control_written(Msix::CONTROL_ENABLE | Msix::CONTROL_FUNCTION_MASK);
    f.program(0, 0xfee00000, 0x30, false);
    f.program(2, 0xfee00000, 0x32, false);
    CHECK(f.sink->prepared.empty());
    f.msix.notify(0);
    f.msix.notify(2);
    CHECK(f.sink->sent.empty());
    CHECK(f.read(0x800, 1) == 0b101);
    f.msix.control_written(Msix::CONTROL_ENABLE);
    REQUIRE(f.sink->sent.size() == 2);
    CHECK(f.sink->sent[0].message.data == 0x30);
    CHECK(f.sink->sent[1].message.data == 0x32);
    CHECK(f.read(0x800, 8) == 0);
}

TEST_CASE("msix: rewriting an unmasked entry updates its route", "[msix]") {
    MsixFixture f;
    f.msix.control_written(Msix::CONTROL_ENABLE);
    f.program(0, 0xfee00000, 0x30, false);
    f.sink->prepared.clear();
    f.write32(8, 0x55);
    REQUIRE(f.sink->prepared.size() == 1);
    CHECK(f.sink->prepared[0].message == MsiMessage{0xfee00000, 0x55});
    f.write32(8, 0x55);  // same message: nothing to update
    CHECK(f.sink->prepared.size() == 1);
    f.msix.notify(0);
    CHECK(f.sink->sent.back().message.data == 0x55);
}

TEST_CASE("msix: the PBA is read-only and spans 64 vectors per qword", "[msix]") {
    MsixFixture f(70);
    f.msix.notify(65);
    f.msix.notify(3);
    CHECK(f.read(0x800, 8) == 0b1000);
    CHECK(f.read(0x808, 8) == 0b10);
    CHECK(f.read(0x808, 4) == 0b10);
    f.write32(0x808, 0);
    CHECK(f.msix.pending(65));
    CHECK(f.read(0x810, 8) == 0);  // past the PBA
}

TEST_CASE("msix: reset masks every entry and forgets pending bits", "[msix]") {
    MsixFixture f;
    f.msix.control_written(Msix::CONTROL_ENABLE);
    f.program(0, 0xfee00000, 0x30, false);
    f.program(1, 0xfee00000, 0x31, true);
    f.msix.notify(1);
    f.msix.reset();
    CHECK_FALSE(f.msix.enabled());
    CHECK(f.msix.masked(0));
    CHECK_FALSE(f.msix.pending(1));
    CHECK(f.msix.message(0) == MsiMessage{});
}
