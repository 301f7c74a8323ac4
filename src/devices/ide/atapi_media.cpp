// A CD-ROM drive's tray and medium: the monitors open and close the tray,
// ask the guest to open it and change the medium; the guest locks the
// tray (PREVENT ALLOW MEDIUM REMOVAL), moves it (START STOP UNIT) and
// learns of changes from GET EVENT STATUS NOTIFICATION and from the sense
// of its next commands (NOT READY, then UNIT ATTENTION / MEDIUM MAY HAVE
// CHANGED), as QEMU's ide-cd tells it.
#include "devices/ide/ide_channel.h"

namespace kestrel {
namespace {

using namespace ata;

constexpr uint8_t NOT_READY = 0x02, ILLEGAL_REQUEST = 0x05, UNIT_ATTENTION = 0x06;
constexpr uint8_t ASC_NO_MEDIUM = 0x3a, ASC_MEDIUM_MAY_HAVE_CHANGED = 0x28, ASC_REMOVAL_PREVENTED = 0x53;
// GET EVENT STATUS NOTIFICATION, media class: event codes and status.
constexpr uint8_t MEDIA_EJECT_REQUESTED = 1, MEDIA_NEW = 2;
constexpr uint8_t MEDIA_TRAY_OPEN = 1, MEDIA_PRESENT = 2;

// QEMU's command flags: these complete even with a unit attention
// pending; the ready ones need a medium in a closed tray.
bool allows_unit_attention(uint8_t opcode) {
    return opcode == 0x03 || opcode == 0x12 || opcode == 0x46 || opcode == 0x4a;
}

bool needs_ready(uint8_t opcode) {
    switch (opcode) {
    case 0x00: case 0x25: case 0x28: case 0x2b: case 0x43: case 0x51: case 0xa8: case 0xad: case 0xbe:
        return true;
    }
    return false;
}

} // namespace

bool IdeChannel::tray_open(unsigned unit) const {
    std::lock_guard guard(lock_);
    return s_.tray_open.at(unit);
}

bool IdeChannel::medium_locked(unsigned unit) const {
    std::lock_guard guard(lock_);
    return s_.tray_locked.at(unit);
}

void IdeChannel::eject_request(unsigned unit, bool force) {
    std::lock_guard guard(lock_);
    s_.eject_request_event.at(unit) = true;
    if (force) s_.tray_locked[unit] = false;
    raise_irq_locked();
}

void IdeChannel::change_media(unsigned unit, bool load) {
    std::lock_guard guard(lock_);
    s_.tray_open.at(unit) = !load;
    s_.medium_changed[unit] = 1;
    s_.new_media_event[unit] = true;
    s_.eject_request_event[unit] = false;
    raise_irq_locked();
}

void IdeChannel::set_medium(unsigned unit, std::shared_ptr<BlockBackend> medium) {
    std::lock_guard guard(lock_);
    drives_.at(unit).disk = std::move(medium);
}

bool IdeChannel::media_present_locked(unsigned unit) const {
    return !s_.tray_open[unit] && drives_[unit].disk && drives_[unit].disk->size() >= 2048;
}

// Before a packet command runs: a pending unit attention, the report of a
// changed medium, a missing medium. False when the command ended here.
bool IdeChannel::atapi_gate_locked(uint8_t opcode) {
    const unsigned u = s_.unit;
    const bool ua_ok = allows_unit_attention(opcode);
    if (s_.sense_key[u] == UNIT_ATTENTION && !ua_ok) {
        atapi_check_condition_locked(UNIT_ATTENTION, s_.asc[u]);
        return false;
    }
    if (!ua_ok && !s_.tray_open[u] && drives_[u].disk && s_.medium_changed[u]) {
        if (s_.medium_changed[u] == 1) {
            s_.medium_changed[u] = 2;
            atapi_check_condition_locked(NOT_READY, ASC_NO_MEDIUM);
        } else {
            s_.medium_changed[u] = 0;
            atapi_check_condition_locked(UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED);
        }
        return false;
    }
    if (needs_ready(opcode) && !media_present_locked(u)) {
        atapi_check_condition_locked(NOT_READY, ASC_NO_MEDIUM);
        return false;
    }
    return true;
}

// START STOP UNIT: with LoEj (and power condition 0) the tray opens
// (start clear) or closes, unless the guest locked it.
void IdeChannel::start_stop_unit_locked() {
    const unsigned u = s_.unit;
    const uint8_t flags = s_.packet[4];
    const bool start = flags & 1, load_eject = flags & 2;
    if ((flags & 0xf0) == 0 && load_eject) {
        if (!start && !s_.tray_open[u] && s_.tray_locked[u])
            return atapi_check_condition_locked(drives_[u].disk ? NOT_READY : ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED);
        if (s_.tray_open[u] != !start) {
            s_.tray_open[u] = !start;
            if (drives_[u].tray_moved) drives_[u].tray_moved(!start);
        }
    }
    atapi_done_locked();
}

// GET EVENT STATUS NOTIFICATION (polled): the media class, its pending
// event (new media first, then an eject request; none while the tray is
// open), else "no event available".
void IdeChannel::event_status_locked() {
    const unsigned u = s_.unit;
    const uint8_t* p = s_.packet.data();
    if (!(p[1] & 1)) return atapi_check_condition_locked(ILLEGAL_REQUEST, 0x24);
    std::vector<uint8_t> event(4, 0);
    event[3] = 0x10;  // supported: media
    if (p[4] & 0x10) {
        uint8_t status = 0, code = 0;
        if (s_.tray_open[u])
            status = MEDIA_TRAY_OPEN;
        else if (drives_[u].disk)
            status = MEDIA_PRESENT;
        if (status != MEDIA_TRAY_OPEN) {
            if (s_.new_media_event[u]) {
                code = MEDIA_NEW;
                s_.new_media_event[u] = false;
            } else if (s_.eject_request_event[u]) {
                code = MEDIA_EJECT_REQUESTED;
                s_.eject_request_event[u] = false;
            }
        }
        event[2] = 0x04;  // media class
        event.insert(event.end(), {code, status, 0, 0});
    } else {
        event[2] = 0x80;  // no event available
    }
    event[1] = uint8_t(event.size() - 4);
    const uint32_t allocation = uint32_t(p[7]) << 8 | p[8];
    atapi_data_in_locked(std::move(event), allocation);
}

} // namespace kestrel
