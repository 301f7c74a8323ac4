#include "devices/ide/ide_channel.h"

#include <algorithm>
#include <cstring>

namespace kestrel {
namespace {

using namespace ata;
using Transfer = IdeChannelState::Transfer;

constexpr uint8_t READY = ST_DRDY | ST_DSC;

enum Command : uint8_t {
    NOP = 0x00, RECALIBRATE = 0x10, READ_SECTORS = 0x20, READ_SECTORS_NR = 0x21, READ_SECTORS_EXT = 0x24,
    READ_DMA_EXT = 0x25, READ_MULTIPLE_EXT = 0x29, WRITE_SECTORS = 0x30, WRITE_SECTORS_NR = 0x31,
    WRITE_SECTORS_EXT = 0x34, WRITE_DMA_EXT = 0x35, WRITE_MULTIPLE_EXT = 0x39, VERIFY = 0x40, VERIFY_NR = 0x41,
    VERIFY_EXT = 0x42, SEEK = 0x70, DIAGNOSTIC = 0x90, INIT_PARAMETERS = 0x91, IDENTIFY_PACKET = 0xa1,
    READ_MULTIPLE = 0xc4, WRITE_MULTIPLE = 0xc5, SET_MULTIPLE = 0xc6, READ_DMA = 0xc8, READ_DMA_NR = 0xc9,
    WRITE_DMA = 0xca, WRITE_DMA_NR = 0xcb, STANDBY_IMMEDIATE = 0xe0, IDLE_IMMEDIATE = 0xe1, STANDBY = 0xe2,
    IDLE = 0xe3, CHECK_POWER = 0xe5, FLUSH_CACHE = 0xe7, IDENTIFY = 0xec, FLUSH_CACHE_EXT = 0xea,
    SET_FEATURES = 0xef,
};

bool is_lba48(uint8_t c) {
    return c == READ_SECTORS_EXT || c == READ_DMA_EXT || c == READ_MULTIPLE_EXT || c == WRITE_SECTORS_EXT ||
           c == WRITE_DMA_EXT || c == WRITE_MULTIPLE_EXT || c == VERIFY_EXT;
}

bool is_multiple(uint8_t c) {
    return c == READ_MULTIPLE || c == WRITE_MULTIPLE || c == READ_MULTIPLE_EXT || c == WRITE_MULTIPLE_EXT;
}

} // namespace

IdeChannel::IdeChannel(const GuestMemory& memory, IrqLine& irq, Executor io, std::array<IdeDrive, 2> drives)
    : memory_(memory), irq_(irq), io_(std::move(io)), drives_(std::move(drives)) {
    reset();
}

uint64_t IdeChannel::total_sectors(unsigned unit) const {
    return present(unit) ? drives_[unit].disk->size() / SECTOR : 0;
}

void IdeChannel::reset() {
    std::lock_guard guard(lock_);
    uint64_t generation = s_.generation + 1;
    s_ = IdeChannelState{};  // as QEMU's ide_reset: the tray closed and unlocked too
    s_.generation = generation;
    buffer_.reset();
    set_signature_locked();
    lower_irq_locked();
}

void IdeChannel::attach(unsigned unit, IdeDrive drive) {
    std::lock_guard guard(lock_);
    drives_.at(unit) = std::move(drive);
    set_signature_locked();
}

std::optional<HdGeometry> IdeChannel::disk_geometry(unsigned unit) const {
    std::lock_guard guard(lock_);
    if (unit >= 2 || !drives_[unit].disk || drives_[unit].cdrom) return std::nullopt;
    return drives_[unit].geometry;
}

IdeChannelState IdeChannel::state() const {
    std::lock_guard guard(lock_);
    return s_;
}

// After a reset or EXECUTE DEVICE DIAGNOSTIC: an ATA disk's signature.
void IdeChannel::set_signature_locked() {
    s_.nsector = s_.sector = 1;
    s_.lcyl = s_.hcyl = 0;
    s_.select = 0xa0;
    s_.signature = true;
    for (unsigned unit = 0; unit < 2; ++unit) {
        s_.status[unit] = present(unit) ? READY : 0;
        s_.error[unit] = present(unit) ? 0x01 : 0;  // diagnostic code: no error
    }
}

void IdeChannel::raise_irq_locked() {
    s_.irq_pending = true;
    if (s_.bm_status & BM_ST_ACTIVE) return;  // DMA completions raise it with the bus master's bit
    if (!(s_.control & CTL_NIEN)) irq_.set_level(true);
}

void IdeChannel::lower_irq_locked() {
    s_.irq_pending = false;
    irq_.set_level(false);
}

// --- Registers ---

uint32_t IdeChannel::read_command(unsigned reg, unsigned size) {
    std::lock_guard guard(lock_);
    if (reg == 0) {
        uint32_t value = read_data_locked();
        if (size == 4) value |= uint32_t(read_data_locked()) << 16;
        return value;
    }
    return read_register_locked(reg);
}

// As QEMU: a channel without drives and an absent slave read as 0.
uint8_t IdeChannel::read_register_locked(unsigned reg) {
    const unsigned unit = selected();
    const bool absent = (!present(0) && !present(1)) || (unit == 1 && !present(1));
    const bool hob = s_.control & CTL_HOB;
    switch (reg) {
    case 1: return absent ? 0 : hob ? s_.hob_feature : s_.error[unit];
    case 2: return absent ? 0 : hob ? s_.hob_nsector : s_.nsector;
    case 3: return absent ? 0 : hob ? s_.hob_sector : s_.sector;
    case 4:
        if (!absent && !hob && s_.signature) return is_cdrom(unit) ? 0x14 : 0;
        return absent ? 0 : hob ? s_.hob_lcyl : s_.lcyl;
    case 5:
        if (!absent && !hob && s_.signature) return is_cdrom(unit) ? 0xeb : 0;
        return absent ? 0 : hob ? s_.hob_hcyl : s_.hcyl;
    case 6: return (!present(0) && !present(1)) ? 0 : s_.select;
    case 7:
        if (absent) return 0;
        lower_irq_locked();
        return s_.status[unit];
    }
    return 0xff;
}

void IdeChannel::write_command(unsigned reg, uint32_t value, unsigned size) {
    std::lock_guard guard(lock_);
    if (reg == 0) {
        write_data_locked(uint16_t(value));
        if (size == 4) write_data_locked(uint16_t(value >> 16));
        return;
    }
    write_register_locked(reg, uint8_t(value));
}

void IdeChannel::write_register_locked(unsigned reg, uint8_t value) {
    // While a command runs, only the device control register counts.
    if (s_.status[selected()] & ST_BSY && present(selected())) return;
    auto shift = [&](uint8_t& current, uint8_t& previous) {
        previous = current;
        current = value;
    };
    s_.control &= uint8_t(~CTL_HOB);  // a task file write clears HOB
    if (reg >= 1 && reg <= 5) s_.signature = false;
    switch (reg) {
    case 1: shift(s_.feature, s_.hob_feature); break;
    case 2: shift(s_.nsector, s_.hob_nsector); break;
    case 3: shift(s_.sector, s_.hob_sector); break;
    case 4: shift(s_.lcyl, s_.hob_lcyl); break;
    case 5: shift(s_.hcyl, s_.hob_hcyl); break;
    case 6: s_.select = value | 0xa0; break;
    case 7:
        // A command to an absent slave is ignored; so is one to a busy drive.
        if (!present(selected())) return;
        lower_irq_locked();
        execute_locked(value);
        break;
    }
}

uint8_t IdeChannel::read_alt_status() {
    std::lock_guard guard(lock_);
    const unsigned unit = selected();
    if ((!present(0) && !present(1)) || (unit == 1 && !present(1))) return 0;
    return s_.status[unit];
}

// SRST: set holds the drives busy, clearing it resets them (their signature).
void IdeChannel::write_control(uint8_t value) {
    std::lock_guard guard(lock_);
    const bool was_reset = s_.control & CTL_SRST;
    s_.control = value;
    if (value & CTL_SRST) {
        if (!was_reset) {
            ++s_.generation;  // in-flight I/O ends unseen
            s_.transfer = Transfer::None;
            buffer_.reset();
            for (unsigned unit = 0; unit < 2; ++unit)
                if (present(unit)) s_.status[unit] = ST_BSY | ST_DSC;
        }
        return;
    }
    if (was_reset) {
        s_.mult_sectors = {MAX_MULT_SECTORS, MAX_MULT_SECTORS};
        set_signature_locked();
    }
    if (value & CTL_NIEN)
        irq_.set_level(false);
    else if (s_.irq_pending)
        irq_.set_level(true);
}

// --- Commands ---

void IdeChannel::finish_locked(uint8_t status, bool irq) {
    s_.status[s_.unit] = status;
    s_.transfer = Transfer::None;
    if (irq) raise_irq_locked();
}

void IdeChannel::abort_locked(uint8_t error) {
    s_.error[s_.unit] = error;
    buffer_.reset();
    finish_locked(READY | ST_ERR);
}

void IdeChannel::execute_locked(uint8_t command) {
    s_.unit = selected();
    s_.command = command;
    s_.error[s_.unit] = 0;
    s_.transfer = Transfer::None;
    s_.atapi = false;
    if (is_cdrom(s_.unit)) return execute_atapi_locked(command);
    Range range{};
    switch (command) {
    case IDENTIFY: return identify_locked();
    case READ_SECTORS: case READ_SECTORS_NR: case READ_SECTORS_EXT:
    case READ_MULTIPLE: case READ_MULTIPLE_EXT:
        if (is_multiple(command) && s_.mult_sectors[s_.unit] == 0) return abort_locked();
        if (!range_locked(is_lba48(command), range)) return;
        return start_pio_in_locked(range, command);
    case WRITE_SECTORS: case WRITE_SECTORS_NR: case WRITE_SECTORS_EXT:
    case WRITE_MULTIPLE: case WRITE_MULTIPLE_EXT:
        if (is_multiple(command) && s_.mult_sectors[s_.unit] == 0) return abort_locked();
        if (drives_[s_.unit].disk->read_only()) return abort_locked();
        if (!range_locked(is_lba48(command), range)) return;
        return start_pio_out_locked(range);
    case READ_DMA: case READ_DMA_NR: case READ_DMA_EXT:
        if (!range_locked(is_lba48(command), range)) return;
        return start_dma_locked(range, true);
    case WRITE_DMA: case WRITE_DMA_NR: case WRITE_DMA_EXT:
        if (drives_[s_.unit].disk->read_only()) return abort_locked();
        if (!range_locked(is_lba48(command), range)) return;
        return start_dma_locked(range, false);
    case VERIFY: case VERIFY_NR: case VERIFY_EXT:
        if (!range_locked(command == VERIFY_EXT, range)) return;
        return finish_locked(READY);
    case FLUSH_CACHE: case FLUSH_CACHE_EXT: return start_flush_locked();
    case SET_FEATURES: return set_features_locked();
    case SET_MULTIPLE: {
        const uint8_t n = s_.nsector;
        if (n > MAX_MULT_SECTORS || (n & (n - 1))) return abort_locked();
        s_.mult_sectors[s_.unit] = n;
        return finish_locked(READY);
    }
    case CHECK_POWER:
        s_.nsector = 0xff;  // active or idle
        return finish_locked(READY);
    case DIAGNOSTIC:
        set_signature_locked();
        return finish_locked(READY);
    case INIT_PARAMETERS: case SEEK: case STANDBY_IMMEDIATE: case IDLE_IMMEDIATE: case STANDBY: case IDLE:
        return finish_locked(READY);
    default:
        if ((command & 0xf0) == RECALIBRATE) return finish_locked(READY);
        return abort_locked();  // NOP, IDENTIFY PACKET (not ATAPI) and the rest
    }
}

// The command's sectors from the task file (LBA28, LBA48 or CHS); aborts
// with IDNF when they are not all on the disk.
bool IdeChannel::range_locked(bool lba48, Range& range) {
    const uint64_t total = total_sectors(s_.unit);
    if (lba48) {
        range.count = uint32_t(s_.hob_nsector) << 8 | s_.nsector;
        if (range.count == 0) range.count = 65536;
        range.lba = uint64_t(s_.hob_hcyl) << 40 | uint64_t(s_.hob_lcyl) << 32 | uint64_t(s_.hob_sector) << 24 |
                    uint64_t(s_.hcyl) << 16 | uint64_t(s_.lcyl) << 8 | s_.sector;
    } else {
        range.count = s_.nsector ? s_.nsector : 256;
        if (s_.select & 0x40) {
            range.lba = uint64_t(s_.select & 0x0f) << 24 | uint64_t(s_.hcyl) << 16 | uint64_t(s_.lcyl) << 8 |
                        s_.sector;
        } else {
            const HdGeometry& g = drives_[s_.unit].geometry;
            const uint32_t cylinder = uint32_t(s_.hcyl) << 8 | s_.lcyl, head = s_.select & 0x0f;
            if (s_.sector == 0 || s_.sector > g.sectors || head >= g.heads) {
                abort_locked(ER_IDNF | ER_ABRT);
                return false;
            }
            range.lba = (uint64_t(cylinder) * g.heads + head) * g.sectors + s_.sector - 1;
        }
    }
    if (range.lba >= total || range.count > total - range.lba) {
        abort_locked(ER_IDNF | ER_ABRT);
        return false;
    }
    s_.lba = range.lba;
    s_.sectors = range.count;
    return true;
}

void IdeChannel::identify_locked() {
    const unsigned u = s_.unit;
    identify_reply_locked(ata_identify(total_sectors(u), drives_[u], s_.mult_sectors[u],
                                       s_.transfer_mode[u], s_.write_cache[u]));
}

// IDENTIFY (PACKET) DEVICE's 512 bytes: one PIO block.
void IdeChannel::identify_reply_locked(std::vector<uint8_t> data) {
    buffer_ = std::make_shared<std::vector<uint8_t>>(std::move(data));
    s_.pio_pos = 0;
    s_.pio_end = s_.pio_block_end = SECTOR;
    s_.transfer = Transfer::PioIn;
    s_.status[s_.unit] = READY | ST_DRQ;
    raise_irq_locked();
}

// Transfer modes as a host may set them (PIO 0-4, multiword DMA 0-2,
// UDMA 0-5), write cache on/off, and the features QEMU accepts silently.
void IdeChannel::set_features_locked() {
    const unsigned u = s_.unit;
    switch (s_.feature) {
    case 0x03: {
        const uint8_t mode = s_.nsector, type = mode & 0xf8, n = mode & 7;
        const bool ok = (type == 0x00 && n <= 1) || (type == 0x08 && n <= 4) || (type == 0x20 && n <= 2) ||
                        (type == 0x40 && n <= 5);
        if (!ok) return abort_locked();
        s_.transfer_mode[u] = mode;
        return finish_locked(READY);
    }
    case 0x02: s_.write_cache[u] = true; return finish_locked(READY);
    case 0x82: s_.write_cache[u] = false; return finish_locked(READY);
    case 0xaa: case 0x55: case 0xcc: case 0x66: case 0x42: case 0xc2: case 0x85: case 0x05:
        return finish_locked(READY);
    }
    abort_locked();
}

unsigned IdeChannel::pio_block_sectors() const {
    return is_multiple(s_.command) ? s_.mult_sectors[s_.unit] : 1;
}

void IdeChannel::submit_locked(BlockRequest request) {
    auto disk = drives_[s_.unit].disk;
    io_([disk, request = std::move(request)]() mutable {
        disk->submit(std::move(request));
        disk->kick();
    });
}

// Reads the whole range, then hands it out one DRQ block at a time.
void IdeChannel::start_pio_in_locked(const Range& range, uint8_t) {
    buffer_ = std::make_shared<std::vector<uint8_t>>(size_t(range.count) * SECTOR);
    s_.transfer = Transfer::Busy;
    s_.status[s_.unit] = READY | ST_BSY;
    BlockRequest request;
    request.op = BlockOp::Read;
    request.offset = range.lba * SECTOR;
    request.length = buffer_->size();
    request.iov = {{buffer_->data(), buffer_->size()}};
    const uint64_t generation = s_.generation;
    request.done = [this, generation, keep = buffer_](int64_t result) { complete_io(generation, result, false); };
    submit_locked(std::move(request));
}

void IdeChannel::start_pio_out_locked(const Range& range) {
    buffer_ = std::make_shared<std::vector<uint8_t>>(size_t(range.count) * SECTOR);
    s_.transfer = Transfer::PioOut;
    s_.pio_pos = 0;
    s_.pio_end = uint32_t(buffer_->size());
    s_.pio_block_end = std::min(s_.pio_end, pio_block_sectors() * SECTOR);
    s_.status[s_.unit] = READY | ST_DRQ;  // the first block goes without an interrupt
}

void IdeChannel::start_flush_locked() {
    s_.transfer = Transfer::Busy;
    s_.status[s_.unit] = READY | ST_BSY;
    BlockRequest request;
    request.op = BlockOp::Flush;
    const uint64_t generation = s_.generation;
    request.done = [this, generation](int64_t result) { complete_io(generation, result, false); };
    submit_locked(std::move(request));
}

void IdeChannel::next_pio_block_locked() {
    s_.pio_block_end = std::min(s_.pio_end, s_.pio_pos + pio_block_sectors() * SECTOR);
    s_.status[s_.unit] = READY | ST_DRQ;
    raise_irq_locked();
}

uint16_t IdeChannel::read_data_locked() {
    if (s_.transfer != Transfer::PioIn || !buffer_) return 0xffff;
    uint16_t value = uint16_t((*buffer_)[s_.pio_pos] | (*buffer_)[s_.pio_pos + 1] << 8);
    s_.pio_pos += 2;
    if (s_.pio_pos < s_.pio_block_end) return value;
    if (s_.atapi) {
        if (s_.pio_pos >= s_.pio_end)
            atapi_done_locked();
        else
            atapi_next_chunk_locked();
        return value;
    }
    if (s_.pio_pos >= s_.pio_end) {
        buffer_.reset();
        finish_locked(READY, false);
    } else {
        next_pio_block_locked();
    }
    return value;
}

void IdeChannel::write_data_locked(uint16_t value) {
    if (s_.transfer == Transfer::Packet) {
        s_.packet[s_.packet_bytes++] = uint8_t(value);
        s_.packet[s_.packet_bytes++] = uint8_t(value >> 8);
        if (s_.packet_bytes == s_.packet.size()) run_packet_locked();
        return;
    }
    if (s_.transfer != Transfer::PioOut || !buffer_) return;
    (*buffer_)[s_.pio_pos] = uint8_t(value);
    (*buffer_)[s_.pio_pos + 1] = uint8_t(value >> 8);
    s_.pio_pos += 2;
    if (s_.pio_pos >= s_.pio_block_end) pio_out_block_done_locked();
}

// Every block but the last asks for the next one; the last writes all.
void IdeChannel::pio_out_block_done_locked() {
    if (s_.pio_pos < s_.pio_end) return next_pio_block_locked();
    s_.transfer = Transfer::Busy;
    s_.status[s_.unit] = READY | ST_BSY;
    BlockRequest request;
    request.op = BlockOp::Write;
    request.offset = s_.lba * SECTOR;
    request.length = buffer_->size();
    request.iov = {{buffer_->data(), buffer_->size()}};
    const uint64_t generation = s_.generation;
    request.done = [this, generation, keep = buffer_](int64_t result) { complete_io(generation, result, false); };
    submit_locked(std::move(request));
}

// --- Completions (the I/O thread) ---

void IdeChannel::complete_io(uint64_t generation, int64_t result, bool dma) {
    std::lock_guard guard(lock_);
    if (generation != s_.generation || s_.transfer != Transfer::Busy) return;
    if (dma) s_.bm_status = uint8_t((s_.bm_status & ~BM_ST_ACTIVE) | BM_ST_INTERRUPT);
    if (s_.atapi) {
        if (result < 0) return atapi_check_condition_locked(0x03, 0x11);  // medium error: unrecovered read
        if (dma) return atapi_done_locked();
        s_.transfer = Transfer::PioIn;
        s_.pio_pos = 0;
        s_.pio_end = uint32_t(buffer_->size());
        return atapi_next_chunk_locked();
    }
    if (result < 0) {
        if (dma) s_.bm_status |= BM_ST_ERROR;
        return abort_locked(ER_UNC | ER_ABRT);
    }
    const bool pio_in = !dma && s_.command != FLUSH_CACHE && s_.command != FLUSH_CACHE_EXT &&
                        (s_.command == READ_SECTORS || s_.command == READ_SECTORS_NR ||
                         s_.command == READ_SECTORS_EXT || s_.command == READ_MULTIPLE ||
                         s_.command == READ_MULTIPLE_EXT);
    if (!pio_in) {
        buffer_.reset();
        return finish_locked(READY);
    }
    s_.transfer = Transfer::PioIn;
    s_.pio_pos = 0;
    s_.pio_end = uint32_t(buffer_->size());
    next_pio_block_locked();
}

// --- Bus-master DMA ---

void IdeChannel::start_dma_locked(const Range&, bool) {
    s_.transfer = Transfer::DmaWaiting;
    s_.status[s_.unit] = READY | ST_DRQ;
    if (s_.bm_command & BM_CMD_START) run_dma_locked();
}

// The PRD table: 8-byte entries {u32 address, u16 bytes (0: 64 KiB),
// u16 flags (bit 15: last)}. Each region must lie in guest RAM; the
// table must cover the transfer within MAX_PRD_ENTRIES entries.
bool IdeChannel::build_prd_iov_locked(uint64_t bytes, std::vector<iovec>& iov) {
    uint64_t entry_at = s_.prd_table & ~3u;
    for (unsigned n = 0; n < MAX_PRD_ENTRIES && bytes > 0; ++n, entry_at += 8) {
        uint8_t entry[8];
        if (!memory_.read(entry_at, entry)) return false;
        uint32_t address, count_flags;
        std::memcpy(&address, entry, 4);
        std::memcpy(&count_flags, entry + 4, 4);
        uint64_t length = count_flags & 0xfffe;
        if (length == 0) length = 0x10000;
        length = std::min(length, bytes);
        uint8_t* host = memory_.host_ptr(address & ~1u, length);
        if (!host) return false;
        iov.push_back({host, size_t(length)});
        bytes -= length;
        if (count_flags & 0x80000000u) break;
    }
    return bytes == 0;
}

void IdeChannel::run_dma_locked() {
    if (s_.atapi && buffer_) {  // a reply the drive made itself (INQUIRY, READ TOC ...)
        if (!dma_from_buffer_locked(*buffer_)) return;
        s_.bm_status = uint8_t((s_.bm_status & ~BM_ST_ACTIVE) | BM_ST_INTERRUPT);
        return atapi_done_locked();
    }
    if (s_.atapi && !media_present_locked(s_.unit)) {  // the medium went before the bus master started
        s_.bm_status = uint8_t((s_.bm_status & ~BM_ST_ACTIVE) | BM_ST_INTERRUPT);
        return atapi_check_condition_locked(0x02, 0x3a);  // not ready: no medium
    }
    const bool to_memory =
        s_.atapi || s_.command == READ_DMA || s_.command == READ_DMA_NR || s_.command == READ_DMA_EXT;
    std::vector<iovec> iov;
    if (!build_prd_iov_locked(uint64_t(s_.sectors) * SECTOR, iov)) {
        s_.bm_status = uint8_t((s_.bm_status & ~BM_ST_ACTIVE) | BM_ST_ERROR | BM_ST_INTERRUPT);
        if (s_.atapi) return atapi_check_condition_locked(0x05, 0x21);  // illegal request
        return abort_locked();
    }
    s_.transfer = Transfer::Busy;
    s_.status[s_.unit] = READY | ST_BSY;
    s_.bm_status |= BM_ST_ACTIVE;
    BlockRequest request;
    request.op = to_memory ? BlockOp::Read : BlockOp::Write;
    request.offset = s_.lba * SECTOR;
    request.length = uint64_t(s_.sectors) * SECTOR;
    request.iov = std::move(iov);
    const uint64_t generation = s_.generation;
    request.done = [this, generation](int64_t result) { complete_io(generation, result, true); };
    submit_locked(std::move(request));
}

uint32_t IdeChannel::read_bm(unsigned offset, unsigned size) {
    std::lock_guard guard(lock_);
    uint8_t bytes[8] = {s_.bm_command, 0, s_.bm_status, 0};
    std::memcpy(bytes + 4, &s_.prd_table, 4);
    uint32_t value = 0;
    size = std::min(size, 4u);  // port I/O is at most 4 bytes; a wider access is cut there
    for (unsigned i = 0; i < size && offset + i < 8; ++i) value |= uint32_t(bytes[offset + i]) << (8 * i);
    return value;
}

void IdeChannel::write_bm(unsigned offset, uint32_t value, unsigned size) {
    std::lock_guard guard(lock_);
    size = std::min(size, 4u);  // as read_bm
    for (unsigned i = 0; i < size && offset + i < 8; ++i) {
        const uint8_t byte = uint8_t(value >> (8 * i));
        switch (offset + i) {
        case 0: {
            const bool starting = (byte & BM_CMD_START) && !(s_.bm_command & BM_CMD_START);
            s_.bm_command = byte & (BM_CMD_START | BM_CMD_TO_MEMORY);
            if (!(byte & BM_CMD_START)) s_.bm_status &= uint8_t(~BM_ST_ACTIVE);
            if (starting && s_.transfer == Transfer::DmaWaiting) run_dma_locked();
            break;
        }
        case 2:  // interrupt and error are write-1-to-clear; the capable bits are plain
            s_.bm_status = uint8_t((s_.bm_status & ~byte & (BM_ST_ERROR | BM_ST_INTERRUPT)) |
                                   (byte & BM_ST_CAPABLE) | (s_.bm_status & BM_ST_ACTIVE));
            break;
        case 4: case 5: case 6: case 7: {
            const unsigned shift = 8 * (offset + i - 4);
            s_.prd_table = (s_.prd_table & ~(0xffu << shift)) | uint32_t(byte) << shift;
            s_.prd_table &= ~3u;
            break;
        }
        }
    }
}

} // namespace kestrel
