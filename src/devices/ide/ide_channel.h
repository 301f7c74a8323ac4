#pragma once
// One IDE channel of the PIIX3's IDE function: the ATA task file shared by
// its master and slave, the ATA command set of a hard disk (IDENTIFY, PIO
// and multiple-sector reads and writes with LBA28/LBA48 or CHS, DMA
// through the channel's bus-master registers and PRD table, FLUSH CACHE,
// SET FEATURES and the housekeeping commands), and the interrupt line.
// Disk I/O runs on the block layer through `io` (the device's event loop);
// a completion updates the state there. Guest accesses come from vCPU
// threads; one lock guards the state.
#include "base/irq_line.h"
#include "block/block_backend.h"
#include "block/hd_geometry.h"
#include "kvm/guest_memory.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {

namespace ata {
constexpr uint8_t ST_ERR = 0x01, ST_DRQ = 0x08, ST_DSC = 0x10, ST_DRDY = 0x40, ST_BSY = 0x80;
constexpr uint8_t ER_ABRT = 0x04, ER_IDNF = 0x10, ER_UNC = 0x40;
constexpr uint8_t CTL_NIEN = 0x02, CTL_SRST = 0x04, CTL_HOB = 0x80;
constexpr uint8_t BM_CMD_START = 0x01, BM_CMD_TO_MEMORY = 0x08;
constexpr uint8_t BM_ST_ACTIVE = 0x01, BM_ST_ERROR = 0x02, BM_ST_INTERRUPT = 0x04, BM_ST_CAPABLE = 0x60;
constexpr uint32_t SECTOR = 512;
constexpr uint8_t MAX_MULT_SECTORS = 16;
constexpr unsigned MAX_PRD_ENTRIES = 8192;  // a PRD table lies in one 64 KiB region
} // namespace ata

// A drive as its ide-hd or ide-cd device gives it: its image and what
// IDENTIFY tells about it. A CD-ROM (ATAPI) drive may be empty (no medium).
struct IdeDrive {
    std::shared_ptr<BlockBackend> disk;  // a hard disk's image, a CD's medium; null: none
    std::string serial;                  // up to 20 characters
    std::string model;                   // up to 40; empty: QEMU's "QEMU HARDDISK" / "QEMU DVD-ROM"
    std::string version = "2.5+";        // firmware revision, up to 8
    uint64_t wwn = 0;                    // world wide name; 0: none
    bool cdrom = false;
    HdGeometry geometry;                 // a hard disk's CHS geometry and BIOS translation
    // A CD-ROM's tray moved by the guest's START STOP UNIT; called on the
    // vCPU's thread with the channel locked (post the work elsewhere).
    std::function<void(bool tray_open)> tray_moved;
};

// The guest-visible state of a channel, in one plain struct.
struct IdeChannelState {
    // The task file: current values, and the previous ones for LBA48 (HOB).
    uint8_t feature = 0, nsector = 0, sector = 0, lcyl = 0, hcyl = 0;
    uint8_t hob_feature = 0, hob_nsector = 0, hob_sector = 0, hob_lcyl = 0, hob_hcyl = 0;
    uint8_t select = 0xa0, control = 0;
    std::array<uint8_t, 2> status{}, error{};
    std::array<uint8_t, 2> mult_sectors{ata::MAX_MULT_SECTORS, ata::MAX_MULT_SECTORS};
    std::array<uint8_t, 2> transfer_mode{};  // SET FEATURES 03h: 0x08|n PIO, 0x20|n MWDMA, 0x40|n UDMA
    std::array<bool, 2> write_cache{true, true};
    bool irq_pending = false;
    // After a reset each drive shows its own signature in the cylinder
    // registers (0x14/0xeb for ATAPI) until the host writes the task file.
    bool signature = false;
    // ATAPI: the command packet, the sense data of the last error, and the
    // byte count limit of PIO transfers.
    std::array<uint8_t, 12> packet{};
    uint8_t packet_bytes = 0;
    bool packet_dma = false;
    std::array<uint8_t, 2> sense_key{}, asc{};
    uint16_t byte_limit = 0;
    // A CD-ROM's tray and medium: open, locked by PREVENT ALLOW MEDIUM
    // REMOVAL, the media events GET EVENT STATUS NOTIFICATION has still to
    // report, and the medium-change sequence the next commands report
    // (1: NOT READY, then 2: UNIT ATTENTION, as QEMU).
    std::array<bool, 2> tray_open{}, tray_locked{}, new_media_event{}, eject_request_event{};
    std::array<uint8_t, 2> medium_changed{};
    // The running command: its drive, sectors left, next LBA, PIO progress.
    enum class Transfer : uint8_t { None, PioIn, PioOut, DmaWaiting, Busy, Packet };
    Transfer transfer = Transfer::None;
    uint8_t unit = 0;
    uint8_t command = 0;
    uint64_t lba = 0;
    uint32_t sectors = 0;           // of the whole command
    bool atapi = false;             // the running command is a PACKET command
    uint32_t pio_pos = 0;           // next byte of the buffer
    uint32_t pio_block_end = 0;     // end of the DRQ block the guest is at
    uint32_t pio_end = 0;           // bytes in the buffer
    // Bus master IDE (BMIDE) registers of this channel.
    uint8_t bm_command = 0, bm_status = 0;
    uint32_t prd_table = 0;
    uint64_t generation = 0;        // bumped by resets: stale completions are dropped
};

class IdeChannel {
public:
    using Executor = std::function<void(std::function<void()>)>;
    IdeChannel(const GuestMemory& memory, IrqLine& irq, Executor io, std::array<IdeDrive, 2> drives);

    // Command block (0x1f0-0x1f7 / 0x170-0x177): register 0-7.
    uint32_t read_command(unsigned reg, unsigned size);
    void write_command(unsigned reg, uint32_t value, unsigned size);
    // Control block (0x3f6 / 0x376).
    uint8_t read_alt_status();
    void write_control(uint8_t value);
    // The channel's 8 bus-master registers (BAR 4).
    uint32_t read_bm(unsigned offset, unsigned size);
    void write_bm(unsigned offset, uint32_t value, unsigned size);

    void reset();
    // Plugs a drive in at `unit` (0 master, 1 slave) before the guest runs.
    void attach(unsigned unit, IdeDrive drive);
    IdeChannelState state() const;
    bool has_drive(unsigned unit) const { return unit < 2 && present(unit); }
    // A hard disk's geometry (CMOS), none for a CD-ROM drive or no drive.
    std::optional<HdGeometry> disk_geometry(unsigned unit) const;

    // A CD-ROM drive's tray and medium, for the monitors (atapi_media.cpp).
    bool tray_open(unsigned unit) const;
    bool medium_locked(unsigned unit) const;
    void eject_request(unsigned unit, bool force);
    void change_media(unsigned unit, bool load);
    void set_medium(unsigned unit, std::shared_ptr<BlockBackend> medium);

private:
    struct Range {
        uint64_t lba;
        uint32_t count;
    };
    uint8_t selected() const { return (s_.select >> 4) & 1; }
    bool present(unsigned unit) const { return drives_[unit].disk != nullptr || drives_[unit].cdrom; }
    bool is_cdrom(unsigned unit) const { return drives_[unit].cdrom; }
    uint64_t total_sectors(unsigned unit) const;
    uint8_t read_register_locked(unsigned reg);
    void write_register_locked(unsigned reg, uint8_t value);
    uint16_t read_data_locked();
    void write_data_locked(uint16_t value);
    void raise_irq_locked();
    void lower_irq_locked();
    void set_signature_locked();
    void execute_locked(uint8_t command);
    void finish_locked(uint8_t status, bool irq = true);
    void abort_locked(uint8_t error = ata::ER_ABRT);
    bool range_locked(bool lba48, Range& range);
    void start_pio_in_locked(const Range& range, uint8_t command);
    void start_pio_out_locked(const Range& range);
    void start_dma_locked(const Range& range, bool to_memory);
    void start_flush_locked();
    void identify_locked();
    void identify_reply_locked(std::vector<uint8_t> data);
    void set_features_locked();
    void next_pio_block_locked();
    void pio_out_block_done_locked();
    void run_dma_locked();
    bool build_prd_iov_locked(uint64_t bytes, std::vector<iovec>& iov);
    void submit_locked(BlockRequest request);
    void complete_io(uint64_t generation, int64_t result, bool dma);
    unsigned pio_block_sectors() const;
    // ATAPI (atapi.cpp)
    void execute_atapi_locked(uint8_t command);
    void start_packet_locked();
    void run_packet_locked();
    void atapi_data_in_locked(std::vector<uint8_t> data, uint32_t allocation);
    void atapi_read_locked(uint64_t lba, uint32_t blocks);
    void atapi_check_condition_locked(uint8_t key, uint8_t asc);
    void atapi_done_locked();
    void atapi_next_chunk_locked();
    void identify_packet_locked();
    bool dma_from_buffer_locked(const std::vector<uint8_t>& data);
    bool media_present_locked(unsigned unit) const;
    bool atapi_gate_locked(uint8_t opcode);
    void start_stop_unit_locked();
    void event_status_locked();

    const GuestMemory& memory_;
    IrqLine& irq_;
    Executor io_;
    std::array<IdeDrive, 2> drives_;
    mutable std::mutex lock_;
    IdeChannelState s_;
    std::shared_ptr<std::vector<uint8_t>> buffer_;  // PIO data of the running command
};

// IDENTIFY DEVICE's 512 bytes for a disk of `sectors` sectors, as QEMU's
// "QEMU HARDDISK" answers it.
std::vector<uint8_t> ata_identify(uint64_t sectors, const IdeDrive& drive, uint8_t mult_sectors,
                                  uint8_t transfer_mode, bool write_cache);
// IDENTIFY PACKET DEVICE for a CD-ROM drive ("QEMU DVD-ROM").
std::vector<uint8_t> atapi_identify(const IdeDrive& drive, uint8_t transfer_mode);

} // namespace kestrel
