#pragma once
// Device properties as QEMU's qdev declares them. Each device type lists
// its properties once (name, type, default, description); everything else
// reads that list: -device and -global parsing and their errors, "-device
// NAME,help", device-list-properties, and the property lines of "info
// qtree". A device reads its values back by name from PropertyValues.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kestrel {

enum class PropType : uint8_t {
    Bool,
    Uint8,
    Uint16,
    Uint32,
    Int32,
    Uint64,
    Size,
    Str,
    PciAddr,    // addr=SLOT[.FN] (hexadecimal); -1 until placed
    BootIndex,  // int32, unique among the machine's devices
    Drive,      // the id of a -drive (a block backend)
    Chardev,    // the id of a -chardev
    Iothread,   // the id of an -object iothread
    RngBackend, // the id of an -object rng-random|rng-builtin
    LostTickPolicy,  // QEMU's enum: "discard", "delay" or "slew" (a string)
    OnOffAuto,  // QEMU's enum: "on", "off" or "auto" (a string)
    Int,        // QOM "int": any int64 (a property QEMU adds outside qdev)
    ReadOnly,   // a value only the device sets ("guest statistics"): not writable
    Netdev,     // the id of a -netdev (a network backend)
    MacAddr,    // an Ethernet address "52:54:00:12:34:56"
};

struct PropertySpec {
    std::string_view name;
    PropType type;
    std::string_view description = {};
    bool has_default = false;
    int64_t default_int = 0;        // integers (two's complement) and bool
    std::string_view default_text;  // Str
    // Where "info qtree" prints it: with the device, with the virtio
    // device below a virtio proxy (whose property it then aliases, as
    // virtio-blk-pci's drive=), or not at all (other aliases, links).
    enum class Qtree : uint8_t { Device, Backend, Hidden } qtree = Qtree::Device;
    // The type "-device NAME,help" shows when it is not the PropType's
    // (a read-only property's "guest statistics").
    std::string_view type_name = {};
};

// QEMU's DEFINE_PROP_* for the types kestrel's devices use.
constexpr PropertySpec prop_bool(std::string_view name, bool def, std::string_view desc = {}) {
    return {name, PropType::Bool, desc, true, def ? 1 : 0};
}
constexpr PropertySpec prop_uint(PropType type, std::string_view name, int64_t def,
                                 std::string_view desc = {}) {
    return {name, type, desc, true, def};
}
constexpr PropertySpec prop_str(std::string_view name, std::string_view desc = {}) {
    return {name, PropType::Str, desc};
}
// An enumeration with a default ("delay").
constexpr PropertySpec prop_enum(PropType type, std::string_view name, std::string_view def) {
    return {name, type, {}, true, 0, def};
}
constexpr PropertySpec prop_link(PropType type, std::string_view name, std::string_view desc = {}) {
    return {name, type, desc};
}
// A property QEMU adds outside qdev: not in "info qtree".
constexpr PropertySpec prop_qom_int(std::string_view name) {
    return {name, PropType::Int, {}, false, 0, {}, PropertySpec::Qtree::Hidden};
}
constexpr PropertySpec prop_read_only(std::string_view name, std::string_view type_name) {
    return {name, PropType::ReadOnly, {}, false, 0, {}, PropertySpec::Qtree::Hidden, type_name};
}
// The same property, printed by "info qtree" elsewhere.
constexpr PropertySpec in_qtree(PropertySpec spec, PropertySpec::Qtree where) {
    spec.qtree = where;
    return spec;
}
// The "addr" every PCI device has.
inline constexpr PropertySpec kPciAddrProperty = {
    "addr", PropType::PciAddr, "Slot and optional function number, example: 06.0 or 06", true, -1};
// QEMU's option ROM properties of a PCI function, in qtree order.
inline constexpr PropertySpec kPciRomProperties[] = {
    {"romfile", PropType::Str},
    {"romsize", PropType::Uint32, {}, true, 4294967295},
    {"rombar", PropType::Uint32, {}, true, 1},
};
// The "unit" of a device on an IDE bus (0 master, 1 slave); -1 until placed.
inline constexpr PropertySpec kIdeUnitProperty = {"unit", PropType::Uint32, {}, true, 4294967295};
inline constexpr PropertySpec kBootIndexProperty = {"bootindex", PropType::BootIndex};
// The "mac" and "netdev" every NIC has (QEMU's DEFINE_NIC_PROPERTIES).
inline constexpr PropertySpec kMacProperty = {"mac", PropType::MacAddr,
                                              "Ethernet 6-byte MAC Address, example: 52:54:00:12:34:56"};
inline constexpr PropertySpec kNetdevProperty = {"netdev", PropType::Netdev, "ID of a netdev to use as a backend"};

// QEMU's name for the type in help texts and introspection ("uint32",
// "link<iothread>").
std::string_view prop_type_name(PropType type);

// One help line as "-device NAME,help" prints it.
std::string property_help_line(const PropertySpec& spec);

using PropValue = std::variant<bool, int64_t, uint64_t, std::string>;

// The values of one device's properties: defaults, then -global, then the
// -device options. Errors are ConfigError with QEMU's texts; `owner` is the
// type name they use ("Property 'virtio-blk-pci.foo' not found").
class PropertyValues {
public:
    PropertyValues() = default;
    // `backend_owner` names the QOM child that holds the properties marked
    // Qtree::Backend, in errors ("virtio-net-device.mac").
    PropertyValues(std::string owner, std::vector<const PropertySpec*> specs, std::string backend_owner = {});

    const std::vector<const PropertySpec*>& specs() const { return specs_; }
    const PropertySpec* find(std::string_view name) const;

    // Parses `text` as the property's type; throws ConfigError.
    void set(std::string_view name, std::string_view text);
    void set_value(std::string_view name, PropValue value);

    // Given explicitly or by default. Getters throw std::logic_error for a
    // name the type does not have or a value of another kind.
    bool has(std::string_view name) const;
    bool boolean(std::string_view name) const;
    uint64_t uint(std::string_view name) const;
    int64_t sint(std::string_view name) const;
    const std::string& str(std::string_view name) const;  // "" when unset
    std::optional<int64_t> optional_int(std::string_view name) const;

    // The value as "info qtree" prints it: "1016 (0x3f8)", "true", "\"serial0\"".
    std::string qtree_text(const PropertySpec& spec) const;

private:
    size_t index_of(std::string_view name) const;
    const PropValue& value(std::string_view name) const;

    std::string owner_;
    std::string backend_owner_;
    std::vector<const PropertySpec*> specs_;
    std::vector<std::optional<PropValue>> values_;
};

// PCI addresses as QEMU writes them: devfn = slot << 3 | function.
inline int64_t pci_devfn(unsigned slot, unsigned function) { return int64_t(slot << 3 | function); }

} // namespace kestrel
