#pragma once
// The board's ACPI power button (PIIX4 PM on pc), as a service the machine
// presses for the monitor's system_powerdown.
namespace kestrel {

class PowerButton {
public:
    virtual ~PowerButton() = default;
    virtual void press() = 0;
};

} // namespace kestrel
