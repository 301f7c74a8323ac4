#include "devices/pci/pci_rom_config.h"

#include "base/config_error.h"

#include <fmt/format.h>
#include <sys/stat.h>

namespace kestrel {

namespace {
constexpr uint64_t kUnsetRomSize = 4294967295;
constexpr uint64_t kMaxRomFile = 2ull << 30;

bool is_power_of_two(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }
} // namespace

void complete_pci_rom(DeviceConfig& device, const DeviceCheckContext& context) {
    const DeviceType& type = *device.type;
    if (!type.has_rom || type.bus != BusKind::Pci) return;
    PropertyValues& p = device.props;
    uint64_t romsize = p.uint("romsize");
    if (romsize != kUnsetRomSize && !is_power_of_two(romsize))
        throw ConfigError(fmt::format("ROM size {} is not a power of two", romsize));
    bool is_default = false;
    if (!p.has("romfile") && !type.romfile.empty()) {
        p.set_value("romfile", std::string(type.romfile));
        is_default = true;
    }
    const std::string name = p.str("romfile");
    device.rom.reset();
    if (name.empty()) return;
    std::string path = context.find_data_file(name);
    if (p.uint("rombar") == 0) {  // handed to the firmware through fw_cfg; QEMU only warns if missing
        device.rom = RomFile{path, 0, 0, is_default};
        return;
    }
    struct stat st {};
    if (path.empty() || stat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode))
        throw ConfigError("failed to find romfile \"" + name + "\"");
    uint64_t size = uint64_t(st.st_size);
    if (size == 0) throw ConfigError("romfile \"" + name + "\" is empty");
    if (size > kMaxRomFile) throw ConfigError("romfile \"" + name + "\" too large (size cannot exceed 2 GiB)");
    if (romsize != kUnsetRomSize && size > romsize)
        throw ConfigError(fmt::format("romfile \"{}\" ({} bytes) is too large for ROM size {}", name, size, romsize));
    if (romsize == kUnsetRomSize) romsize = rom_size_for(size);
    p.set_value("romsize", romsize);
    device.rom = RomFile{path, size, romsize, is_default};
}

} // namespace kestrel
