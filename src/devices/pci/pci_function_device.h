#pragma once
// A Device that is one PCI function of the pc's bus 0: it builds its
// function at realize, plugs it in at its addr=, resets it with the
// machine, and describes it as QEMU's "info qtree" does.
#include "devices/device.h"
#include "devices/pci/pci_device.h"

#include <memory>
#include <optional>
#include <string>

namespace kestrel {

class DeviceMemory;

// An option ROM for the firmware: its fw_cfg name ("genroms/NAME") and file.
struct FirmwareRom {
    std::string fw_cfg_name;
    std::string path;
};

// The last component of a romfile= name (QEMU's fw_cfg file names use it).
std::string rom_file_basename(const std::string& name);

class PciFunctionDevice : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override;
    void reset() override;
    void describe(QtreeNode& node) const override;
    PciDevice* pci_function() const override { return function_.get(); }
    // rombar=0: the ROM firmware gets as an fw_cfg file instead of a BAR.
    const std::optional<FirmwareRom>& firmware_rom() const { return firmware_rom_; }

protected:
    // The function, not yet plugged in.
    virtual std::shared_ptr<PciDevice> make_function(DeviceContext& context) = 0;
    // After the function is on the bus.
    virtual void plugged(DeviceContext& context) { (void)context; }

    std::shared_ptr<PciDevice> function_;

private:
    void add_option_rom(DeviceContext& context);
    void rom_moved(std::optional<uint64_t> base);

    std::shared_ptr<PciRomImage> rom_image_;
    std::shared_ptr<DeviceMemory> rom_memory_;
    std::optional<uint32_t> rom_slot_;
    std::optional<FirmwareRom> firmware_rom_;
};

// QEMU's name for a PCI class (base class, subclass): "Host bridge",
// "SCSI controller"; "" for classes QEMU has no name for (the balloon's
// 0x00ff). pci_class_description() gives "Class 00ff" for those, as info
// qtree prints them.
std::string pci_class_name(uint8_t base, uint8_t sub);
std::string pci_class_description(uint8_t base, uint8_t sub);

} // namespace kestrel
