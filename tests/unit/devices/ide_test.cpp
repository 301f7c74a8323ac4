// The PIIX3 IDE channel: the ATA commands SeaBIOS and Linux's ata_piix
// use, and a guest that writes nonsense (absurd sector counts, PRD tables
// outside RAM or without an end, random register values) never crashes
// kestrel or reaches past the disk.
#include "devices/ide/ide_channel.h"
#include "ide_pio.h"
#include "pci_test_fakes.h"
#include "tests/unit/virtio/fake_block_backend.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <random>

using namespace kestrel;
using namespace kestrel::test;

namespace {

struct Rig {
    GuestMemory ram = GuestMemory::create_flat(16 << 20);
    FakeIrqLine irq;
    std::shared_ptr<FakeBlockBackend> disk;
    std::unique_ptr<IdeChannel> ch;

    explicit Rig(uint64_t disk_bytes = 8 << 20, bool slave = false) {
        disk = std::make_shared<FakeBlockBackend>(disk_bytes);
        std::array<IdeDrive, 2> drives;
        drives[slave ? 1 : 0] = {disk, "QM00001"};
        ch = std::make_unique<IdeChannel>(ram, irq, [](std::function<void()> fn) { fn(); }, std::move(drives));
    }
    void complete() { disk->process_completions(); }
    uint8_t status() { return uint8_t(ch->read_command(7, 1)); }
    void reg(unsigned r, uint8_t v) { ch->write_command(r, v, 1); }
    void lba28(uint32_t lba, uint8_t count, uint8_t unit = 0) {
        reg(6, uint8_t(0xe0 | unit << 4 | (lba >> 24 & 0xf)));
        reg(2, count);
        reg(3, uint8_t(lba));
        reg(4, uint8_t(lba >> 8));
        reg(5, uint8_t(lba >> 16));
    }
    void lba48(uint64_t lba, uint16_t count) {
        reg(6, 0xe0);
        reg(2, uint8_t(count >> 8));
        reg(3, uint8_t(lba >> 24));
        reg(4, uint8_t(lba >> 32));
        reg(5, uint8_t(lba >> 40));
        reg(2, uint8_t(count));
        reg(3, uint8_t(lba));
        reg(4, uint8_t(lba >> 8));
        reg(5, uint8_t(lba >> 16));
    }
    std::vector<uint8_t> read_pio(size_t bytes) { return read_pio_words(*ch, bytes); }
    void write_pio(const std::vector<uint8_t>& data) {
        for (size_t i = 0; i < data.size(); i += 2) ch->write_command(0, data[i] | data[i + 1] << 8, 2);
    }
    void prd(uint32_t table, std::vector<std::array<uint32_t, 2>> entries) {
        for (size_t i = 0; i < entries.size(); ++i) {
            REQUIRE(ram.write_obj(table + 8 * i, entries[i][0]));
            REQUIRE(ram.write_obj(table + 8 * i + 4, entries[i][1]));
        }
        ch->write_bm(4, table, 4);
    }
};

std::vector<uint8_t> pattern(size_t bytes, uint8_t seed) {
    std::vector<uint8_t> v(bytes);
    for (size_t i = 0; i < bytes; ++i) v[i] = uint8_t(i * 13 + seed);
    return v;
}

std::string ata_string(const std::vector<uint8_t>& id, unsigned word, unsigned words) {
    std::string s;
    for (unsigned i = 0; i < words; ++i) {
        s += char(id[2 * (word + i) + 1]);
        s += char(id[2 * (word + i)]);
    }
    return s;
}

} // namespace

TEST_CASE("IDE: reset signature, absent slave reads 0") {
    Rig r;
    CHECK(r.status() == 0x50);
    CHECK(r.ch->read_command(2, 1) == 1);
    CHECK(r.ch->read_command(3, 1) == 1);
    r.reg(6, 0xb0);  // the slave: nobody there
    CHECK(r.status() == 0);
    r.reg(2, 0x55);
    CHECK(r.ch->read_command(2, 1) == 0);  // SeaBIOS's presence check fails
    r.reg(6, 0xa0);
    CHECK(r.ch->read_command(2, 1) == 0x55);
}

TEST_CASE("IDE: IDENTIFY as QEMU's hard disk") {
    Rig r(8 << 20);
    r.reg(6, 0xa0);
    r.reg(7, 0xec);
    CHECK(r.status() == 0x58);
    auto id = r.read_pio(512);
    CHECK(r.status() == 0x50);
    CHECK(ata_string(id, 27, 20).starts_with("QEMU HARDDISK "));
    CHECK(ata_string(id, 10, 10).starts_with("QM00001 "));
    const uint32_t lba28 = id[120] | id[121] << 8 | id[122] << 16 | uint32_t(id[123]) << 24;
    CHECK(lba28 == (8u << 20) / 512);
    CHECK((id[83 * 2 + 1] & 0x04) != 0);  // LBA48
}

TEST_CASE("IDE: IDENTIFY carries ide-hd's serial=, model=, ver= and wwn=, cut to their fields") {
    IdeDrive drive;
    drive.serial = std::string(64, 'S');  // longer than its 20 characters
    drive.model = "My Disk " + std::string(100, 'M');
    drive.version = "1.2.3.4.5.6";
    drive.wwn = 0x5000c5000cd43ee0;
    auto id = ata_identify(2048, drive, 16, 0, true);
    REQUIRE(id.size() == 512);
    CHECK(ata_string(id, 10, 10) == std::string(20, 'S'));
    CHECK(ata_string(id, 27, 20) == ("My Disk " + std::string(100, 'M')).substr(0, 40));
    CHECK(ata_string(id, 23, 4) == "1.2.3.4.");
    auto word = [&](unsigned w) { return uint16_t(id[2 * w] | id[2 * w + 1] << 8); };
    CHECK(word(84) == 0x4100);
    CHECK(word(87) == 0x4100);
    CHECK(word(108) == 0x5000);
    CHECK(word(109) == 0xc500);
    CHECK(word(110) == 0x0cd4);
    CHECK(word(111) == 0x3ee0);
    drive.wwn = 0;
    drive.model.clear();
    id = ata_identify(2048, drive, 16, 0, true);
    CHECK(ata_string(id, 27, 20).starts_with("QEMU HARDDISK "));
    CHECK(word(84) == 0x4000);
    CHECK(word(108) == 0);

    drive.cdrom = true;
    drive.model = "Kestrel CD";
    drive.wwn = 0x1122334455667788;
    id = atapi_identify(drive, 0);
    CHECK(ata_string(id, 27, 20).starts_with("Kestrel CD "));
    CHECK(word(84) == 0x0100);
    CHECK(word(111) == 0x7788);
}

TEST_CASE("IDE: a drive attached after the channel is built answers at its unit") {
    GuestMemory ram = GuestMemory::create_flat(1 << 20);
    FakeIrqLine irq;
    IdeChannel ch(ram, irq, [](std::function<void()> fn) { fn(); }, {});
    ch.write_command(6, 0xb0, 1);  // the slave
    ch.write_command(7, 0xec, 1);
    CHECK(ch.read_command(7, 1) == 0);  // nobody there
    IdeDrive drive;
    drive.disk = std::make_shared<FakeBlockBackend>(1 << 20);
    drive.serial = "QM00002";
    ch.attach(1, drive);
    CHECK(ch.has_drive(1));
    CHECK_FALSE(ch.has_drive(0));
    ch.write_command(6, 0xb0, 1);
    ch.write_command(7, 0xec, 1);
    CHECK(ch.read_command(7, 1) == 0x58);
    CHECK_THROWS(ch.attach(2, drive));
}

TEST_CASE("IDE: PIO write and read, LBA28 and LBA48, multiple mode") {
    Rig r(8 << 20);
    auto data = pattern(3 * 512, 7);
    r.lba28(100, 3);
    r.reg(7, 0x30);  // WRITE SECTORS
    CHECK(r.status() == 0x58);
    r.write_pio(data);
    r.complete();
    CHECK(r.status() == 0x50);
    CHECK(r.disk->file_bytes(100 * 512, data.size()) == data);

    r.lba48(100, 3);
    r.reg(7, 0x24);  // READ SECTORS EXT
    r.complete();
    CHECK(r.status() == 0x58);
    CHECK(r.read_pio(data.size()) == data);
    CHECK(r.status() == 0x50);

    r.reg(2, 2);
    r.reg(7, 0xc6);  // SET MULTIPLE MODE 2
    CHECK(r.status() == 0x50);
    r.lba28(100, 3);
    r.reg(7, 0xc4);  // READ MULTIPLE: blocks of 2 sectors, then 1
    r.complete();
    CHECK(r.read_pio(1024) == std::vector<uint8_t>(data.begin(), data.begin() + 1024));
    CHECK(r.irq.level);
    CHECK(r.status() == 0x58);
    CHECK(r.read_pio(512) == std::vector<uint8_t>(data.begin() + 1024, data.end()));
    r.reg(2, 3);
    r.reg(7, 0xc6);  // not a power of two
    CHECK(r.status() == 0x51);
    CHECK(r.ch->read_command(1, 1) == ata::ER_ABRT);
}

TEST_CASE("IDE: FLUSH CACHE and FLUSH CACHE EXT reach the block layer; BSY until done, an error aborts") {
    for (uint8_t command : {uint8_t(0xe7), uint8_t(0xea)}) {
        Rig r;
        r.disk->hold = true;
        r.reg(6, 0xe0);
        r.reg(7, command);
        CHECK(r.status() == 0xd0);                // BSY while the flush is in flight
        REQUIRE(r.disk->ops.size() == 1);
        CHECK(r.disk->ops[0].op == BlockOp::Flush);
        CHECK_FALSE(r.irq.level);
        r.disk->hold = false;
        r.disk->kick();
        r.complete();
        CHECK(r.irq.level);
        CHECK(r.status() == 0x50);                // reading it acknowledges the interrupt
        CHECK_FALSE(r.irq.level);

        r.disk->fail_with = -EIO;
        r.reg(7, command);
        r.complete();
        CHECK(r.status() == 0x51);
        CHECK((r.ch->read_command(1, 1) & ata::ER_ABRT) != 0);
        CHECK(r.disk->ops.size() == 2);
    }
}

TEST_CASE("IDE: sectors past the disk end abort without I/O") {
    Rig r(1 << 20);  // 2048 sectors
    r.lba28(2047, 2);
    r.reg(7, 0x20);
    CHECK(r.status() == 0x51);
    CHECK((r.ch->read_command(1, 1) & ata::ER_IDNF) != 0);
    r.lba48(0xffffffffffffull, 0);  // 65536 sectors at the last LBA48 address
    r.reg(7, 0x25);
    CHECK(r.status() == 0x51);
    r.lba28(0x0fffffff, 0);
    r.reg(7, 0x30);
    CHECK(r.status() == 0x51);
    r.reg(6, 0xa0);  // CHS with sector 0
    r.reg(3, 0);
    r.reg(7, 0x20);
    CHECK(r.status() == 0x51);
    CHECK(r.disk->ops.empty());
    r.reg(7, 0x77);  // an unknown command
    CHECK(r.status() == 0x51);
    r.reg(7, 0xa1);  // IDENTIFY PACKET on a disk
    CHECK(r.status() == 0x51);
}

TEST_CASE("IDE: bus-master DMA reads and writes through the PRD table") {
    Rig r(8 << 20);
    auto data = pattern(4096 + 512, 3);
    r.disk->fill_file(0, 0, 0);
    {
        std::vector<uint8_t> tmp = data;
        REQUIRE(r.ram.write(0x200000, tmp));
    }
    r.prd(0x1000, {{0x200000, 4096}, {0x300000, 512 | 0x80000000u}});
    REQUIRE(r.ram.write(0x300000, std::span(data).subspan(4096)));
    r.lba28(10, 9);
    r.reg(7, 0xca);  // WRITE DMA
    r.ch->write_bm(0, ata::BM_CMD_START, 1);
    r.complete();
    CHECK(r.status() == 0x50);
    CHECK(r.ch->read_bm(2, 1) == ata::BM_ST_INTERRUPT);
    CHECK(r.disk->file_bytes(10 * 512, data.size()) == data);

    r.ch->write_bm(0, 0, 1);
    r.ch->write_bm(2, ata::BM_ST_INTERRUPT, 1);  // write 1 to clear
    CHECK(r.ch->read_bm(2, 1) == 0);
    r.prd(0x1000, {{0x400000, 0 | 0x80000000u}});  // 0 = 64 KiB
    r.lba48(10, 9);
    r.reg(7, 0x25);  // READ DMA EXT, then start
    r.ch->write_bm(0, ata::BM_CMD_START | ata::BM_CMD_TO_MEMORY, 1);
    r.complete();
    CHECK(r.status() == 0x50);
    std::vector<uint8_t> got(data.size());
    REQUIRE(r.ram.read(0x400000, got));
    CHECK(got == data);
}

// What Linux's ata_piix does for a 1.25 MiB sequential read (fio at
// iodepth 32 merges requests up to max_sectors_kb = 1280): LBA48 READ DMA
// EXT of 2560 sectors through a 128-entry PRD table of 4 KiB..64 KiB
// regions (a 64 KiB one written as count 0), in its order: table address,
// direction, command, start. The interrupt must come once, with the bus
// master's interrupt bit set and its active bit clear, the drive ready.
TEST_CASE("IDE: a 1.25 MiB DMA read through a 128-entry PRD table, as ata_piix issues it") {
    Rig r(8 << 20);
    const size_t total = 2560 * 512;
    auto data = pattern(total, 9);
    // Regions: 64 entries of 4 KiB, 16 of 64 KiB (count 0), the rest 4 KiB
    // and 8 KiB, scattered over RAM with gaps between them.
    std::vector<std::array<uint32_t, 2>> table;
    uint32_t guest = 0x200000;
    size_t covered = 0;
    std::vector<std::pair<uint32_t, uint32_t>> regions;
    for (unsigned i = 0; i < 128 && covered < total; ++i) {
        uint32_t len = i < 64 ? 4096 : i < 80 ? 0x10000 : (i % 2 ? 8192 : 4096);
        if (i == 127 || covered + len > total) len = uint32_t(total - covered);
        REQUIRE(len <= 0x10000);
        regions.push_back({guest, len});
        table.push_back({guest, len & 0xffff});
        covered += len;
        guest += len + 4096;
    }
    REQUIRE(covered == total);
    table.back()[1] |= 0x80000000u;
    // The disk holds the pattern (written by DMA first, as a guest would).
    r.prd(0x1000, table);
    size_t at = 0;
    for (auto [addr, len] : regions) {
        REQUIRE(r.ram.write(addr, std::span(data).subspan(at, len)));
        at += len;
    }
    r.ch->write_bm(0, 0, 1);
    r.lba48(100, 2560);
    r.reg(7, 0x35);  // WRITE DMA EXT
    r.ch->write_bm(0, ata::BM_CMD_START, 1);
    r.complete();
    CHECK(r.status() == 0x50);
    CHECK(r.disk->file_bytes(100 * 512, total) == data);
    r.ch->write_bm(0, 0, 1);
    r.ch->write_bm(2, ata::BM_ST_INTERRUPT, 1);

    for (auto [addr, len] : regions) REQUIRE(r.ram.write(addr, std::vector<uint8_t>(len, 0xee)));
    r.ch->write_bm(4, 0x1000, 4);
    r.ch->write_bm(0, ata::BM_CMD_TO_MEMORY, 1);
    r.lba48(100, 2560);
    r.reg(7, 0x25);  // READ DMA EXT
    const int changes = r.irq.changes;
    r.ch->write_bm(0, ata::BM_CMD_START | ata::BM_CMD_TO_MEMORY, 1);
    CHECK(r.ch->read_alt_status() == 0xd0);  // busy until the block layer answers
    CHECK(r.ch->read_bm(2, 1) == ata::BM_ST_ACTIVE);
    CHECK_FALSE(r.irq.level);
    REQUIRE(r.disk->ops.size() == 2);
    CHECK(r.disk->ops.back().length == total);  // the whole table in one request
    r.complete();
    CHECK(r.irq.level);
    CHECK(r.irq.changes == changes + 1);
    CHECK(r.ch->read_bm(2, 1) == ata::BM_ST_INTERRUPT);
    CHECK(r.ch->read_alt_status() == 0x50);
    r.ch->write_bm(0, ata::BM_CMD_TO_MEMORY, 1);  // bmdma_stop
    CHECK(r.status() == 0x50);                    // reading the status lowers the line
    CHECK_FALSE(r.irq.level);
    r.ch->write_bm(2, ata::BM_ST_INTERRUPT, 1);
    CHECK(r.ch->read_bm(2, 1) == 0);
    std::vector<uint8_t> got;
    for (auto [addr, len] : regions) {
        std::vector<uint8_t> part(len);
        REQUIRE(r.ram.read(addr, part));
        got.insert(got.end(), part.begin(), part.end());
    }
    CHECK(got == data);
}

TEST_CASE("IDE: malformed PRD tables end in an error, never a crash") {
    Rig r(8 << 20);
    auto run = [&](std::vector<std::array<uint32_t, 2>> entries, uint32_t table = 0x1000) {
        r.ch->write_bm(0, 0, 1);
        r.ch->write_bm(2, 0x06, 1);
        r.prd(table, entries);
        r.lba28(0, 128);  // 64 KiB
        r.reg(7, 0xc8);
        r.ch->write_bm(0, ata::BM_CMD_START | ata::BM_CMD_TO_MEMORY, 1);
        r.complete();
        return std::pair<uint8_t, uint8_t>(r.status(), uint8_t(r.ch->read_bm(2, 1)));
    };
    // A region outside RAM, one crossing its end, a table too short.
    CHECK(run({{0xf0000000u, 0x80000000u | 4096}}).first == 0x51);
    CHECK(run({{(16u << 20) - 512, 0x80000000u | 4096}}).first == 0x51);
    auto [st, bm] = run({{0x200000, 0x80000000u | 512}});
    CHECK(st == 0x51);
    CHECK((bm & ata::BM_ST_ERROR) != 0);
    // A table without an end: 2-byte regions for ever; bounded.
    std::vector<std::array<uint32_t, 2>> endless(ata::MAX_PRD_ENTRIES + 10, {0x200000, 2});
    CHECK(run(endless).first == 0x51);
    // The table itself outside RAM.
    r.ch->write_bm(4, 0xfffffff0u, 4);
    r.lba28(0, 1);
    r.reg(7, 0xc8);
    r.ch->write_bm(0, ata::BM_CMD_START | ata::BM_CMD_TO_MEMORY, 1);
    CHECK(r.status() == 0x51);
    CHECK(r.disk->ops.empty());
}

TEST_CASE("IDE: a reset drops a request in flight") {
    Rig r(8 << 20);
    r.disk->hold = true;
    r.lba28(0, 1);
    r.reg(7, 0x20);
    CHECK(r.status() == 0xd0);
    r.ch->write_control(ata::CTL_SRST);
    r.ch->write_control(0);
    r.disk->run_queued();
    r.complete();
    CHECK(r.status() == 0x50);
    CHECK(r.read_pio(2) == std::vector<uint8_t>{0xff, 0xff});  // no transfer
}

TEST_CASE("IDE: random register traffic never crashes") {
    for (bool slave : {false, true}) {
        Rig r(1 << 20, slave);
        std::mt19937 rng(slave ? 7 : 13);
        for (int i = 0; i < 200000; ++i) {
            const uint32_t v = rng();
            switch (v % 6) {
            case 0: r.ch->write_command(v >> 8 & 7, v >> 16, (v >> 11 & 1) ? 2 : 1); break;
            case 1: r.ch->read_command(v >> 8 & 7, 2); break;
            case 2: r.ch->write_bm(v >> 8 & 7, v >> 12, 1); break;
            case 3: r.ch->write_control(uint8_t(v >> 8) & ~ata::CTL_SRST); break;
            case 4: r.ch->write_command(7, (v >> 8) & 1 ? 0xc8 : 0x20, 1); break;
            case 5: r.complete(); break;
            }
        }
        r.complete();
    }
}

#include "ide_cd_rig.h"

TEST_CASE("ATAPI: signature, IDENTIFY aborts, IDENTIFY PACKET answers") {
    CdRig r;
    CHECK(r.ch->read_command(4, 1) == 0x14);
    CHECK(r.ch->read_command(5, 1) == 0xeb);
    r.reg(7, 0xec);
    CHECK(r.status() == 0x51);
    CHECK(r.ch->read_command(5, 1) == 0xeb);
    r.reg(7, 0xa1);
    CHECK(r.status() == 0x58);
    std::vector<uint8_t> id;
    for (int i = 0; i < 256; ++i) {
        uint16_t w = uint16_t(r.ch->read_command(0, 2));
        id.push_back(uint8_t(w));
        id.push_back(uint8_t(w >> 8));
    }
    CHECK(ata_string(id, 27, 20).starts_with("QEMU DVD-ROM "));
    CHECK((id[1] & 0xc0) == 0x80);  // ATAPI
}

TEST_CASE("ATAPI: READ CAPACITY and READ(10) in byte-count-limited pieces") {
    CdRig r;
    for (unsigned lba = 0; lba < 64; ++lba) r.medium->fill_file(lba * 2048, 2048, uint8_t(lba));
    r.packet({0x25});
    auto cap = r.read_chunk();
    REQUIRE(cap.size() == 8);
    CHECK(cap[3] == 63);
    CHECK((cap[6] << 8 | cap[7]) == 2048);
    CHECK(r.status() == 0x50);
    CHECK(r.ch->read_command(2, 1) == 3);  // I/O and C/D: the command is done
    r.packet({0x28, 0, 0, 0, 0, 5, 0, 0, 2}, 1024);  // LBA 5, 2 blocks, 1 KiB pieces
    for (int piece = 0; piece < 4; ++piece) {
        CHECK(r.status() == 0x58);
        auto data = r.read_chunk();
        REQUIRE(data.size() == 1024);
        CHECK(data[0] == (piece < 2 ? 5 : 6));
    }
    CHECK(r.status() == 0x50);
}

TEST_CASE("ATAPI: no medium, out of range, unknown opcodes give sense data") {
    CdRig empty(false);
    empty.packet({0x00});  // TEST UNIT READY
    CHECK(empty.status() == 0x51);
    CHECK(empty.ch->read_command(1, 1) == 0x20);  // NOT READY
    empty.packet({0x03, 0, 0, 0, 18});
    auto sense = empty.read_chunk();
    REQUIRE(sense.size() == 18);
    CHECK(sense[2] == 0x02);
    CHECK(sense[12] == 0x3a);  // medium not present
    empty.packet({0x28, 0, 0, 0, 0, 0, 0, 0, 1});
    CHECK(empty.status() == 0x51);

    CdRig r;
    r.packet({0x28, 0, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff});
    CHECK(r.status() == 0x51);
    CHECK(r.ch->read_command(1, 1) == 0x50);  // ILLEGAL REQUEST
    r.packet({0xa8, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff});  // READ(12) of 4 G blocks
    CHECK(r.status() == 0x51);
    r.packet({0xee});
    CHECK(r.status() == 0x51);
    CHECK(r.medium->ops.empty());
}

TEST_CASE("ATAPI: READ(10) by DMA, and a bad PRD table ends in a check condition") {
    CdRig r;
    r.medium->fill_file(3 * 2048, 2048, 0x5c);
    REQUIRE(r.ram.write_obj(0x1000, uint32_t(0x200000)));
    REQUIRE(r.ram.write_obj(0x1004, uint32_t(0x80000000u | 2048)));
    r.ch->write_bm(4, 0x1000, 4);
    r.packet({0x28, 0, 0, 0, 0, 3, 0, 0, 1}, 0, true);
    r.ch->write_bm(0, ata::BM_CMD_START | ata::BM_CMD_TO_MEMORY, 1);
    r.medium->process_completions();
    CHECK(r.status() == 0x50);
    std::vector<uint8_t> got(2048);
    REQUIRE(r.ram.read(0x200000, got));
    CHECK(got == std::vector<uint8_t>(2048, 0x5c));

    REQUIRE(r.ram.write_obj(0x1000, uint32_t(0xfff00000u)));  // outside RAM
    r.ch->write_bm(0, 0, 1);
    r.packet({0x12, 0, 0, 0, 36}, 0, true);  // INQUIRY by DMA
    r.ch->write_bm(0, ata::BM_CMD_START | ata::BM_CMD_TO_MEMORY, 1);
    CHECK(r.status() == 0x51);
    CHECK((r.ch->read_bm(2, 1) & ata::BM_ST_ERROR) != 0);
}

TEST_CASE("ATAPI: odd allocation lengths and byte count limits stay inside the reply") {
    CdRig r;
    r.packet({0x12, 0, 0, 0, 35}, 1);  // INQUIRY, 35 bytes, a byte count limit of 1
    size_t bytes = 0;
    for (int i = 0; i < 100 && (r.status() & ata::ST_DRQ); ++i) bytes += r.read_chunk().size();
    CHECK(bytes == 36);  // 35 and a pad byte, two at a time
    CHECK(r.status() == 0x50);
    for (int i = 0; i < 10; ++i) CHECK(r.ch->read_command(0, 4) == 0xffffffffu);
}

TEST_CASE("IDE: IDENTIFY and CHS addressing use the disk's guessed geometry") {
    Rig r(8 << 20);
    IdeDrive drive{r.disk, "QM00001"};
    drive.geometry = HdGeometry{100, 4, 32, BiosTranslation::None};  // as from an MBR ending at head 3
    r.ch->attach(0, drive);
    r.reg(6, 0xa0);
    r.reg(7, 0xec);
    auto id = r.read_pio(512);
    auto word = [&](unsigned w) { return unsigned(id[2 * w] | id[2 * w + 1] << 8); };
    CHECK(word(1) == 100);
    CHECK(word(3) == 4);
    CHECK(word(6) == 32);
    CHECK(word(54) == 100);
    CHECK((word(57) | word(58) << 16) == 100 * 4 * 32);
    CHECK(r.ch->disk_geometry(0)->heads == 4);
    CHECK_FALSE(r.ch->disk_geometry(1));

    r.disk->fill_file(194 * 512, 512, 0x5a);  // C1 H2 S3 = (1 * 4 + 2) * 32 + 3 - 1
    r.reg(6, 0xa2);
    r.reg(2, 1);
    r.reg(3, 3);
    r.reg(4, 1);
    r.reg(5, 0);
    r.reg(7, 0x20);
    r.complete();
    CHECK(r.read_pio(512) == std::vector<uint8_t>(512, 0x5a));
    r.reg(6, 0xa4);  // head 4 of 4 heads: not on the disk
    r.reg(7, 0x20);
    CHECK(r.status() == 0x51);
    CHECK((r.ch->read_command(1, 1) & ata::ER_IDNF) != 0);
}
