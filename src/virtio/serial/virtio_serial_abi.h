#pragma once
// virtio-console's guest interface (VIRTIO 1.2 §5.3): feature bits, the
// control messages and the queue layout.
#include <cstddef>
#include <cstdint>

namespace kestrel::virtio_serial {

inline constexpr uint16_t kDeviceType = 3;
inline constexpr unsigned kFeatureMultiport = 1;   // VIRTIO_CONSOLE_F_MULTIPORT
inline constexpr unsigned kFeatureEmergWrite = 2;  // VIRTIO_CONSOLE_F_EMERG_WRITE

// QEMU's queue sizes: 128 for a port's queues, 32 for the control queues.
inline constexpr uint16_t kPortQueueSize = 128;
inline constexpr uint16_t kControlQueueSize = 32;

inline constexpr uint32_t kDefaultMaxPorts = 31;
inline constexpr uint32_t kMaxPortsLimit = 511;      // QEMU's VIRTIO_QUEUE_MAX / 2 - 1
inline constexpr uint32_t kBadId = 0xffffffff;       // nr= not given

// Config space: cols, rows (u16), max_nr_ports, emerg_wr (u32).
inline constexpr uint32_t kConfigMaxPortsOffset = 4;
inline constexpr uint32_t kConfigEmergWriteOffset = 8;
inline constexpr uint32_t kConfigSizeWithEmergWrite = 12;

// struct virtio_console_control: id (u32), event (u16), value (u16).
inline constexpr size_t kControlSize = 8;
enum ControlEvent : uint16_t {
    kDeviceReady = 0,
    kPortAdd = 1,
    kPortRemove = 2,
    kPortReady = 3,
    kConsolePort = 4,
    kResize = 5,
    kPortOpen = 6,
    kPortName = 7,
};

// Queues: port 0's receive and transmit, the control receive and
// transmit, then each further port's receive and transmit.
inline constexpr unsigned kControlRx = 2;
inline constexpr unsigned kControlTx = 3;
inline constexpr unsigned queue_count(uint32_t max_ports) { return 2 * max_ports + 2; }
inline constexpr unsigned rx_queue_of(uint32_t nr) { return nr == 0 ? 0 : 2 * nr + 2; }
inline constexpr unsigned tx_queue_of(uint32_t nr) { return rx_queue_of(nr) + 1; }
// The port a data queue belongs to (not for the control queues).
inline constexpr uint32_t port_of_queue(unsigned index) { return index < 2 ? 0 : index / 2 - 1; }
inline constexpr bool is_control_queue(unsigned index) { return index == kControlRx || index == kControlTx; }
inline constexpr bool is_rx_queue(unsigned index) { return index % 2 == 0; }

} // namespace kestrel::virtio_serial
