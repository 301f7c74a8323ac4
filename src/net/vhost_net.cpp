#include "net/vhost_net.h"

#include <cerrno>
#include <cstring>
#define VIRTIO_RING_NO_LEGACY  // its C-only vring_init() does not compile as C++
#include <linux/vhost.h>
#include <memory>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/ioctl.h>

namespace kestrel {

uint64_t VhostNet::features(int fd) {
    uint64_t features = 0;
    if (ioctl(fd, VHOST_GET_FEATURES, &features) != 0) return 0;
    return features;
}

VhostNet::~VhostNet() {
    if (running_) stop();
}

void VhostNet::ioctl_or_throw(unsigned long request, const void* arg, const char* name) {
    if (ioctl(fd_, request, arg) != 0)
        throw std::runtime_error(std::string("vhost-net: ") + name + ": " + std::strerror(errno));
}

void VhostNet::set_ring(unsigned index, const GuestMemory& memory, const VhostRing& ring) {
    vhost_vring_state num{index, ring.size};
    ioctl_or_throw(VHOST_SET_VRING_NUM, &num, "VHOST_SET_VRING_NUM");
    vhost_vring_state base{index, ring.next_avail};
    ioctl_or_throw(VHOST_SET_VRING_BASE, &base, "VHOST_SET_VRING_BASE");
    const uint8_t* desc = memory.host_ptr(ring.desc, 16ull * ring.size);
    const uint8_t* avail = memory.host_ptr(ring.avail, 6 + 2ull * ring.size);
    const uint8_t* used = memory.host_ptr(ring.used, 6 + 8ull * ring.size);
    if (!desc || !avail || !used) throw std::runtime_error("vhost-net: a ring lies outside guest RAM");
    vhost_vring_addr addr{};
    addr.index = index;
    addr.desc_user_addr = reinterpret_cast<uintptr_t>(desc);
    addr.avail_user_addr = reinterpret_cast<uintptr_t>(avail);
    addr.used_user_addr = reinterpret_cast<uintptr_t>(used);
    ioctl_or_throw(VHOST_SET_VRING_ADDR, &addr, "VHOST_SET_VRING_ADDR");
    vhost_vring_file kick{index, ring.kick_fd};
    ioctl_or_throw(VHOST_SET_VRING_KICK, &kick, "VHOST_SET_VRING_KICK");
    vhost_vring_file call{index, ring.call_fd};
    ioctl_or_throw(VHOST_SET_VRING_CALL, &call, "VHOST_SET_VRING_CALL");
}

void VhostNet::start(const GuestMemory& memory, uint64_t features, const VhostRing& rx, const VhostRing& tx,
                     int tap_fd) {
    if (running_) stop();
    if (!owned_) {
        ioctl_or_throw(VHOST_SET_OWNER, nullptr, "VHOST_SET_OWNER");
        owned_ = true;
    }
    ioctl_or_throw(VHOST_SET_FEATURES, &features, "VHOST_SET_FEATURES");
    const auto& regions = memory.regions();
    size_t bytes = sizeof(vhost_memory) + regions.size() * sizeof(vhost_memory_region);
    std::unique_ptr<uint8_t[]> table(new uint8_t[bytes]());
    auto* mem = reinterpret_cast<vhost_memory*>(table.get());
    mem->nregions = uint32_t(regions.size());
    for (size_t i = 0; i < regions.size(); ++i)
        mem->regions[i] = {regions[i].gpa, regions[i].size, reinterpret_cast<uintptr_t>(regions[i].host), 0};
    ioctl_or_throw(VHOST_SET_MEM_TABLE, mem, "VHOST_SET_MEM_TABLE");
    set_ring(0, memory, rx);
    set_ring(1, memory, tx);
    for (unsigned index = 0; index < 2; ++index) {
        vhost_vring_file backend{index, tap_fd};
        ioctl_or_throw(VHOST_NET_SET_BACKEND, &backend, "VHOST_NET_SET_BACKEND");
    }
    running_ = true;
}

VhostNet::Bases VhostNet::stop() {
    Bases bases;
    if (!running_) return bases;
    running_ = false;
    for (unsigned index = 0; index < 2; ++index) {
        vhost_vring_file backend{index, -1};
        if (ioctl(fd_, VHOST_NET_SET_BACKEND, &backend) != 0)
            spdlog::warn("vhost-net: detaching ring {}: {}", index, std::strerror(errno));
        vhost_vring_state state{index, 0};
        if (ioctl(fd_, VHOST_GET_VRING_BASE, &state) != 0)
            spdlog::warn("vhost-net: VHOST_GET_VRING_BASE {}: {}", index, std::strerror(errno));
        (index == 0 ? bases.rx : bases.tx) = uint16_t(state.num);
    }
    return bases;
}

} // namespace kestrel
