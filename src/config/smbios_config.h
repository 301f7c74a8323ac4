#pragma once
// -smbios and -machine smbios-entry-point-type: what the user gave for the
// SMBIOS tables the machine builds (machine/smbios). Unset strings are
// std::nullopt: the machine's defaults or "no string" apply.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {

using SmbiosText = std::optional<std::string>;

struct SmbiosType8Port {  // one -smbios type=8
    SmbiosText internal_reference, external_reference;
    uint8_t connector_type = 0, port_type = 0;
};

struct SmbiosType41Device {  // one -smbios type=41 (an onboard device)
    SmbiosText designation;
    uint8_t kind = 1;      // SMBIOS device type: 1 other .. 10 SAS (the enabled bit is added when built)
    uint8_t instance = 1;
    SmbiosText pcidev;     // the id of a PCI -device: its bus and devfn
};

struct SmbiosConfig {
    static constexpr unsigned MAX_TYPE = 127;
    enum class EntryPoint { Bits32, Bits64 };  // SMBIOS 2.8 "_SM_", or 3.0 "_SM3_"
    EntryPoint entry_point = EntryPoint::Bits32;

    // -smbios file=: whole structures, in command-line order.
    std::vector<std::vector<uint8_t>> blobs;
    std::array<bool, MAX_TYPE + 1> from_file{};    // a blob of this type was given
    std::array<bool, MAX_TYPE + 1> from_fields{};  // -smbios type=N was given

    struct {
        SmbiosText vendor, version, date;
        std::optional<std::pair<uint8_t, uint8_t>> release;
        bool uefi = false;
    } type0;
    struct {
        SmbiosText manufacturer, product, version, serial, sku, family;  // the UUID is Config::uuid
    } type1;
    struct {
        SmbiosText manufacturer, product, version, serial, asset, location;
    } type2;
    struct {
        SmbiosText manufacturer, version, serial, asset, sku;
    } type3;
    struct {
        SmbiosText sock_pfx, manufacturer, version, serial, asset, part;
        uint64_t processor_id = 0;  // 0: CPUID leaf 1 of the first CPU
        uint16_t max_speed = 2000, current_speed = 2000;  // MHz
    } type4;
    std::vector<SmbiosType8Port> type8;
    std::vector<std::string> type11;  // OEM strings
    std::vector<SmbiosType41Device> type41;
    struct {
        SmbiosText loc_pfx, bank, manufacturer, serial, asset, part;
        uint16_t speed = 0;
    } type17;
};

} // namespace kestrel
