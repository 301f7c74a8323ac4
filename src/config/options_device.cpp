// -device as QEMU 7.2 reads it, for the one device kestrel has so far
// (virtio-blk-pci), with the checks QEMU makes when it creates each device:
// properties, the drive and iothread they name, boot indexes and PCI slots.
#include "config/block_opts.h"
#include "config/pci_slots.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace kestrel {

namespace {

constexpr std::string_view kVirtioBlk = "virtio-blk-pci";

// Properties kestrel implements for virtio-blk-pci (besides id and driver).
constexpr std::string_view kBlkProperties[] = {
    "addr", "bootindex", "drive", "iothread", "num-queues", "serial",
};

// The rest of QEMU 7.2's virtio-blk-pci properties.
constexpr std::string_view kOtherBlkProperties[] = {
    "account-failed", "account-invalid", "acpi-index", "aer", "any_layout", "ats",
    "backend_defaults", "class", "config-wce", "cyls", "disable-legacy", "disable-modern",
    "discard", "discard_granularity", "event_idx", "failover_pair_id", "heads",
    "indirect_desc", "ioeventfd", "iommu_platform", "lcyls", "lheads", "logical_block_size",
    "lsecs", "max-discard-sectors", "max-write-zeroes-sectors", "migrate-extra",
    "min_io_size", "modern-pio-notify", "multifunction", "notify_on_empty", "opt_io_size",
    "packed", "page-per-vq", "physical_block_size", "queue-size", "queue_reset",
    "report-discard-granularity", "request-merging", "rerror", "rombar", "romfile", "romsize",
    "scsi", "secs", "seg-max-adjust", "share-rw", "use-disabled-flag", "use-started",
    "vectors", "virtio-pci-bus-master-bug-migration", "werror", "write-cache",
    "write-zeroes",
};

// Devices QEMU 7.2 has that kestrel does not provide (yet): a clearer
// answer than "not a valid device model name" for the common ones.
constexpr std::string_view kOtherQemuDevices[] = {
    "virtio-blk-pci-transitional", "virtio-blk-pci-non-transitional", "virtio-blk-device",
    "vhost-user-blk-pci", "virtio-net-pci", "virtio-net", "e1000", "e1000e", "rtl8139",
    "virtio-scsi-pci", "virtio-scsi", "scsi-hd", "scsi-cd", "ide-hd", "ide-cd", "nvme",
    "virtio-balloon-pci", "virtio-balloon", "virtio-rng-pci", "virtio-rng",
    "virtio-serial-pci", "virtio-serial", "virtconsole", "virtserialport", "VGA",
    "cirrus-vga", "qxl-vga", "virtio-vga", "virtio-gpu-pci", "bochs-display",
    "qemu-xhci", "nec-usb-xhci", "usb-ehci", "usb-tablet", "usb-kbd", "usb-mouse",
    "usb-storage", "isa-serial", "pci-bridge", "pcie-root-port", "vfio-pci", "pvpanic",
    "i6300esb", "ich9-intel-hda", "intel-hda", "hda-duplex", "virtio-9p-pci",
    "vhost-vsock-pci", "virtio-keyboard-pci", "virtio-mouse-pci", "virtio-tablet-pci",
    "ivshmem-plain", "ivshmem-doorbell", "sga", "loader",
};

template <typename List>
bool contains(const List& list, std::string_view name) {
    return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

bool is_help(std::string_view s) { return s == "help" || s == "?"; }

// QEMU's string input visitor for integers: strtoll, any base prefix,
// nothing after the digits.
int64_t parse_integer(const std::string& key, const std::string& text, int64_t min, int64_t max,
                      const char* type_name) {
    errno = 0;
    char* end = nullptr;
    long long value = std::strtoll(text.c_str(), &end, 0);
    if (text.empty() || *end != '\0' || errno == ERANGE)
        throw ConfigError("Parameter '" + key + "' expects integer");
    if (value < min || value > max)
        throw ConfigError("Parameter '" + key + "' expects " + type_name);
    return value;
}

// addr=SLOT[.FN], both hexadecimal as QEMU's strtoul(…, 16) reads them.
void parse_addr(const std::string& text, DeviceConfig& dev) {
    auto invalid = [&] {
        return ConfigError("Property '" + dev.driver + ".addr' doesn't take value '" + text + "'");
    };
    const char* p = text.c_str();
    char* end = nullptr;
    unsigned long slot = std::strtoul(p, &end, 16);
    if (end == p || (*end != '\0' && *end != '.') || slot > 0x1f)
        throw invalid();
    unsigned long function = 0;
    if (*end == '.') {
        p = end + 1;
        function = std::strtoul(p, &end, 16);
        if (end == p || function > 7)
            throw invalid();
    }
    if (*end != '\0')
        throw invalid();
    dev.slot = unsigned(slot);
    dev.function = unsigned(function);
}

void check_driver(const std::string& driver) {
    if (driver == kVirtioBlk)
        return;
    if (contains(kOtherQemuDevices, driver))
        throw ConfigError("device '" + driver + "' is not supported by kestrel yet");
    throw ConfigError("'" + driver + "' is not a valid device model name");
}

// Property values as QEMU sets them, in command-line order.
void set_property(const Config& cfg, const qopts::OptPair& p, DeviceConfig& dev) {
    if (!contains(kBlkProperties, p.key)) {
        if (contains(kOtherBlkProperties, p.key))
            throw ConfigError("Property '" + dev.driver + "." + p.key +
                              "' is not supported by kestrel yet");
        throw ConfigError("Property '" + dev.driver + "." + p.key + "' not found");
    }
    if (p.key == "addr") {
        parse_addr(p.value, dev);
    } else if (p.key == "bootindex") {
        dev.bootindex = int(parse_integer(p.key, p.value, INT32_MIN, INT32_MAX, "int32_t"));
    } else if (p.key == "num-queues") {
        dev.num_queues = unsigned(parse_integer(p.key, p.value, 0, UINT16_MAX, "uint16_t"));
        if (*dev.num_queues == UINT16_MAX)  // QEMU's "auto"
            dev.num_queues.reset();
    } else if (p.key == "serial") {
        dev.serial = p.value;
    } else if (p.key == "iothread") {
        bool known = std::any_of(cfg.iothreads.begin(), cfg.iothreads.end(),
                                 [&](const IothreadConfig& t) { return t.id == p.value; });
        if (!known)
            throw ConfigError("Device '" + p.value + "' not found");
        dev.iothread = p.value;
    } else if (p.key == "drive") {
        dev.drive = p.value;
    }
}

DeviceConfig make_device(const Config& cfg, const PendingOpts& p) {
    DeviceConfig dev;
    dev.location = p.location;
    bool has_driver = false;
    for (const qopts::OptPair& pair : p.pairs) {
        if (pair.key == "driver") {
            dev.driver = pair.value;
            has_driver = true;
        } else if (pair.key == "id") {
            dev.id = pair.value;
        }
    }
    if (!has_driver)
        throw ConfigError("Parameter 'driver' is missing");
    if (dev.driver == "virtio-blk")  // QEMU's alias on PCI machines
        dev.driver = kVirtioBlk;
    check_driver(dev.driver);
    for (const qopts::OptPair& pair : p.pairs) {
        if (pair.key != "driver" && pair.key != "id")
            set_property(cfg, pair, dev);
    }
    return dev;
}

const DriveConfig* find_drive(const Config& cfg, const std::string& id) {
    for (const DriveConfig& d : cfg.drives)
        if (d.id == id) return &d;
    return nullptr;
}

// The drive= checks QEMU makes when it sets the property.
void attach_drive(const Config& cfg, DeviceConfig& dev) {
    if (dev.drive.empty())
        return;
    const DriveConfig* drive = find_drive(cfg, dev.drive);
    if (!drive)
        throw ConfigError("Property 'virtio-blk-device.drive' can't find value '" + dev.drive + "'");
    bool in_use = std::any_of(cfg.devices.begin(), cfg.devices.end(),
                              [&](const DeviceConfig& d) { return d.drive == dev.drive; });
    if (in_use && drive->interface != "none")
        throw ConfigError("Drive '" + dev.drive +
                          "' is already in use because it has been automatically connected to "
                          "another device (did you need 'if=none' in the drive options?)");
    if (in_use)
        throw ConfigError("Drive '" + dev.drive + "' is already in use by another device");
    if (dev.serial.empty())
        dev.serial = drive->serial;
}

void check_bootindex(const Config& cfg, const DeviceConfig& dev) {
    if (!dev.bootindex || *dev.bootindex < 0)
        return;
    bool used = std::any_of(cfg.devices.begin(), cfg.devices.end(),
                            [&](const DeviceConfig& d) { return d.bootindex == dev.bootindex; });
    if (used)
        throw ConfigError("The bootindex " + std::to_string(*dev.bootindex) + " has already been used");
}

// What the virtio-blk device checks when it is realized.
void check_realize(const Config& cfg, const DeviceConfig& dev) {
    if (dev.drive.empty())
        throw ConfigError("drive property not set");
    if (find_drive(cfg, dev.drive)->file.empty())
        throw ConfigError("Device needs media, but drive is empty");
    if (dev.num_queues && *dev.num_queues == 0)
        throw ConfigError("num-queues property must be larger than 0");
    if (dev.num_queues && *dev.num_queues > kMaxVirtioQueues)
        throw ConfigError("num-queues property must be at most " + std::to_string(kMaxVirtioQueues));
}

void create_device(Config& cfg, PciSlots& slots, DeviceConfig dev) {
    attach_drive(cfg, dev);
    check_bootindex(cfg, dev);
    slots.place(dev);
    check_realize(cfg, dev);
    cfg.devices.push_back(std::move(dev));
}

} // namespace

void handle_device(ParseState& st, const ArgToken& tok) {
    auto split = at_location(tok.location(), [&] {
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

void finalize_devices(ParseState& st, std::vector<DeviceConfig> implied) {
    PciSlots slots;
    for (const PendingOpts& p : st.devices) {
        at_location(p.location, [&] {
            create_device(st.cfg, slots, make_device(st.cfg, p));
        });
    }
    for (DeviceConfig& dev : implied) {
        std::string location = dev.location;
        at_location(location, [&] { create_device(st.cfg, slots, std::move(dev)); });
    }
}

void print_device_help(std::ostream& out, const std::string& driver) {
    if (driver.empty()) {
        out << "Storage devices:\n"
            << "name \"virtio-blk-pci\", bus PCI, alias \"virtio-blk\"\n";
        return;
    }
    if (driver != kVirtioBlk && driver != "virtio-blk")
        throw ConfigError("Device '" + driver + "' not found");
    out << "virtio-blk-pci options:\n"
        << "  addr=<int32>           - Slot and optional function number, example: 06.0 or 06 (default: -1)\n"
        << "  bootindex=<int32>\n"
        << "  drive=<str>            - Node name or ID of a block device to use as a backend\n"
        << "  iothread=<link<iothread>>\n"
        << "  num-queues=<uint16>    -  (default: 65535)\n"
        << "  serial=<str>\n";
}

} // namespace kestrel
