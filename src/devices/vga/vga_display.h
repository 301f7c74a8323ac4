#pragma once
// What both VGA cards do as devices: their console in the display service,
// the VGA BIOS's font, and at reset (without firmware) the VGA BIOS's mode
// 3 so a directly booted guest has a text console.
#include "devices/pci/pci_function_device.h"
#include "devices/vga/vga_core.h"

#include <memory>
#include <string>
#include <vector>

namespace kestrel {

class VgaDisplayDevice : public PciFunctionDevice {
public:
    using PciFunctionDevice::PciFunctionDevice;
    void realize(DeviceContext& context) override;
    void reset() override;
    VgaCore* core() const { return core_.get(); }

protected:
    // From make_function, once core_ exists: the console, device memory,
    // and the font of romfile=.
    void setup_display(DeviceContext& context);
    virtual void post();  // the VGA BIOS's work (Cirrus adds its own registers)

    std::shared_ptr<VgaCore> core_;
    std::vector<uint8_t> font_;
    bool firmware_boot_ = false;
};

} // namespace kestrel
