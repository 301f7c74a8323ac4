// -device and -global as QEMU 7.2 reads them, for every type in the device
// table: the type and its properties, the backends and iothreads they
// name, boot indexes, PCI slots, and each type's own checks. The board's
// devices (devices/pc_layout.h) are made here too, so -global reaches them
// and every error comes before any side effect.
#include "config/chardev_opts.h"
#include "config/cpu_device.h"
#include "config/block_opts.h"
#include "config/ide_units.h"
#include "config/json_keys.h"
#include "config/hotplug_device.h"
#include "config/pci_slots.h"
#include "config/qemu_device_names.h"
#include "devices/device_types.h"
#include "devices/pc_layout.h"
#include "devices/pci/pci_rom_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <iterator>

namespace kestrel {

namespace {

bool is_help(std::string_view s) { return s == "help" || s == "?"; }

std::string driver_of(const std::vector<qopts::OptPair>& pairs) {
    for (const qopts::OptPair& p : pairs)
        if (p.key == "driver") return p.value;
    return "";
}

// The peripheral-anon number the next device without id takes (QEMU counts
// every -device in creation order, CPUs among them).
unsigned anonymous_devices(const ParseState& st) {
    auto anonymous = [](const auto& d) { return d.id.empty(); };
    auto cpu_anonymous = [](const PendingCpuDevice& c) {
        for (const qopts::OptPair& p : c.pairs)
            if (p.key == "id") return false;
        return true;
    };
    return unsigned(std::count_if(st.cfg.devices.begin(), st.cfg.devices.end(), anonymous) +
                    std::count_if(st.cpu_devices.begin(), st.cpu_devices.end(), cpu_anonymous));
}

// A -device, or the device a -drive if=virtio implies.
struct DeviceRequest {
    std::string location;
    std::vector<qopts::OptPair> pairs;
    bool implied = false;
};

class CommandLineView final : public DeviceCheckContext {
public:
    explicit CommandLineView(const Config& cfg) : cfg_(cfg) {}
    const DriveConfig* find_drive(std::string_view id) const override {
        for (const DriveConfig& d : cfg_.drives)
            if (d.id == id) return &d;
        return nullptr;
    }
    std::string find_data_file(const std::string& name) const override {
        return kestrel::find_data_file(cfg_.boot.data_dirs, name);
    }
    std::vector<const DeviceConfig*> devices_before() const override {
        std::vector<const DeviceConfig*> out;
        for (const DeviceConfig& d : cfg_.board_devices) out.push_back(&d);
        for (const DeviceConfig& d : cfg_.devices) out.push_back(&d);
        return out;
    }
    unsigned count_before(std::string_view name) const override {
        auto of_type = [&](const DeviceConfig& d) { return d.type->name == name; };
        return unsigned(std::count_if(cfg_.board_devices.begin(), cfg_.board_devices.end(), of_type) +
                        std::count_if(cfg_.devices.begin(), cfg_.devices.end(), of_type));
    }

private:
    const Config& cfg_;
};

// The type's own completion, then what every PCI function with a ROM shares.
void complete_device(const ParseState& st, DeviceConfig& dev) {
    CommandLineView view(st.cfg);
    if (dev.type->complete) dev.type->complete(dev, view);
    complete_pci_rom(dev, view);
}

const DeviceType& user_type(const std::string& driver) {
    const DeviceType* type = find_device_type(driver);
    if (type && type->user_creatable) return *type;
    if (type) throw ConfigError("Parameter 'driver' expects a pluggable device type");
    if (is_qemu_device_name(driver)) throw ConfigError("device '" + driver + "' is not supported by kestrel yet");
    throw ConfigError("'" + driver + "' is not a valid device model name");
}

void set_property(DeviceConfig& dev, const std::string& key, const std::string& value) {
    const DeviceType& type = *dev.type;
    const PropertySpec* spec = dev.props.find(key);
    // As QEMU's aliases: a read-only value belongs to the virtio device below a proxy.
    if (spec && spec->type == PropType::ReadOnly)
        throw ConfigError("Property '" + std::string(type.backend.empty() ? type.name : type.backend) + "." + key +
                          "' is not writable");
    if (!spec) {
        if (type.unsupported(key))
            throw ConfigError("Property '" + std::string(type.name) + "." + key + "' is not supported by kestrel yet");
    }
    dev.props.set(key, value);
}

// -global values for this type (and for the virtio device behind a proxy),
// in command-line order; QEMU applies them before the device's own options.
void apply_globals(const ParseState& st, DeviceConfig& dev) {
    for (const GlobalProperty& g : st.globals) {
        if (g.driver != dev.type->name && g.driver != dev.type->backend) continue;
        try {
            set_property(dev, g.property, g.value);
        } catch (const ConfigError& e) {
            throw ConfigError("can't apply global " + g.driver + "." + g.property + "=" + g.value + ": " + e.what());
        }
    }
}

DeviceConfig new_device(const ParseState& st, const DeviceType& type, std::string location, std::string id) {
    DeviceConfig dev{std::move(location), &type, std::move(id), false, type.default_values()};
    apply_globals(st, dev);
    return dev;
}

bool drive_in_use(const Config& cfg, const std::string& id) {
    auto uses = [&](const DeviceConfig& d) {
        for (const PropertySpec* spec : d.props.specs())
            if (spec->type == PropType::Drive && d.props.str(spec->name) == id) return true;
        return false;
    };
    return std::any_of(cfg.board_devices.begin(), cfg.board_devices.end(), uses) ||
           std::any_of(cfg.devices.begin(), cfg.devices.end(), uses);
}

// The checks QEMU makes as it sets a property that names something else.
void check_drive(const ParseState& st, const std::string& property, const std::string& id) {
    const DriveConfig* drive = CommandLineView(st.cfg).find_drive(id);
    if (!drive) throw ConfigError(property + " can't find value '" + id + "'");
    if (!drive_in_use(st.cfg, id)) return;
    if (drive->interface != "none")
        throw ConfigError("Drive '" + id +
                          "' is already in use because it has been automatically connected to "
                          "another device (did you need 'if=none' in the drive options?)");
    throw ConfigError("Drive '" + id + "' is already in use by another device");
}

void check_chardev(ParseState& st, const std::string& property, const std::string& id) {
    bool found = false;
    try {
        found = attach_frontend(st, id);
    } catch (const ConfigError&) {
        throw ConfigError(property + " can't take value '" + id + "': Device '" + id + "' is in use");
    }
    if (!found) throw ConfigError(property + " can't find value '" + id + "'");
}

// A NIC's netdev=: a backend of the command line that no other NIC (nor a
// hub, for -net ones) holds.
void check_netdev(const ParseState& st, const std::string& property, const std::string& id) {
    auto netdev = std::find_if(st.cfg.netdevs.begin(), st.cfg.netdevs.end(),
                               [&](const NetdevConfig& n) { return n.id == id; });
    if (netdev == st.cfg.netdevs.end()) throw ConfigError(property + " can't find value '" + id + "'");
    auto uses = [&](const DeviceConfig& d) {
        for (const PropertySpec* spec : d.props.specs())
            if (spec->type == PropType::Netdev && d.props.str(spec->name) == id) return true;
        return false;
    };
    bool on_hub = netdev->hub >= 0 && netdev->type != "hubport";
    if (on_hub || std::any_of(st.cfg.board_devices.begin(), st.cfg.board_devices.end(), uses) ||
        std::any_of(st.cfg.devices.begin(), st.cfg.devices.end(), uses))
        throw ConfigError(property + " can't take value '" + id + "', it's in use");
}

void check_bootindex(const Config& cfg, int64_t index) {
    bool used = index >= 0 && std::any_of(cfg.devices.begin(), cfg.devices.end(), [&](const DeviceConfig& d) {
        return d.props.find("bootindex") && d.props.optional_int("bootindex") == index;
    });
    if (used) throw ConfigError("The bootindex " + std::to_string(index) + " has already been used");
}

void check_reference(ParseState& st, const DeviceConfig& dev, const PropertySpec& spec) {
    std::string owner(dev.type->backend.empty() ? dev.type->name : dev.type->backend);
    std::string property = "Property '" + owner + "." + std::string(spec.name) + "'";
    if (spec.type == PropType::Drive) check_drive(st, property, dev.props.str(spec.name));
    if (spec.type == PropType::Chardev && !dev.props.str(spec.name).empty())
        check_chardev(st, property, dev.props.str(spec.name));
    if (spec.type == PropType::BootIndex) check_bootindex(st.cfg, dev.props.sint(spec.name));
    if (spec.type == PropType::Netdev && !dev.props.str(spec.name).empty())
        check_netdev(st, property, dev.props.str(spec.name));
}

void check_iothread(const Config& cfg, const std::string& id) {
    bool known = std::any_of(cfg.iothreads.begin(), cfg.iothreads.end(),
                             [&](const IothreadConfig& t) { return t.id == id; });
    if (!known) throw ConfigError("Device '" + id + "' not found");
}

// rng=: an rng object; another object's id is the wrong type, as in QEMU.
void check_rng_backend(const Config& cfg, const std::string& key, const std::string& id) {
    if (std::any_of(cfg.rng_objects.begin(), cfg.rng_objects.end(), [&](const auto& r) { return r.id == id; }))
        return;
    auto is_id = [&](const auto& o) { return o.id == id; };
    if (std::any_of(cfg.iothreads.begin(), cfg.iothreads.end(), is_id) ||
        std::any_of(cfg.secrets.begin(), cfg.secrets.end(), is_id) ||
        std::any_of(cfg.memory_backends.begin(), cfg.memory_backends.end(), is_id))
        throw ConfigError("Invalid parameter type for '" + key + "', expected: rng-backend");
    throw ConfigError("Device '" + id + "' not found");
}

void check_link(const Config& cfg, const PropertyValues& props, const std::string& key) {
    PropType type = props.find(key)->type;
    if (type == PropType::Iothread) check_iothread(cfg, props.str(key));
    if (type == PropType::RngBackend) check_rng_backend(cfg, key, props.str(key));
}

// Whether `bus` names a bus of a controller of kind `kind` made so far (the
// board's first, as QEMU's machine makes them before -device's).
bool is_controller_bus_name(const Config& cfg, BusKind kind, const std::string& bus) {
    unsigned unnamed = 0;
    for (const auto* list : {&cfg.board_devices, &cfg.devices})
        for (const DeviceConfig& d : *list) {
            if (d.type->child_bus != kind) continue;
            const unsigned unnamed_before = d.id.empty() ? unnamed++ : 0;
            if (kind != BusKind::Ide ? bus == controller_bus_name(kind, d.id, unnamed_before)
                                     : std::ranges::count(ide_bus_names(d.id, unnamed_before), bus) > 0)
                return true;
        }
    return false;
}

// bus= names the one bus of its kind: pci.0, isa.0, a USB bus, an IDE
// bus, or a virtio-serial bus.
void check_bus(const Config& cfg, const DeviceType& type, const std::string& bus) {
    BusKind kind = bus == bus_instance_name(BusKind::Pci)                      ? BusKind::Pci
                   : bus == bus_instance_name(BusKind::Isa)                    ? BusKind::Isa
                   : is_controller_bus_name(cfg, BusKind::Usb, bus)            ? BusKind::Usb
                   : is_controller_bus_name(cfg, BusKind::Ide, bus)            ? BusKind::Ide
                   : is_controller_bus_name(cfg, BusKind::VirtioSerial, bus)   ? BusKind::VirtioSerial
                                                                               : BusKind::None;
    if (kind == BusKind::None) throw ConfigError("Bus '" + bus + "' not found");
    if (kind != type.bus)
        throw ConfigError("Device '" + std::string(type.name) + "' can't go on " + std::string(bus_type_name(kind)) +
                          " bus");
}

// A JSON -device value is checked against the property's type as QEMU's
// QObject input visitor does (key=value text is parsed by the property).
// Returns the value as text; a PCI address given as a number is QEMU's devfn.
std::string json_property_text(const PropertySpec& spec, const qopts::OptPair& pair) {
    using qopts::JsonValue;
    const std::string& key = pair.key;
    auto wrong = [&](const char* expected) {
        return ConfigError("Invalid parameter type for '" + key + "', expected: " + expected);
    };
    switch (spec.type) {
    case PropType::Bool:
        if (pair.json != JsonValue::Bool) throw wrong("boolean");
        break;
    case PropType::Uint8: case PropType::Uint16: case PropType::Uint32: case PropType::Uint64:
        if (pair.json != JsonValue::Integer) throw ConfigError("Parameter '" + key + "' expects uint64");
        break;
    case PropType::Int32: case PropType::BootIndex: case PropType::Int:
        if (pair.json != JsonValue::Integer) throw wrong("integer");
        break;
    case PropType::Str: case PropType::Drive: case PropType::Chardev: case PropType::Iothread:
    case PropType::RngBackend: case PropType::Netdev: case PropType::MacAddr: case PropType::LostTickPolicy:
    case PropType::OnOffAuto:
        if (pair.json != JsonValue::String) throw wrong("string");
        break;
    case PropType::PciAddr:
        if (pair.json == JsonValue::Integer) {
            unsigned devfn = 0;
            auto [end, ec] = std::from_chars(pair.value.data(), pair.value.data() + pair.value.size(), devfn);
            if (ec != std::errc() || end != pair.value.data() + pair.value.size() || devfn > 0xff)
                return pair.value;   // the property's parser refuses it
            char text[8];
            std::snprintf(text, sizeof text, "%x.%x", devfn >> 3, devfn & 7);
            return text;
        }
        if (pair.json != JsonValue::String)
            throw ConfigError("Invalid parameter type for '" + key + "', expected int or str");
        break;
    default:
        break;
    }
    return pair.value;
}

DeviceConfig make_device(ParseState& st, const DeviceRequest& request) {
    const std::string* driver = nullptr;
    std::string id;
    for (const qopts::OptPair& pair : request.pairs) {
        if (pair.key == "driver" && (pair.json == qopts::JsonValue::NotJson || pair.json == qopts::JsonValue::String))
            driver = &pair.value;
        if (pair.key == "id") id = pair.value;
    }
    if (!driver) throw ConfigError("Parameter 'driver' is missing");
    DeviceConfig dev = new_device(st, user_type(*driver), request.location, id);
    dev.implied = request.implied;
    for (const qopts::OptPair& pair : request.pairs) {
        if (pair.key == "bus") check_bus(st.cfg, *dev.type, pair.value);
        if (pair.key == "bus" && (dev.type->bus == BusKind::Ide || dev.type->bus == BusKind::VirtioSerial ||
                                  dev.type->bus == BusKind::Usb))
            dev.bus = pair.value;
        if (pair.key == "driver" || pair.key == "id" || pair.key == "bus") continue;
        const PropertySpec* spec = dev.props.find(pair.key);
        if (spec && pair.json != qopts::JsonValue::NotJson)
            set_property(dev, pair.key, json_property_text(*spec, pair));
        else
            set_property(dev, pair.key, pair.value);
        check_link(st.cfg, dev.props, pair.key);
    }
    return dev;
}

// A USB device needs a host controller created before it, as in QEMU.
void check_usb_bus(const Config& cfg, const DeviceType& type) {
    auto controller = [](const DeviceConfig& d) { return d.type->child_bus == BusKind::Usb; };
    bool found = std::any_of(cfg.board_devices.begin(), cfg.board_devices.end(), controller) ||
                 std::any_of(cfg.devices.begin(), cfg.devices.end(), controller);
    if (!found) throw ConfigError("No 'usb-bus' bus found for device '" + std::string(type.name) + "'");
}

// A port needs a virtio-serial controller created before it, as in QEMU.
void check_virtio_serial_bus(const Config& cfg, const DeviceType& type) {
    auto controller = [](const DeviceConfig& d) { return d.type->child_bus == BusKind::VirtioSerial; };
    if (std::none_of(cfg.devices.begin(), cfg.devices.end(), controller))
        throw ConfigError("No 'virtio-serial-bus' bus found for device '" + std::string(type.name) + "'");
}

// Where devices go: PCI slots and IDE units.
struct Placement {
    PciSlots pci;
    IdeUnits ide;
};

void create_device(ParseState& st, Placement& slots, DeviceConfig dev) {
    if (dev.type->bus == BusKind::Usb) check_usb_bus(st.cfg, *dev.type);
    if (dev.type->bus == BusKind::VirtioSerial) check_virtio_serial_bus(st.cfg, *dev.type);
    for (const PropertySpec* spec : dev.props.specs())
        if (dev.props.has(spec->name)) check_reference(st, dev, *spec);
    if (dev.type->bus == BusKind::Pci) slots.pci.place(dev);
    if (dev.type->bus == BusKind::Ide) slots.ide.place(dev);
    complete_device(st, dev);
    if (dev.type->child_bus == BusKind::Ide) slots.ide.add_controller(dev.id);
    st.cfg.devices.push_back(std::move(dev));
}

// The -vga card's type; empty for none.
std::string_view vga_type(VgaKind kind) {
    switch (kind) {
    case VgaKind::Std: return "VGA";
    case VgaKind::Cirrus: return "cirrus-vga";
    case VgaKind::None: break;
    }
    return {};
}

void create_board_device(ParseState& st, Placement& slots, const pc::BoardDevice& board, unsigned serial = 0) {
    std::string_view type = board.type == "vga" ? vga_type(st.cfg.vga) : board.type;
    DeviceConfig dev = new_device(st, *find_device_type(type), "", "");
    if (board.pci_devfn >= 0) {
        dev.props.set_value("addr", int64_t(board.pci_devfn));
        slots.pci.place(dev);
    }
    if (board.type == "isa-serial") {
        dev.props.set_value("index", uint64_t(serial));
        dev.props.set_value("chardev", st.cfg.serials[serial]);
    }
    complete_device(st, dev);
    if (dev.type->child_bus == BusKind::Ide) slots.ide.add_controller(dev.id);
    st.cfg.board_devices.push_back(std::move(dev));
}

// The NICs of -nic and -net nic, as QEMU's pc_nic_init makes them: after
// the ISA devices, before the IDE function.
void create_board_nics(ParseState& st, Placement& slots) {
    for (const NicRequest& nic : st.board_nics) {
        DeviceConfig dev = new_device(st, nic_type(nic.model), nic.location, "");
        at_location(nic.location, [&] {
            dev.props.set_value("netdev", nic.netdev);
            if (nic.mac) dev.props.set_value("mac", nic.mac->text());
            if (!nic.addr.empty()) dev.props.set("addr", nic.addr);
            if (!nic.vectors.empty() && dev.props.find("vectors")) dev.props.set("vectors", nic.vectors);
            for (const PropertySpec* spec : dev.props.specs())
                if (dev.props.has(spec->name)) check_reference(st, dev, *spec);
            slots.pci.place(dev);
            complete_device(st, dev);
        });
        st.cfg.board_devices.push_back(std::move(dev));
    }
}

// QEMU's default MAC addresses, in the order its NICs get them: -nic and
// -net NICs while the command line is read, -device ones as they realize.
void assign_macs(Config& cfg) {
    DefaultMacs macs;
    auto assign = [&](DeviceConfig& d) {
        const PropertySpec* mac = d.props.find("mac");
        if (!mac || mac->type != PropType::MacAddr) return;
        std::optional<MacAddress> given;
        if (d.props.has("mac")) given = MacAddress::parse(d.props.str("mac"));
        d.props.set_value("mac", macs.assign(given).text());
    };
    std::for_each(cfg.board_devices.begin(), cfg.board_devices.end(), assign);
    std::for_each(cfg.devices.begin(), cfg.devices.end(), assign);
}

// The ide-hd and ide-cd devices of the -drive if=ide drives, by index
// (bus * 2 + unit), as QEMU's pc makes them right after the IDE function.
void create_board_ide_drives(ParseState& st, Placement& slots) {
    std::vector<const DriveConfig*> drives;
    for (const DriveConfig& d : st.cfg.drives)
        if (d.interface == "ide") drives.push_back(&d);
    std::sort(drives.begin(), drives.end(), [](auto* a, auto* b) { return a->index < b->index; });
    for (const DriveConfig* d : drives) {
        DeviceConfig dev = new_device(st, *find_device_type(d->cdrom ? "ide-cd" : "ide-hd"), d->location, "");
        dev.props.set_value("drive", d->id);
        dev.props.set_value("unit", uint64_t(d->index % 2));
        dev.bus = d->index < 2 ? "ide.0" : "ide.1";
        at_location(d->location, [&] { slots.ide.place(dev); });
        st.cfg.board_devices.push_back(std::move(dev));
    }
}

void create_board_devices(ParseState& st, Placement& slots) {
    for (const pc::BoardDevice& board : pc::kBoardDevices) {
        if (board.type == "vga" && st.cfg.vga == VgaKind::None) continue;
        if (board.type == "piix3-usb-uhci" && !st.cfg.usb) continue;
        if (board.type == "piix3-ide") create_board_nics(st, slots);  // pc_init1's order
        if (board.type != "isa-serial") {
            create_board_device(st, slots, board);
            if (board.type == "piix3-ide") create_board_ide_drives(st, slots);
            continue;
        }
        for (unsigned i = 0; i < st.cfg.serials.size(); ++i)
            if (!st.cfg.serials[i].empty()) create_board_device(st, slots, board, i);
    }
}

} // namespace

void handle_device(ParseState& st, const ArgToken& tok) {
    auto split = at_location(tok.location(), [&] {
        if (tok.value->starts_with('{')) return split_json_scalars(*tok.value);  // libvirt's form
        return qopts::split(*tok.value, "driver", qopts::Syntax::QemuOpts);
    });
    std::vector<qopts::OptPair> pairs;
    bool help = false;
    for (qopts::OptPair& p : split.pairs) {
        if ((p.key == "driver" && is_help(p.value)) || (p.short_form && is_help(p.key))) {
            help = true;
            continue;
        }
        if (p.short_form)
            st.warn(tok.location(), qopts::short_form_warning(p));
        pairs.push_back(std::move(p));
    }
    if (help) {
        auto driver = std::find_if(pairs.begin(), pairs.end(),
                                   [](const qopts::OptPair& p) { return p.key == "driver"; });
        st.device_help = driver == pairs.end() ? "" : driver->value;
        return;
    }
    at_location(tok.location(), [&] {
        for (const qopts::OptPair& p : pairs) {
            if (p.key != "id")
                continue;
            check_identifier(p.value);
            for (const PendingOpts& other : st.devices) {
                for (const qopts::OptPair& q : other.pairs)
                    if (q.key == "id" && q.value == p.value)
                        throw ConfigError("Duplicate ID '" + p.value + "' for device");
            }
        }
    });
    st.devices.push_back({tok.location(), std::move(pairs)});
}

// -global DRIVER.PROPERTY=VALUE (QEMU's sscanf "%[^.=].%[^=]=" form: the
// value may hold commas), or -global driver=D,property=P,value=V.
void handle_global(ParseState& st, const ArgToken& tok) {
    const std::string& text = *tok.value;
    size_t dot = text.find_first_of(".=");
    size_t equals = dot == std::string::npos ? dot : text.find('=', dot + 1);
    if (dot > 0 && dot != std::string::npos && text[dot] == '.' && equals != std::string::npos && equals > dot + 1) {
        st.globals.push_back({tok.location(), text.substr(0, dot), text.substr(dot + 1, equals - dot - 1),
                              text.substr(equals + 1)});
        return;
    }
    GlobalProperty g{tok.location()};
    for (const qopts::OptPair& p : split_checked(st, tok, "", {"driver", "property", "value"}))
        (p.key == "driver" ? g.driver : p.key == "property" ? g.property : g.value) = p.value;
    st.globals.push_back(std::move(g));
}

// -device CPUs: each in its slot, with QEMU's checks, in command-line order.
void finalize_cpu_devices(ParseState& st) {
    if (st.cfg.machine.type == "none") return;  // check_none_machine refuses them
    for (const PendingCpuDevice& p : st.cpu_devices)
        at_location(p.location, [&] {
            ColdPluggedCpu cpu = check_cpu_device(st.cfg.smp, st.cfg.cpu.model, p.pairs);
            cpu.anonymous_number = p.anonymous_number;
            st.cfg.smp.plugged.push_back(std::move(cpu));
        });
}

void finalize_devices(ParseState& st) {
    for (const GlobalProperty& g : st.globals)
        if (!find_device_type(g.driver) && !is_qemu_device_name(g.driver))
            st.warn("", "global " + g.driver + "." + g.property + " has invalid class name");
    Placement slots;
    create_board_devices(st, slots);
    for (const LocatedText& usb : st.usb_devices) {  // -usbdevice: before -device, as QEMU
        DeviceRequest request{usb.location, {{"driver", "usb-tablet"}}, true};
        at_location(request.location, [&] { create_device(st, slots, make_device(st, request)); });
    }
    for (const PendingOpts& p : st.devices) {
        if (is_cpu_device_type(driver_of(p.pairs))) {
            st.cpu_devices.push_back({p.location, p.pairs, anonymous_devices(st)});
            continue;
        }
        at_location(p.location, [&] { create_device(st, slots, make_device(st, {p.location, p.pairs})); });
    }
    for (const DriveConfig& drive : st.cfg.drives) {
        if (drive.interface != "virtio") continue;
        DeviceRequest request{drive.location, {{"driver", "virtio-blk-pci"}, {"drive", drive.id}}, true};
        at_location(request.location, [&] { create_device(st, slots, make_device(st, request)); });
    }
    assign_macs(st.cfg);
    add_net_warnings(st);
}

// QEMU's "-device help": each category's user-creatable types by name.
void print_device_help(std::ostream& out, const std::string& driver) {
    if (!driver.empty()) {
        const DeviceType* type = find_device_type(driver);
        if (!type) throw ConfigError("Device '" + driver + "' not found");
        std::vector<std::string> lines;  // sorted as printed, as QEMU sorts them
        for (const PropertySpec* spec : type->all_properties()) lines.push_back(property_help_line(*spec));
        std::sort(lines.begin(), lines.end());
        if (lines.empty()) {
            out << "There are no options for " << type->name << ".\n";
            return;
        }
        out << type->name << " options:\n";
        for (const std::string& line : lines) out << line << "\n";
        return;
    }
    bool first = true;
    for (int c = 0; c <= int(DeviceCategory::Uncategorized); ++c) {
        std::vector<const DeviceType*> types;
        for (const DeviceType* t : device_types())
            if (t->user_creatable && int(t->category) == c) types.push_back(t);
        if (types.empty()) continue;
        // QEMU sorts type names ignoring case ("cirrus-vga" before "VGA").
        std::sort(types.begin(), types.end(), [](auto* a, auto* b) {
            return std::lexicographical_compare(a->name.begin(), a->name.end(), b->name.begin(), b->name.end(),
                                                [](char x, char y) { return std::tolower(x) < std::tolower(y); });
        });
        out << (first ? "" : "\n") << category_title(DeviceCategory(c)) << ":\n";
        first = false;
        for (const DeviceType* t : types) {
            out << "name \"" << t->name << "\", bus " << bus_type_name(t->bus);
            if (!t->alias.empty()) out << ", alias \"" << t->alias << "\"";
            if (!t->description.empty()) out << ", desc \"" << t->description << "\"";
            out << "\n";
        }
    }
}

} // namespace kestrel

namespace kestrel {

namespace {

// A -blockdev/blockdev-add node a device writes already: QEMU's block
// layer refuses a second writer (the command line's check names the drive).
void check_node_shared(const Config& live, const std::vector<qopts::OptPair>& pairs) {
    std::string drive, id;
    for (const qopts::OptPair& p : pairs) {
        if (p.key == "drive") drive = p.value;
        if (p.key == "id") id = p.value;
    }
    auto node = std::find_if(live.drives.begin(), live.drives.end(),
                             [&](const DriveConfig& d) { return d.blockdev && d.id == drive; });
    if (drive.empty() || id.empty() || node == live.drives.end() || node->read_only) return;
    for (const DeviceConfig& d : live.devices) {
        const PropertySpec* spec = d.props.find("drive");
        if (!spec || d.id.empty() || d.props.str("drive") != drive || d.type->backend.empty()) continue;
        throw ConfigError("Permission conflict on node '" + drive + "': permissions 'write' are both required by "
                          "block device '/machine/peripheral/" + d.id + "/virtio-backend' (uses node '" + drive +
                          "' as 'root' child) and unshared by block device '/machine/peripheral/" + id +
                          "/virtio-backend' (uses node '" + drive + "' as 'root' child).");
    }
}

} // namespace

std::string hotplug_bus_name(const Config& live, const DeviceType& type, const std::string& bus) {
    if (!bus.empty()) {
        check_bus(live, type, bus);
        return bus;
    }
    if (type.bus != BusKind::Ide) return std::string(bus_instance_name(type.bus));
    std::string newest;
    unsigned unnamed = 0;
    for (const auto* list : {&live.board_devices, &live.devices})
        for (const DeviceConfig& d : *list)
            if (d.type->child_bus == BusKind::Ide) newest = ide_bus_names(d.id, d.id.empty() ? unnamed++ : 0)[1];
    if (newest.empty()) throw ConfigError("No 'IDE' bus found for device '" + std::string(type.name) + "'");
    return newest;
}

DeviceConfig make_hotplug_device(const Config& live, const std::vector<qopts::OptPair>& pairs,
                                 const std::vector<std::string>& other_ids) {
    ParseState st;
    st.cfg = live;
    st.cfg.devices.clear();
    Placement slots;
    for (const DeviceConfig& d : live.board_devices)
        if (d.type->bus == BusKind::Pci) slots.pci.reserve(d.props.sint("addr"), std::string(d.type->name), d.id);
    for (const DeviceConfig& d : live.devices)
        if (d.type->bus == BusKind::Pci) slots.pci.reserve(d.props.sint("addr"), std::string(d.type->name), d.id);
    st.cfg.devices = live.devices;  // drives, netdevs and boot indexes in use
    for (const qopts::OptPair& p : pairs)
        if (p.key == "driver") user_type(p.value);  // QEMU names a bad driver before a taken id
    for (const qopts::OptPair& p : pairs) {
        if (p.key != "id") continue;
        check_identifier(p.value);
        if (std::any_of(live.devices.begin(), live.devices.end(), [&](const DeviceConfig& d) { return d.id == p.value; }) ||
            std::find(other_ids.begin(), other_ids.end(), p.value) != other_ids.end())
            throw ConfigError("Duplicate device ID '" + p.value + "'");
    }
    check_node_shared(live, pairs);
    create_device(st, slots, make_device(st, {"", pairs}));
    DeviceConfig dev = st.cfg.devices.back();
    st.cfg.devices.pop_back();
    DefaultMacs macs;
    auto mark = [&](const DeviceConfig& d) {
        if (d.props.find("mac") && d.props.find("mac")->type == PropType::MacAddr && d.props.has("mac"))
            macs.assign(MacAddress::parse(d.props.str("mac")));
    };
    std::for_each(live.board_devices.begin(), live.board_devices.end(), mark);
    std::for_each(live.devices.begin(), live.devices.end(), mark);
    const PropertySpec* mac = dev.props.find("mac");
    if (mac && mac->type == PropType::MacAddr) {
        std::optional<MacAddress> given;
        if (dev.props.has("mac")) given = MacAddress::parse(dev.props.str("mac"));
        dev.props.set_value("mac", macs.assign(given).text());
    }
    return dev;
}

} // namespace kestrel
