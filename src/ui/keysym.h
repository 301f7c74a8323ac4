#pragma once
// VNC sends X11 keysyms; the guest needs keys. This is QEMU's en-us
// keymap: each keysym to the key that types it (the client sends the
// modifiers it took, so 'A' is the A key and the client's Shift).
#include <cstdint>

namespace kestrel {

// The QKeyCode for `keysym` on an en-us keyboard; 0 if it has none.
unsigned keysym_to_qcode(uint32_t keysym);

} // namespace kestrel
