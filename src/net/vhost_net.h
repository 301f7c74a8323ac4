#pragma once
// One queue pair served by the kernel's vhost-net (/dev/vhost-net): the
// device gets the guest's memory table, both rings' addresses and indices,
// the queue notification eventfds (KVM ioeventfds) and interrupt eventfds
// (KVM irqfds), and the tap queue as its backend; frames then move between
// the rings and the tap without passing through kestrel. Ring 0 is the
// receive queue, ring 1 the transmit queue, as in virtio-net.
#include "kvm/guest_memory.h"

#include <cstdint>

namespace kestrel {

// Where one ring is and where the device continues in it.
struct VhostRing {
    uint16_t size = 0;
    uint64_t desc = 0, avail = 0, used = 0;   // guest physical addresses
    uint16_t next_avail = 0;                  // the index the device reads next
    int kick_fd = -1;                         // signalled by the driver's notifications
    int call_fd = -1;                         // signalled to interrupt the driver
};

class VhostNet {
public:
    // `fd` is an opened /dev/vhost-net (not owned; the backend keeps it).
    explicit VhostNet(int fd) : fd_(fd) {}
    ~VhostNet();  // stop()
    VhostNet(const VhostNet&) = delete;
    VhostNet& operator=(const VhostNet&) = delete;

    // The feature bits the kernel's vhost-net offers.
    static uint64_t features(int fd);

    // Throws std::runtime_error naming the ioctl that failed. `features`
    // are the ones negotiated with the guest, restricted to vhost's.
    void start(const GuestMemory& memory, uint64_t features, const VhostRing& rx, const VhostRing& tx,
               int tap_fd);
    // Detaches the tap and returns where the device stopped in each ring
    // (the next index to read), for a datapath that goes on from there.
    struct Bases {
        uint16_t rx = 0, tx = 0;
    };
    Bases stop();
    bool running() const { return running_; }

private:
    void ioctl_or_throw(unsigned long request, const void* arg, const char* name);
    void set_ring(unsigned index, const GuestMemory& memory, const VhostRing& ring);

    int fd_;
    bool owned_ = false;    // VHOST_SET_OWNER done: the fd belongs to this process
    bool running_ = false;
};

} // namespace kestrel
