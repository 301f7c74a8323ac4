#include "devices/piix/i440fx.h"

#include "kvm/pam_memory.h"

namespace kestrel {

I440fxHost::I440fxHost(PamMemory* pam) : pam_(pam) {
    set_ids({pci::VENDOR_INTEL, DEVICE_ID, REVISION, CLASS_HOST_BRIDGE});
    set_header_type(pci::HEADER_TYPE_NORMAL);
    // Everything past the header is stored as written (the default mask),
    // which covers PAM and SMRAM.
    set_cfg8(SMRAM, SMRAM_RESET);
}

void I440fxHost::reset() {
    PciDevice::reset();
    apply_pam();
}

void I440fxHost::config_written(uint16_t offset, unsigned len) {
    if (offset < PAM0 + PAM_COUNT && offset + len > PAM0) apply_pam();
}

// PAM0's high nibble is 0xf0000-0xfffff; PAM1..PAM6 hold two 16 KiB
// segments each from 0xc0000, low nibble first.
std::array<uint8_t, 13> I440fxHost::pam_modes() const {
    static_assert(PamMemory::SEGMENTS == 13);
    std::array<uint8_t, 13> modes{};
    std::lock_guard guard(config_mutex());
    modes[0] = uint8_t(cfg8(PAM0) >> 4) & 3;
    for (unsigned i = 1; i < PAM_COUNT; ++i) {
        uint8_t pam = cfg8(uint16_t(PAM0 + i));
        modes[2 * i - 1] = pam & 3;
        modes[2 * i] = uint8_t(pam >> 4) & 3;
    }
    return modes;
}

void I440fxHost::apply_pam() {
    if (pam_) pam_->set_modes(pam_modes());
}

} // namespace kestrel
