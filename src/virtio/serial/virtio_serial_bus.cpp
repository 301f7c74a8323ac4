#include "virtio/serial/virtio_serial_bus.h"

#include <algorithm>
#include <stdexcept>

namespace kestrel {

using virtio_serial::kBadId;

namespace {

bool taken(std::span<const VirtioSerialPortSpec> existing, uint32_t nr) {
    return std::any_of(existing.begin(), existing.end(), [&](const auto& p) { return p.nr == nr; });
}

// QEMU's find_free_port_id: the lowest clear bit of its map, whose words
// cover max_ports rounded up to 32 and whose bit 0 is always set.
uint32_t first_free(std::span<const VirtioSerialPortSpec> existing, uint32_t max_ports) {
    const uint32_t limit = (max_ports + 31) / 32 * 32;
    for (uint32_t nr = 1; nr < limit; ++nr)
        if (!taken(existing, nr)) return nr;
    return kBadId;
}

} // namespace

void check_port_name(const VirtioSerialPortSpec& spec, std::span<const VirtioSerialPortSpec> all_ports) {
    if (!spec.has_name) return;
    for (const VirtioSerialPortSpec& p : all_ports)
        if (p.has_name && p.name == spec.name)
            throw std::runtime_error("virtio-serial-bus: A port already exists by name " + spec.name);
}

uint32_t choose_port_nr(const VirtioSerialPortSpec& spec, std::span<const VirtioSerialPortSpec> existing,
                        uint32_t max_ports) {
    uint32_t nr = spec.nr;
    if (nr != kBadId && taken(existing, nr))
        throw std::runtime_error("virtio-serial-bus: A port already exists at id " + std::to_string(nr));
    if (nr == kBadId) {
        nr = spec.console && !taken(existing, 0) ? 0 : first_free(existing, max_ports);
        if (nr == kBadId) throw std::runtime_error("virtio-serial-bus: Maximum port limit for this device reached");
    }
    if (nr >= max_ports)
        throw std::runtime_error("virtio-serial-bus: Out-of-range port id specified, max. allowed: " +
                                 std::to_string(max_ports - 1));
    if (nr == 0 && !spec.console)
        throw std::runtime_error("Port number 0 on virtio-serial devices reserved for virtconsole devices for "
                                 "backward compatibility.");
    return nr;
}

VirtioSerial* VirtioSerialBuses::find(const std::string& name) const {
    if (name.empty()) return buses_.empty() ? nullptr : buses_.back().device;
    for (const Entry& e : buses_)
        if (e.name == name) return e.device;
    return nullptr;
}

std::vector<VirtioSerialPortSpec> VirtioSerialBuses::all_ports() const {
    std::vector<VirtioSerialPortSpec> out;
    for (const Entry& e : buses_) {
        auto ports = e.device->ports();
        out.insert(out.end(), ports.begin(), ports.end());
    }
    return out;
}

} // namespace kestrel
