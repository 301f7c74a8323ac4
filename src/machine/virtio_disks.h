#pragma once
// The machine's virtio-blk-pci disks: each -device virtio-blk-pci (and each
// -drive if=virtio) becomes an image backend, a VirtioBlk and its PCI
// transport on the bus. A disk serves its queues on its -object iothread,
// or on a thread of its own: never on the main loop, so a vCPU resetting
// the device cannot wait on a loop busy with the monitor.
#include "config/config.h"
#include "base/iothread.h"
#include "monitor/vm_control.h"

#include <memory>
#include <vector>

namespace kestrel {

class BlockBackend;
class GuestMemory;
class PciBus;
class Vm;
class VirtioBlk;
class VirtioPciDevice;

struct VirtioDiskSetup {
    const Config& cfg;
    PciBus& pci;
    Vm& vm;
    const GuestMemory& memory;
};

class VirtioDisks {
public:
    // Opens every image and plugs the devices in. Throws std::runtime_error
    // "<-drive ...>: <reason>" (missing or locked image, slot taken).
    explicit VirtioDisks(const VirtioDiskSetup& setup);
    ~VirtioDisks();

    // Stops the I/O threads (before the buses let go of the devices).
    void stop_threads();
    std::vector<BlockDeviceInfo> info() const;

private:
    struct Disk {
        const DriveConfig* drive;
        const DeviceConfig* device;
        std::string qdev;
        std::string node_name, file_node_name;
        std::shared_ptr<BlockBackend> backend;
        std::shared_ptr<VirtioBlk> blk;
        std::shared_ptr<VirtioPciDevice> pci;
    };

    void add_disk(const VirtioDiskSetup& setup, const DeviceConfig& device, unsigned anon_index);
    IoThread& thread_for(const DeviceConfig& device, const std::string& name);

    std::vector<std::unique_ptr<IoThread>> threads_;
    std::vector<Disk> disks_;
};

} // namespace kestrel
