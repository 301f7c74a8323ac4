#pragma once
// The machine's devices in creation order, with their QOM paths, the life
// cycle calls the machine makes on all of them, and the monitors' view:
// "info qtree", the PCI functions with their qdev ids.
#include "devices/device.h"

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace kestrel {

// Where QEMU 7.2's pc machine puts vCPU `index`: vCPU 0 is
// /machine/unattached/device[0]; realizing its APIC creates the kvmvapic,
// device[1]; vCPU N (N >= 1) is device[N + 1].
std::string vcpu_qom_path(unsigned index);

class DeviceTree {
public:
    DeviceTree() = default;
    DeviceTree(const DeviceTree&) = delete;
    DeviceTree& operator=(const DeviceTree&) = delete;
    ~DeviceTree();

    // Board devices are numbered after the vCPUs, which QEMU creates first
    // ("/machine/unattached/device[N]", see vcpu_qom_path), and the
    // kvmvapic between vCPU 0 and 1 (a slot kestrel leaves empty).
    explicit DeviceTree(unsigned vcpus) : unattached_(vcpus == 0 ? 0 : vcpus + 1) {}

    // Adds a device and gives it its QOM path: `board_path` if given, else
    // by its id (peripheral), anonymous peripheral, or unattached (board).
    Device& add(std::unique_ptr<Device> device, bool board, std::string board_path = {});
    // A "/machine/peripheral-anon/device[N]" number taken by something not
    // in the tree (a -device vCPU): add() skips it.
    void reserve_anonymous(unsigned number) { reserved_anonymous_.push_back(number); }
    // The next number for something not in the tree (a hot-added vCPU).
    unsigned claim_anonymous() { return next_anonymous(); }

    // In creation order; unrealize goes in reverse.
    void realize_all(DeviceContext& context);
    // Called after each device realize_all realizes (the machine notes
    // what it started for it).
    void on_realized(std::function<void(const Device&)> fn) { on_realized_ = std::move(fn); }
    void reset_all();
    void pause_all();
    void resume_all();
    void unrealize_all();

    // Hot plug: a device added once the machine runs (peripheral path),
    // realized at once (and paused if the others are); nothing stays of it
    // if realize throws.
    Device& add_realized(std::unique_ptr<Device> device, DeviceContext& context);
    // Hot unplug: takes a realized device out (the caller unrealizes it).
    std::unique_ptr<Device> remove(const Device& device);

    const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }
    const Device* find_by_path(const std::string& path) const;
    const Device* find_by_id(const std::string& id) const;
    // The IDE controller whose bus is called `bus` ("ide.1", "ID.0") and
    // that bus's number on it.
    struct IdeBusPlace {
        const Device* controller;
        unsigned bus_number;
    };
    std::optional<IdeBusPlace> ide_bus_place(const std::string& bus) const;

    // QEMU's tree: main-system-bus, the PCI host's pci.0, the ISA bridge's
    // isa.0, newest device first on each bus as QEMU lists them.
    QtreeNode::Bus qtree() const;

private:
    std::vector<std::unique_ptr<Device>> devices_;
    size_t realized_ = 0;
    unsigned unattached_ = 0;
    unsigned anonymous_ = 0;
    std::vector<unsigned> reserved_anonymous_;
    std::function<void(const Device&)> on_realized_;
    bool paused_ = false;  // between pause_all and resume_all
    unsigned next_anonymous();
};

} // namespace kestrel
