#pragma once
// The i440FX (82441FX PMC) host bridge function at 00:00.0, with the IDs
// QEMU's pc machine shows. The PAM (0x59-0x5f) and SMRAM (0x72) registers
// keep what the guest writes; kestrel has no shadow RAM or SMM to steer.
#include "devices/pci/pci_device.h"

namespace kestrel {

class I440fxHost : public PciDevice {
public:
    static constexpr uint16_t DEVICE_ID = 0x1237;
    static constexpr uint8_t REVISION = 0x02;
    static constexpr uint32_t CLASS_HOST_BRIDGE = 0x060000;
    static constexpr uint16_t PAM0 = 0x59;
    static constexpr unsigned PAM_COUNT = 7;
    static constexpr uint16_t SMRAM = 0x72;
    static constexpr uint8_t SMRAM_RESET = 0x02;  // C_BASE_SEG = 0b010 (0xA0000)

    I440fxHost();
};

} // namespace kestrel
