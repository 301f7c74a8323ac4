// A CD-ROM drive's tray and medium as the guest sees them: the lock,
// START STOP UNIT, the media events of GET EVENT STATUS NOTIFICATION and
// the sense sequence after a medium change (NOT READY, UNIT ATTENTION,
// then the new medium), as QEMU's ide-cd answers; malformed packets
// among tray moves never crash.
#include "ide_cd_rig.h"

#include <catch2/catch.hpp>
#include <random>

using namespace kestrel;
using namespace kestrel::test;

namespace {

using Sense = std::pair<uint8_t, uint8_t>;
constexpr Sense OK{0, 0}, NO_MEDIUM{2, 0x3a}, CHANGED{6, 0x28}, REMOVAL_PREVENTED{2, 0x53};

// GET EVENT STATUS NOTIFICATION for the media class: {event code, media status}.
std::pair<uint8_t, uint8_t> media_event(CdRig& r) {
    r.packet({0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8});
    std::vector<uint8_t> event = r.read_chunk();
    REQUIRE(event.size() == 8);
    CHECK(event[1] == 4);     // 4 bytes after the header
    CHECK(event[2] == 0x04);  // media class
    CHECK(event[3] == 0x10);  // supported: media
    return {event[4], event[5]};
}

} // namespace

TEST_CASE("ATAPI: a locked tray refuses START STOP UNIT's eject; unlocked it opens and closes") {
    CdRig r;
    CHECK(r.sense_of({0x1e, 0, 0, 0, 1}) == OK);  // PREVENT MEDIUM REMOVAL
    CHECK(r.ch->medium_locked(0));
    CHECK(r.sense_of({0x1b, 0, 0, 0, 0x02}) == REMOVAL_PREVENTED);
    CHECK(!r.ch->tray_open(0));
    CHECK(r.tray_moves.empty());
    CHECK(r.sense_of({0x1e, 0, 0, 0, 0}) == OK);  // ALLOW
    CHECK(r.sense_of({0x1b, 0, 0, 0, 0x02}) == OK);  // eject
    CHECK(r.ch->tray_open(0));
    CHECK(r.tray_moves == std::vector<bool>{true});
    CHECK(r.sense_of({0x00}) == NO_MEDIUM);  // TEST UNIT READY with the tray open
    CHECK(r.sense_of({0x28, 0, 0, 0, 0, 0, 0, 0, 1}) == NO_MEDIUM);
    CHECK(media_event(r) == std::pair<uint8_t, uint8_t>{0, 1});  // tray open
    CHECK(r.sense_of({0x1b, 0, 0, 0, 0x02}) == OK);  // already open: nothing moves
    CHECK(r.sense_of({0x1b, 0, 0, 0, 0x03}) == OK);  // load
    CHECK(!r.ch->tray_open(0));
    CHECK(r.tray_moves == std::vector<bool>{true, false});
    CHECK(r.sense_of({0x00}) == OK);
    CHECK(r.sense_of({0x1b, 0, 0, 0, 0x12}) == OK);  // a power condition: no tray move
    CHECK(r.tray_moves.size() == 2);
    CHECK(r.medium->ops.empty());
}

TEST_CASE("ATAPI: a changed medium reads NOT READY, then UNIT ATTENTION, then the new medium") {
    CdRig r;
    CHECK(r.sense_of({0x00}) == OK);
    r.ch->change_media(0, false);  // the host opens the tray and takes the medium
    r.ch->set_medium(0, nullptr);
    CHECK(r.sense_of({0x00}) == NO_MEDIUM);
    CHECK(media_event(r) == std::pair<uint8_t, uint8_t>{0, 1});  // no event while open
    auto next = std::make_shared<FakeBlockBackend>(32 * 2048, true);
    next->fill_file(7 * 2048, 2048, 0x77);
    r.ch->set_medium(0, next);
    r.ch->change_media(0, true);
    r.medium = next;
    CHECK(media_event(r) == std::pair<uint8_t, uint8_t>{2, 2});  // new media, present
    CHECK(media_event(r) == std::pair<uint8_t, uint8_t>{0, 2});  // reported once
    CHECK(r.sense_of({0x00}) == NO_MEDIUM);
    r.packet({0x00});
    CHECK(r.status() == 0x51);
    CHECK(r.ch->read_command(1, 1) == 0x60);  // UNIT ATTENTION
    r.packet({0x25});  // still pending until REQUEST SENSE
    CHECK(r.status() == 0x51);
    r.packet({0x12, 0, 0, 0, 36});  // INQUIRY is allowed through
    CHECK(r.read_chunk().size() == 36);
    r.packet({0x03, 0, 0, 0, 18});
    std::vector<uint8_t> sense = r.read_chunk();
    CHECK(Sense{sense[2], sense[12]} == CHANGED);
    r.packet({0x25});
    std::vector<uint8_t> cap = r.read_chunk();
    REQUIRE(cap.size() == 8);
    CHECK(cap[3] == 31);
    r.packet({0x28, 0, 0, 0, 0, 7, 0, 0, 1});
    CHECK(r.read_chunk() == std::vector<uint8_t>(2048, 0x77));
}

TEST_CASE("ATAPI: the host's eject request on a locked tray is a media event; force unlocks") {
    CdRig r;
    CHECK(r.sense_of({0x1e, 0, 0, 0, 1}) == OK);
    r.ch->eject_request(0, false);
    CHECK(r.ch->medium_locked(0));
    CHECK(media_event(r) == std::pair<uint8_t, uint8_t>{1, 2});  // eject requested
    CHECK(media_event(r) == std::pair<uint8_t, uint8_t>{0, 2});
    r.ch->eject_request(0, true);
    CHECK(!r.ch->medium_locked(0));
    CHECK(r.sense_of({0x1b, 0, 0, 0, 0x02}) == OK);
}

TEST_CASE("ATAPI: a machine reset closes and unlocks the tray, as QEMU's ide_reset") {
    CdRig r;
    CHECK(r.sense_of({0x1e, 0, 0, 0, 1}) == OK);
    r.ch->change_media(0, false);
    r.ch->reset();
    CHECK_FALSE(r.ch->tray_open(0));
    CHECK_FALSE(r.ch->medium_locked(0));
    CHECK(r.sense_of({0x00}) == OK);  // no medium-change report pending either
}

TEST_CASE("ATAPI: a medium taken out between a DMA READ's packet and the bus master's start") {
    CdRig r;
    REQUIRE(r.ram.write_obj(0x1000, uint32_t(0x200000)));
    REQUIRE(r.ram.write_obj(0x1004, uint32_t(0x80000000u | 2048)));
    r.ch->write_bm(4, 0x1000, 4);
    r.packet({0x28, 0, 0, 0, 0, 3, 0, 0, 1}, 0, true);
    r.ch->change_media(0, false);
    r.ch->set_medium(0, nullptr);
    r.ch->write_bm(0, ata::BM_CMD_START | ata::BM_CMD_TO_MEMORY, 1);
    CHECK(r.status() == 0x51);
    CHECK(r.ch->read_command(1, 1) == 0x20);  // NOT READY
    CHECK(r.medium->ops.empty());
}

TEST_CASE("ATAPI: GET EVENT STATUS NOTIFICATION's malformed and other-class requests") {
    CdRig r;
    CHECK(r.sense_of({0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8}) == Sense{5, 0x24});  // not polled
    r.packet({0x4a, 1, 0, 0, 0x02, 0, 0, 0, 8});  // another class: no event available
    std::vector<uint8_t> none = r.read_chunk();
    REQUIRE(none.size() == 4);
    CHECK(none[2] == 0x80);
    CHECK(none[1] == 0);
    r.packet({0x4a, 1, 0, 0, 0x10, 0, 0, 0, 3});  // allocation shorter than the header
    CHECK(r.read_chunk().size() == 4);  // 3 and a pad byte
    CHECK(r.status() == 0x50);
}

TEST_CASE("ATAPI: random packets among tray moves and medium changes never crash") {
    CdRig r;
    std::mt19937 rng(7);
    auto spare = std::make_shared<FakeBlockBackend>(8 * 2048, true);
    for (int i = 0; i < 3000; ++i) {
        std::array<uint8_t, 12> cdb{};
        for (auto& b : cdb) b = uint8_t(rng());
        static constexpr uint8_t opcodes[] = {0x00, 0x03, 0x12, 0x1b, 0x1e, 0x25, 0x28, 0x43, 0x46, 0x4a, 0x5a, 0xa8};
        cdb[0] = opcodes[rng() % std::size(opcodes)];
        cdb[7] = 0;  // keep READ(10) lengths small
        const bool dma = rng() & 1;
        r.packet(cdb, uint16_t(rng()), dma);
        if (dma) r.ch->write_bm(0, (rng() & 1) ? ata::BM_CMD_START | ata::BM_CMD_TO_MEMORY : 0, 1);
        // A few chunks, not whole transfers: the tray moves and resets below
        // then land in the middle of PIO transfers too.
        for (int n = 0; n < 4 && (r.status() & ata::ST_DRQ); ++n) r.read_chunk();
        if (spare) spare->process_completions();
        switch (rng() % 16) {
        case 0: r.ch->change_media(0, rng() & 1); break;
        case 1: r.ch->set_medium(0, (rng() & 1) ? spare : nullptr); break;
        case 2: r.ch->eject_request(0, rng() & 1); break;
        case 3: r.ch->reset(); break;
        }
    }
    CHECK((r.status() & ata::ST_BSY) == 0);
}
