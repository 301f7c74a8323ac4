#pragma once
// An IDE channel with a CD-ROM drive as master, and the host's side of
// ATAPI PACKET commands (ide_test.cpp, ide_media_test.cpp).
#include "devices/ide/ide_channel.h"
#include "ide_pio.h"
#include "pci_test_fakes.h"
#include "tests/unit/virtio/fake_block_backend.h"

#include <array>
#include <memory>
#include <vector>

namespace kestrel::test {

struct CdRig {
    GuestMemory ram = GuestMemory::create_flat(16 << 20);
    FakeIrqLine irq;
    std::shared_ptr<FakeBlockBackend> medium;
    std::unique_ptr<IdeChannel> ch;
    std::vector<bool> tray_moves;  // what START STOP UNIT reported

    explicit CdRig(bool with_medium = true) {
        if (with_medium) medium = std::make_shared<FakeBlockBackend>(64 * 2048, true);
        std::array<IdeDrive, 2> drives;
        drives[0].disk = medium;
        drives[0].serial = "QM00003";
        drives[0].cdrom = true;
        drives[0].tray_moved = [this](bool open) { tray_moves.push_back(open); };
        ch = std::make_unique<IdeChannel>(ram, irq, [](std::function<void()> fn) { fn(); }, std::move(drives));
    }
    uint8_t status() { return uint8_t(ch->read_command(7, 1)); }
    void reg(unsigned r, uint8_t v) { ch->write_command(r, v, 1); }
    // PACKET with a byte count limit, then the 12 bytes.
    void packet(std::array<uint8_t, 12> cdb, uint16_t limit = 2048, bool dma = false) {
        reg(1, dma ? 1 : 0);
        reg(4, uint8_t(limit));
        reg(5, uint8_t(limit >> 8));
        reg(6, 0xa0);
        reg(7, 0xa0);
        for (unsigned i = 0; i < 12; i += 2) ch->write_command(0, cdb[i] | cdb[i + 1] << 8, 2);
        if (medium) medium->process_completions();
    }
    // A command that ends at once; its sense key and ASC (0, 0: success).
    std::pair<uint8_t, uint8_t> sense_of(std::array<uint8_t, 12> cdb) {
        packet(cdb);
        if (!(status() & ata::ST_ERR)) {
            while (status() & ata::ST_DRQ) read_chunk();
            return {0, 0};
        }
        const uint8_t key = uint8_t(ch->read_command(1, 1) >> 4);
        packet({0x03, 0, 0, 0, 18});
        std::vector<uint8_t> sense = read_chunk();
        return {key, sense.size() > 12 ? sense[12] : 0xff};
    }
    std::vector<uint8_t> read_chunk() {
        const unsigned bytes = unsigned(ch->read_command(4, 1) | ch->read_command(5, 1) << 8);
        return read_pio_words(*ch, bytes);
    }
};


} // namespace kestrel::test
