#pragma once
// The pc machine's board: the buses and ISA interrupt lines devices sit on,
// every device of the configuration (the board's own first, then -device
// and implied ones; see devices/pc_layout.h), and what they realize
// against (DeviceContext): iothreads, drives, chardevs, services.
#include "base/iothread.h"
#include "base/machine_control.h"
#include "base/service_registry.h"
#include "block/drive_set.h"
#include "config/config.h"
#include "devices/balloon_service.h"
#include "devices/bus.h"
#include "devices/device_context.h"
#include "devices/device_hotplug.h"
#include "devices/device_tree.h"
#include "devices/pci/pci_bus.h"
#include "kvm/guest_memory.h"
#include "kvm/vm.h"
#include "net/net_clients.h"
#include "virtio/rng/rng_backend.h"
#include "devices/ide/ide_buses.h"
#include "devices/usb/usb_bus.h"
#include "virtio/serial/virtio_serial_bus.h"
#include "ui/display_service.h"
#include "ui/input.h"
#include "ui/key_queue.h"

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace kestrel {

class ChardevSet;
class SharedIrqLine;
class FwCfg;
class PamMemory;
struct AcpiConfig;

struct PcBoardSetup {
    const Config& cfg;
    Vm& vm;
    const GuestMemory& memory;
    Bus& pio;
    Bus& mmio;
    EventLoop& loop;
    MachineControl& control;
    PamMemory* pam = nullptr;  // firmware boot: the i440FX routes it
};

class PcBoard final : public DeviceContext, public DeviceHotplug, public BlockNodeHotplug {
public:
    // Creates and realizes every device: images are opened here, chardevs
    // only later (connect_chardevs), as they are the first side effect.
    // Throws std::runtime_error with the option's location.
    explicit PcBoard(const PcBoardSetup& setup);
    ~PcBoard() override;

    // Hands chardevs to the devices that asked for them at realize.
    void connect_chardevs(ChardevSet& chardevs);
    void reset() { devices_.reset_all(); }
    // Stops the iothreads, before the devices go (they must not be served
    // while they are torn down).
    void stop_threads();
    // -sandbox: each iothread stacks the Io class's filter on itself.
    void enter_thread_sandboxes();
    // ACPI tables into the BIOS area; returns the RSDP address.
    // `smp`: the vCPUs now (device_add'ed ones enabled in the MADT).
    uint64_t write_acpi_tables(const SmpConfig& smp) const;
    // DeviceHotplug (pc_board_hotplug.cpp): device_add/device_del on pci.0.
    void add_device(const std::vector<qopts::OptPair>& options) override;
    void delete_device(const std::string& name) override;
    void on_device_deleted(std::function<void(const std::string&, const std::string&)> handler) override;
    // The ids of devices the board does not hold (hot-added vCPUs), which
    // device_add must not give another device.
    void ids_held_elsewhere(std::function<std::vector<std::string>()> ids) { ids_held_elsewhere_ = std::move(ids); }
    // BlockNodeHotplug (pc_board_blockdev.cpp).
    void add_block_node(const std::string& json_object) override;
    void delete_block_node(const std::string& node_name) override;
    // Firmware boot: what a BIOS reads besides the pc's items: the ACPI
    // tables with their loader script, and bootorder.
    void add_firmware_fw_cfg_items(FwCfg& fw_cfg) const;
    // At a reset, the ACPI tables the BIOS loads describe the vCPUs present
    // now (device_add'ed ones are boot vCPUs then, as QEMU rebuilds them).
    void refresh_firmware_acpi(FwCfg& fw_cfg, const SmpConfig& smp) const;

    const DeviceTree& devices() const { return devices_; }
    DeviceTree& devices() { return devices_; }
    const ServiceRegistry& service_registry() const { return services_; }
    NetClients& net() { return net_; }
    DisplayService& displays() { return displays_; }
    InputService& input() { return input_; }

    // DeviceContext
    Bus& pio() override { return setup_.pio; }
    Bus& mmio() override { return setup_.mmio; }
    PciBus& pci() override { return pci_; }
    IrqLine& isa_irq(unsigned irq) override;
    const GuestMemory& memory() override { return setup_.memory; }
    std::shared_ptr<IoPlumbing> plumbing() override { return plumbing_; }
    std::shared_ptr<DeviceMemory> device_memory() override { return device_memory_; }
    MachineControl& machine() override { return setup_.control; }
    EventLoop& main_loop() override { return setup_.loop; }
    EventLoop& io_loop(const std::string& id, const std::string& thread_name) override;
    void use_chardev(const std::string& id, std::function<void(Chardev&)> connect) override;
    std::shared_ptr<BlockBackend> drive(const std::string& id, const std::string& qdev) override;
    const BoardFacts& board() override { return facts_; }
    const RtcConfig& rtc() override { return setup_.cfg.rtc; }
    ServiceRegistry& services() override { return services_; }
    Vm* kvm_vm() override { return &setup_.vm; }

private:
    void add_devices();
    void find_option_roms();
    AcpiConfig acpi_config(const SmpConfig& smp) const;
    void sandbox_thread(IoThread& thread);
    // Hot plug (pc_board_hotplug.cpp).
    void start_hotplug();
    void sync_live_netdevs();
    const Device* find_device(const std::string& name) const;
    void check_chardevs_free(const DeviceConfig& config) const;
    Device& realize_added(const DeviceConfig& config);
    void eject_slot(unsigned slot);
    std::vector<const Device*> children_of(const Device& device) const;
    using DeletedDevice = std::pair<std::string, std::string>;  // DEVICE_DELETED's id and path
    void unplug(const Device& device, std::vector<DeletedDevice>& deleted);
    void forget_live_config(const Device& device);
    void apply_block_nodes(const std::vector<std::string>& nodes);

    PcBoardSetup setup_;
    BoardFacts facts_;
    std::array<std::unique_ptr<IrqLine>, 16> irq_outputs_;
    std::array<std::unique_ptr<SharedIrqLine>, 16> irqs_;
    // Before the PCI bus: the functions it holds (a virtio device still
    // serving its queues) leave their iothread's loop as they go.
    std::vector<std::unique_ptr<IoThread>> iothreads_;
    UserIothreads user_iothreads_;  // the -object iothread ones among them
    RngBackends rng_backends_;      // -object rng-random|rng-builtin, then object-add's
    PciBus pci_;
    std::shared_ptr<IoPlumbing> plumbing_;
    std::shared_ptr<DeviceMemory> device_memory_;
    DriveSet drives_;
    NetClients net_;       // before the devices: NICs hold its backends
    ServiceRegistry services_;
    DisplayService displays_;  // the consoles of display devices
    InputService input_;       // keyboards, mice, tablets
    KeyQueue keys_{input_};    // sendkey's timed presses
    UsbBuses usb_;             // USB host controllers' root ports
    IdeBuses ide_;             // IDE controllers' channels
    VirtioSerialBuses virtio_serial_;  // virtio-serial controllers' buses
    std::vector<std::pair<std::string, std::function<void(Chardev&)>>> chardev_users_;
    ChardevSet* chardevs_ = nullptr;  // once connect_chardevs has run
    BalloonEvents balloon_events_;    // BALLOON_CHANGE, for whichever balloon is plugged
    // -option-rom files found (fw_cfg name, path, bootindex); read only by firmware boot.
    struct OptionRom {
        std::string fw_cfg_name;
        std::string path;
        std::optional<int64_t> bootindex;
    };
    std::vector<OptionRom> option_roms_;
    // The configuration as it is now: hot-added devices (and the drives
    // and netdevs they may name) in, unplugged ones out.
    Config live_;
    std::function<void(const std::string&, const std::string&)> device_deleted_;
    std::function<std::vector<std::string>()> ids_held_elsewhere_;
    std::map<const Device*, std::vector<IoThread*>> own_threads_;  // each device's own threads
    bool threads_sandboxed_ = false;  // -sandbox: hot-added devices' threads get the Io filter too
    std::vector<std::string> added_nodes_;   // blockdev-add's objects, in order
    std::vector<DriveConfig> added_roots_;   // the root nodes they make now
    std::vector<std::string> added_names_;   // every node they name
    DeviceTree devices_;  // last: devices go first
};

} // namespace kestrel
