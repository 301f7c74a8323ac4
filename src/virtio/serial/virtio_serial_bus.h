#pragma once
// The virtio-serial buses ports plug into ("<id>.0", or
// "virtio-serial-bus.N" for a controller without id), registered in the
// ServiceRegistry, and QEMU's rules for a port's number.
#include "devices/device_type.h"
#include "virtio/serial/virtio_serial.h"

#include <functional>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

// The port number QEMU's virtser_port_device_realize gives `spec` on a bus
// whose ports are `existing` (port 0 stays reserved for a console); throws
// std::runtime_error with its messages. Names are checked across buses by
// the caller (check_port_name).
uint32_t choose_port_nr(const VirtioSerialPortSpec& spec, std::span<const VirtioSerialPortSpec> existing,
                        uint32_t max_ports);
// "A port already exists by name N" when `name` is taken on any bus.
void check_port_name(const VirtioSerialPortSpec& spec, std::span<const VirtioSerialPortSpec> all_ports);

class VirtioSerialBuses {
public:
    // Registers the bus of a controller with qdev id `id`; returns its name.
    std::string add(const std::string& id, VirtioSerial& device) {
        std::string name = controller_bus_name(BusKind::VirtioSerial, id, id.empty() ? unnamed_made_++ : 0);
        buses_.push_back({name, &device});
        return name;
    }
    void remove(VirtioSerial& device) { std::erase_if(buses_, [&](const Entry& e) { return e.device == &device; }); }
    size_t count() const { return buses_.size(); }
    // The bus called `name`, or for an empty name the newest one (QEMU
    // searches a bus's children newest first); null if none.
    VirtioSerial* find(const std::string& name) const;
    std::vector<VirtioSerialPortSpec> all_ports() const;

    // VSERPORT_CHANGE: the machine sets it, devices call it (main loop).
    void on_port_change(std::function<void(const std::string& id, bool open)> fn) { change_ = std::move(fn); }
    void port_changed(const std::string& id, bool open) const {
        if (change_) change_(id, open);
    }

private:
    struct Entry {
        std::string name;
        VirtioSerial* device;
    };
    std::vector<Entry> buses_;
    unsigned unnamed_made_ = 0;
    std::function<void(const std::string&, bool)> change_;
};

} // namespace kestrel
