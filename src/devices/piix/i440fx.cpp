#include "devices/piix/i440fx.h"

namespace kestrel {

I440fxHost::I440fxHost() {
    set_ids({pci::VENDOR_INTEL, DEVICE_ID, REVISION, CLASS_HOST_BRIDGE});
    set_header_type(pci::HEADER_TYPE_NORMAL);
    // Everything past the header is stored as written (the default mask),
    // which covers PAM and SMRAM.
    set_cfg8(SMRAM, SMRAM_RESET);
}

} // namespace kestrel
