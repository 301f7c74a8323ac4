#pragma once
// A port's state inside VirtioSerial (private to the device's files).
#include "virtio/serial/virtio_serial.h"

namespace kestrel {

struct VirtioSerial::Port {
    VirtioSerialPortState state;
    VirtioSerialPortHost host;
    std::vector<uint8_t> input;  // host input the guest has no buffers for yet
    // A transmit chain the host has not taken in full: buffer and offset
    // to go on from.
    bool holding = false;
    VirtqueueChain held;
    size_t held_buffer = 0;
    size_t held_offset = 0;
    uint32_t nr() const { return state.spec.nr; }
};

} // namespace kestrel
