// The ATAPI side of an IDE channel: a CD-ROM drive answering the PACKET
// command with the SCSI/MMC commands firmware and Linux's sr driver send
// (TEST UNIT READY, REQUEST SENSE, INQUIRY, READ CAPACITY, READ(10)/(12),
// READ TOC, MODE SENSE(10), GET CONFIGURATION, GET EVENT STATUS
// NOTIFICATION, READ DISC INFORMATION, MECHANISM STATUS, START STOP UNIT,
// PREVENT ALLOW MEDIUM REMOVAL; atapi_replies.cpp builds some), 2048-byte
// sectors, by PIO within the host's byte count limit or by bus-master DMA.
#include "devices/ide/ide_channel.h"
#include "devices/ide/atapi_replies.h"

#include <algorithm>
#include <cstring>

namespace kestrel {
namespace {

using namespace ata;
using Transfer = IdeChannelState::Transfer;

constexpr uint8_t READY = ST_DRDY | ST_DSC;
constexpr uint32_t CD_SECTOR = 2048;
constexpr uint8_t IO = 0x02, COD = 0x01;  // interrupt reason (sector count register)
constexpr uint8_t NOT_READY = 0x02, MEDIUM_ERROR = 0x03, ILLEGAL_REQUEST = 0x05, UNIT_ATTENTION = 0x06;
constexpr uint8_t ASC_INVALID_OPCODE = 0x20, ASC_LBA_OUT_OF_RANGE = 0x21, ASC_INVALID_FIELD = 0x24;
constexpr uint8_t ASC_NO_MEDIUM = 0x3a;

uint32_t be(const uint8_t* p, unsigned bytes) {
    uint32_t v = 0;
    for (unsigned i = 0; i < bytes; ++i) v = v << 8 | p[i];
    return v;
}

void put_text(std::vector<uint8_t>& out, size_t at, std::string_view text, size_t width) {
    for (size_t i = 0; i < width; ++i) out[at + i] = uint8_t(i < text.size() ? text[i] : ' ');
}

} // namespace

void IdeChannel::execute_atapi_locked(uint8_t command) {
    switch (command) {
    case 0xa0: return start_packet_locked();
    case 0xa1: return identify_packet_locked();
    case 0xec:  // IDENTIFY DEVICE: an ATAPI drive aborts and shows its signature
        set_signature_locked();
        return abort_locked();
    case 0x90: set_signature_locked(); return finish_locked(READY);
    case 0x08:  // DEVICE RESET
        set_signature_locked();
        return finish_locked(READY, false);
    case 0xef:
        return set_features_locked();
    case 0xe5: s_.nsector = 0xff; return finish_locked(READY);
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0x91: return finish_locked(READY);
    }
    abort_locked();
}

void IdeChannel::identify_packet_locked() {
    identify_reply_locked(atapi_identify(drives_[s_.unit], s_.transfer_mode[s_.unit]));
}

// The host writes the 12-byte packet next, while DRQ is set.
void IdeChannel::start_packet_locked() {
    s_.atapi = true;
    s_.packet_dma = s_.feature & 1;
    s_.byte_limit = uint16_t(s_.hcyl << 8 | s_.lcyl);
    if (s_.byte_limit == 0 || s_.byte_limit == 0xffff) s_.byte_limit = 0xfffe;
    s_.byte_limit &= 0xfffe;
    if (s_.byte_limit == 0) s_.byte_limit = 2;  // a limit of 1
    s_.packet_bytes = 0;
    s_.transfer = Transfer::Packet;
    s_.nsector = COD;
    s_.status[s_.unit] = READY | ST_DRQ;
}

void IdeChannel::atapi_check_condition_locked(uint8_t key, uint8_t asc) {
    const unsigned u = s_.unit;
    s_.sense_key[u] = key;
    s_.asc[u] = asc;
    s_.error[u] = uint8_t(key << 4);
    s_.nsector = IO | COD;
    buffer_.reset();
    finish_locked(READY | ST_ERR);
}

void IdeChannel::atapi_done_locked() {
    s_.nsector = IO | COD;
    buffer_.reset();
    finish_locked(READY);
}

// The next PIO piece: at most the byte count limit, its size in the
// cylinder registers.
void IdeChannel::atapi_next_chunk_locked() {
    const uint32_t chunk = std::min<uint32_t>(s_.pio_end - s_.pio_pos, s_.byte_limit);
    s_.pio_block_end = s_.pio_pos + chunk;
    s_.lcyl = uint8_t(chunk);
    s_.hcyl = uint8_t(chunk >> 8);
    s_.nsector = IO;
    s_.status[s_.unit] = READY | ST_DRQ;
    raise_irq_locked();
}

// A reply the drive makes itself, cut to the host's allocation length.
void IdeChannel::atapi_data_in_locked(std::vector<uint8_t> data, uint32_t allocation) {
    if (data.size() > allocation) data.resize(allocation);
    if (data.empty()) return atapi_done_locked();
    if (data.size() & 1) data.push_back(0);  // the data port moves words
    buffer_ = std::make_shared<std::vector<uint8_t>>(std::move(data));
    if (s_.packet_dma) {
        s_.transfer = Transfer::DmaWaiting;
        s_.status[s_.unit] = READY | ST_DRQ;
        if (s_.bm_command & BM_CMD_START) run_dma_locked();
        return;
    }
    s_.transfer = Transfer::PioIn;
    s_.pio_pos = 0;
    s_.pio_end = uint32_t(buffer_->size());
    atapi_next_chunk_locked();
}

bool IdeChannel::dma_from_buffer_locked(const std::vector<uint8_t>& data) {
    std::vector<iovec> iov;
    if (!build_prd_iov_locked(data.size(), iov)) {
        s_.bm_status = uint8_t((s_.bm_status & ~BM_ST_ACTIVE) | BM_ST_ERROR | BM_ST_INTERRUPT);
        atapi_check_condition_locked(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        return false;
    }
    size_t at = 0;
    for (const iovec& v : iov) {
        std::memcpy(v.iov_base, data.data() + at, v.iov_len);
        at += v.iov_len;
    }
    return true;
}

void IdeChannel::atapi_read_locked(uint64_t lba, uint32_t blocks) {
    const std::shared_ptr<BlockBackend>& medium = drives_[s_.unit].disk;
    const uint64_t total = medium->size() / CD_SECTOR;
    if (lba > total || blocks > total - lba) return atapi_check_condition_locked(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
    if (blocks == 0) return atapi_done_locked();
    if (uint64_t(blocks) * CD_SECTOR > 32u << 20) return atapi_check_condition_locked(ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    s_.lba = lba * (CD_SECTOR / SECTOR);  // in 512-byte units, as the DMA engine counts
    s_.sectors = blocks * (CD_SECTOR / SECTOR);
    if (s_.packet_dma) {
        buffer_.reset();
        s_.transfer = Transfer::DmaWaiting;
        s_.status[s_.unit] = READY | ST_DRQ;
        if (s_.bm_command & BM_CMD_START) run_dma_locked();
        return;
    }
    buffer_ = std::make_shared<std::vector<uint8_t>>(size_t(blocks) * CD_SECTOR);
    s_.transfer = Transfer::Busy;
    s_.status[s_.unit] = READY | ST_BSY;
    BlockRequest request;
    request.op = BlockOp::Read;
    request.offset = lba * CD_SECTOR;
    request.length = buffer_->size();
    request.iov = {{buffer_->data(), buffer_->size()}};
    const uint64_t generation = s_.generation;
    request.done = [this, generation, keep = buffer_](int64_t result) { complete_io(generation, result, false); };
    submit_locked(std::move(request));
}

void IdeChannel::run_packet_locked() {
    const uint8_t* p = s_.packet.data();
    const unsigned u = s_.unit;
    s_.transfer = Transfer::None;
    if (!atapi_gate_locked(p[0])) return;
    const bool medium = media_present_locked(u);
    auto reply = [this](atapi::Reply r, uint32_t allocation) {
        if (r.asc) return atapi_check_condition_locked(ILLEGAL_REQUEST, r.asc);
        atapi_data_in_locked(std::move(r.data), allocation);
    };
    // Where a command needs the medium, atapi_gate_locked has answered NOT READY without one.
    switch (p[0]) {
    case 0x00:  // TEST UNIT READY
        return atapi_done_locked();
    case 0x03: {  // REQUEST SENSE: fixed format, valid; a unit attention is consumed, as in QEMU
        std::vector<uint8_t> sense(18, 0);
        sense[0] = 0xf0;
        sense[2] = s_.sense_key[u];
        sense[7] = 10;
        sense[12] = s_.asc[u];
        if (s_.sense_key[u] == UNIT_ATTENTION) s_.sense_key[u] = s_.asc[u] = 0;
        return atapi_data_in_locked(std::move(sense), p[4]);
    }
    case 0x12: {  // INQUIRY
        std::vector<uint8_t> inquiry(36, 0);
        inquiry[0] = 0x05;  // CD/DVD
        inquiry[1] = 0x80;  // removable
        inquiry[2] = 0x00;
        inquiry[3] = 0x21;  // ATAPI, response format 1
        inquiry[4] = 31;
        put_text(inquiry, 8, "QEMU", 8);
        put_text(inquiry, 16, "QEMU DVD-ROM", 16);
        put_text(inquiry, 32, drives_[u].version, 4);
        return atapi_data_in_locked(std::move(inquiry), be(p + 3, 2));
    }
    case 0x25:  // READ CAPACITY
        return reply(atapi::read_capacity(drives_[u].disk->size()), 8);
    case 0x28:  // READ(10)
        return atapi_read_locked(be(p + 2, 4), be(p + 7, 2));
    case 0xa8:  // READ(12)
        return atapi_read_locked(be(p + 2, 4), be(p + 6, 4));
    case 0x43:  // READ TOC (formats 0-2), LBA or MSF
        return reply(atapi::read_toc(p, drives_[u].disk->size()), be(p + 7, 2));
    case 0x5a:  // MODE SENSE(10)
        return reply(atapi::mode_sense(p, s_.tray_locked[u]), be(p + 7, 2));
    case 0x46:  // GET CONFIGURATION
        return reply(atapi::get_configuration(p, medium ? drives_[u].disk->size() : 0),
                     std::min<uint32_t>(be(p + 7, 2), 512));
    case 0x51:  // READ DISC INFORMATION
        return reply(atapi::read_disc_information(p), be(p + 7, 2));
    case 0xbd:  // MECHANISM STATUS
        return reply(atapi::mechanism_status(), be(p + 8, 2));
    case 0x4a:  // GET EVENT STATUS NOTIFICATION
        return event_status_locked();
    case 0x1b:  // START STOP UNIT
        return start_stop_unit_locked();
    case 0x1e:  // PREVENT ALLOW MEDIUM REMOVAL
        s_.tray_locked[u] = p[4] & 1;
        return atapi_done_locked();
    case 0x2b:  // SEEK
    case 0xbb:  // SET CD SPEED
        return atapi_done_locked();
    }
    atapi_check_condition_locked(ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
}

} // namespace kestrel
