#pragma once
// The i440FX (82441FX PMC) host bridge function at 00:00.0, with the IDs
// QEMU's pc machine shows. The PAM registers (0x59-0x5f) route
// 0xc0000-0xfffff when a BIOS runs (PamMemory, given by the board for
// firmware boot); with a direct kernel boot they only keep what the guest
// writes. SMRAM (0x72) is kept as written: kestrel has no SMM.
#include "devices/pci/pci_device.h"

#include <array>

namespace kestrel {

class PamMemory;

class I440fxHost : public PciDevice {
public:
    static constexpr uint16_t DEVICE_ID = 0x1237;
    static constexpr uint8_t REVISION = 0x02;
    static constexpr uint32_t CLASS_HOST_BRIDGE = 0x060000;
    static constexpr uint16_t PAM0 = 0x59;
    static constexpr unsigned PAM_COUNT = 7;
    static constexpr uint16_t SMRAM = 0x72;
    static constexpr uint8_t SMRAM_RESET = 0x02;  // C_BASE_SEG = 0b010 (0xA0000)

    explicit I440fxHost(PamMemory* pam = nullptr);
    void reset() override;
    // Each PAM segment's two bits as the registers hold them (PamMemory's order).
    std::array<uint8_t, 13> pam_modes() const;

protected:
    void config_written(uint16_t offset, unsigned len) override;

private:
    void apply_pam();
    PamMemory* pam_;
};

} // namespace kestrel
