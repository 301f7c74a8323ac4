// -drive as QEMU 7.2 reads it (its "legacy" drive options), for the
// interfaces kestrel has: ide (the default: the board's PIIX3 IDE
// controller), virtio (with its implied virtio-blk-pci) and none; and
// -hda..-hdd and a bare image argument, which are -drive index=N,media=disk.
#include "config/block_opts.h"
#include "config/chardev_opts.h"

#include <algorithm>
#include <map>

namespace kestrel {

namespace {

// Keys kestrel reads; QEMU's unknown-option error covers the rest.
constexpr std::string_view kDriveKeys[] = {
    "file", "if", "format", "index", "media", "id", "cache", "cache.writeback",
    "cache.direct", "cache.no-flush", "aio", "readonly", "read-only", "snapshot", "serial",
    "discard", "l2-cache-size",
};

// -drive keys QEMU 7.2 has and kestrel does not implement yet.
constexpr std::string_view kUnsupportedQemuKeys[] = {
    "bus", "unit", "werror", "rerror", "copy-on-read", "detect-zeroes", "node-name",
    "auto-read-only", "force-share", "group", "throttling.group",
};

constexpr unsigned kIdeDrives = 4;

// Interfaces QEMU knows; kestrel has a controller for none of them yet.
struct OtherInterface {
    std::string_view name;
    std::string_view what;  // "" = QEMU's pc machine has none either
};
constexpr OtherInterface kOtherInterfaces[] = {
    {"floppy", "floppy controller"},
    {"pflash", "pflash (flash memory) support"}, {"scsi", ""}, {"sd", ""}, {"mtd", ""},
    {"xen", ""}, {"none", ""},
};

constexpr std::string_view kCacheModes[] = {"writeback", "none", "writethrough", "directsync",
                                            "unsafe"};

template <typename List>
bool contains(const List& list, std::string_view name) {
    return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

// The options of one -drive; a repeated key's last value wins (QemuOpts).
struct DriveOpts {
    std::map<std::string, std::string> values;
    std::vector<std::string> unknown;  // in command-line order

    explicit DriveOpts(const std::vector<qopts::OptPair>& pairs) {
        for (const qopts::OptPair& p : pairs) {
            std::string key = p.key == "readonly" ? "read-only" : p.key;
            values[key] = p.value;
            if (!contains(kDriveKeys, p.key) && !contains(unknown, p.key))
                unknown.push_back(p.key);
        }
    }
    const std::string* get(const std::string& key) const {
        auto it = values.find(key);
        return it == values.end() ? nullptr : &it->second;
    }
    bool flag(const std::string& key, bool fallback) const {
        const std::string* v = get(key);
        return v ? qopts::parse_bool(key, *v) : fallback;
    }
};

std::string interface_of(const DriveOpts& o) {
    const std::string* name = o.get("if");
    std::string type = name ? *name : "ide";  // QEMU's default for the pc machine
    if (type == "virtio" || type == "none" || type == "ide")
        return type;
    auto other = std::find_if(std::begin(kOtherInterfaces), std::end(kOtherInterfaces),
                              [&](const OtherInterface& i) { return i.name == type; });
    if (other == std::end(kOtherInterfaces))
        throw ConfigError("unsupported bus type '" + type + "'");
    if (other->what.empty())
        throw ConfigError("machine type does not support if=" + type + ",bus=0,unit=0");
    throw ConfigError("kestrel has no " + std::string(other->what) + " yet (" +
                      (name ? "" : "if=ide is the default; ") +
                      "use if=virtio, or if=none with -device virtio-blk-pci,drive=ID)");
}

bool index_taken(const Config& cfg, const std::string& interface, unsigned index) {
    return std::any_of(cfg.drives.begin(), cfg.drives.end(), [&](const DriveConfig& d) {
        return d.interface == interface && d.index == index;
    });
}

void set_index(const Config& cfg, const DriveOpts& o, DriveConfig& d) {
    const std::string* text = o.get("index");
    // index=-1 is QEMU's "not given" (strtoull wraps it to all ones).
    uint64_t index = text ? qopts::parse_number("index", *text) : UINT64_MAX;
    if (index == UINT64_MAX) {
        while (index_taken(cfg, d.interface, d.index))
            ++d.index;
        return;
    }
    if (index > 0x7fffffff)
        throw ConfigError("index cannot be used with bus and unit");  // QEMU's int overflow
    d.index = unsigned(index);
    if (index_taken(cfg, d.interface, d.index)) {
        std::string n = std::to_string(d.index);
        throw ConfigError("drive with bus=0, unit=" + n + " (index=" + n + ") exists");
    }
}

void set_cache(const DriveOpts& o, DriveConfig& d) {
    if (const std::string* mode = o.get("cache")) {
        if (!contains(kCacheModes, *mode))
            throw ConfigError("invalid cache option");
        d.cache_writeback = *mode != "writethrough" && *mode != "directsync";
        d.cache_direct = *mode == "none" || *mode == "directsync";
        d.cache_no_flush = *mode == "unsafe";
    }
    d.cache_writeback = o.flag("cache.writeback", d.cache_writeback);
    d.cache_direct = o.flag("cache.direct", d.cache_direct);
    d.cache_no_flush = o.flag("cache.no-flush", d.cache_no_flush);
}

void set_aio(const DriveOpts& o, DriveConfig& d) {
    if (const std::string* aio = o.get("aio")) {
        if (*aio != "threads" && *aio != "native" && *aio != "io_uring")
            throw ConfigError("invalid aio option");
        d.aio = *aio;
    }
}

void check_format(const DriveOpts& o, DriveConfig& d) {
    const std::string* format = o.get("format");
    if (!format)
        return;
    if (*format == "qcow" || *format == "vmdk" || *format == "vdi" || *format == "vhdx" || *format == "vpc" ||
        *format == "qed" || *format == "luks")
        throw ConfigError("image format '" + *format +
                          "' is not supported by kestrel yet (format=raw and format=qcow2 are)");
    if (*format != "raw" && *format != "qcow2")
        throw ConfigError("Unknown driver '" + *format + "'");
    d.format = *format;
}

// l2-cache-size= belongs to the qcow2 driver (QEMU's size syntax).
void set_l2_cache_size(const DriveOpts& o, DriveConfig& d) {
    const std::string* text = o.get("l2-cache-size");
    if (!text)
        return;
    if (d.format != "qcow2")
        throw ConfigError("Block format '" + (d.format.empty() ? std::string("raw") : d.format) +
                          "' does not support the option 'l2-cache-size'");
    d.l2_cache_size = qopts::parse_size("l2-cache-size", *text);
}

void set_discard(const DriveOpts& o, DriveConfig& d) {
    const std::string* mode = o.get("discard");
    if (!mode)
        return;
    if (*mode == "ignore" || *mode == "off")
        d.discard = "ignore";
    else if (*mode == "unmap" || *mode == "on")
        d.discard = "unmap";
    else
        throw ConfigError("Invalid discard option");
}

void check_unknown_keys(const DriveOpts& o) {
    for (const std::string& key : o.unknown) {
        if (contains(kUnsupportedQemuKeys, key) || key.starts_with("throttling.") ||
            key.starts_with("stats-") || key.starts_with("file."))
            throw ConfigError("drive option '" + key + "' is not supported by kestrel yet");
        throw ConfigError("Block format '" + std::string(o.get("format") ? *o.get("format") : "raw") +
                          "' does not support the option '" + key + "'");
    }
}

// QEMU's names: "virtio0", "none1", and for IDE bus and unit, "ide1-hd0".
std::string implied_id(const Config& cfg, const DriveConfig& d) {
    std::string id = d.interface + std::to_string(d.index);
    if (d.interface == "ide")
        id = "ide" + std::to_string(d.index / 2) + (d.cdrom ? "-cd" : "-hd") + std::to_string(d.index % 2);
    bool taken = std::any_of(cfg.drives.begin(), cfg.drives.end(),
                             [&](const DriveConfig& other) { return other.id == id; });
    if (taken)
        throw ConfigError("Device with id '" + id + "' already exists");
    return id;
}

// QEMU's drive_new order: the legacy options, then the block layer's.
DriveConfig make_drive(const Config& cfg, const PendingOpts& p) {
    DriveOpts o(p.pairs);
    DriveConfig d;
    d.location = p.location;
    d.read_only = o.flag("read-only", false);
    d.snapshot = o.flag("snapshot", cfg.snapshot);  // -snapshot, unless snapshot= says otherwise
    if (const std::string* media = o.get("media")) {
        if (*media != "disk" && *media != "cdrom")
            throw ConfigError("'" + *media + "' invalid media");
        d.cdrom = *media == "cdrom";
    }
    d.interface = interface_of(o);
    if (d.cdrom && d.interface != "ide")
        throw ConfigError("media=cdrom is supported by kestrel on IDE only (if=ide)");
    if (d.cdrom)
        d.read_only = true;
    set_index(cfg, o, d);
    if (d.interface == "ide" && d.index >= kIdeDrives)  // the pc's two IDE buses, two units each
        throw ConfigError("machine type does not support if=ide,bus=" + std::to_string(d.index / 2) + ",unit=" +
                          std::to_string(d.index % 2));
    const std::string* id = o.get("id");
    d.id = id ? *id : implied_id(cfg, d);
    if (const std::string* serial = o.get("serial"))
        d.serial = *serial;
    set_cache(o, d);
    set_aio(o, d);
    check_format(o, d);
    if (const std::string* file = o.get("file"))
        d.file = *file;
    bool driver_options = o.get("format") != nullptr;
    if (d.file.empty() && driver_options)
        throw ConfigError("A block device must be specified for \"file\"");
    if (d.aio == "native" && !d.cache_direct)
        throw ConfigError("aio=native was specified, but it requires cache.direct=on, which was not specified.");
    set_discard(o, d);
    set_l2_cache_size(o, d);
    check_unknown_keys(o);
    return d;
}

} // namespace

void check_identifier(std::string_view id) {
    if (!is_qemu_identifier(id))
        throw ConfigError("Parameter 'id' expects an identifier");
}

void handle_drive(ParseState& st, const ArgToken& tok) {
    std::vector<qopts::OptPair> pairs = split_unchecked(st, tok, "");
    at_location(tok.location(), [&] {
        for (const qopts::OptPair& p : pairs) {
            if (p.key != "id")
                continue;
            check_identifier(p.value);
            for (const PendingOpts& other : st.drives) {
                for (const qopts::OptPair& q : other.pairs)
                    if (q.key == "id" && q.value == p.value)
                        throw ConfigError("Duplicate ID '" + p.value + "' for drive");
            }
        }
    });
    st.drives.push_back({tok.location(), std::move(pairs)});
}

void add_hard_disk(ParseState& st, const std::string& location, const std::string& file, unsigned index) {
    st.drives.push_back({location, {{"media", "disk"}, {"index", std::to_string(index)}, {"file", file}}});
}

void handle_cdrom(ParseState& st, const ArgToken& tok) {
    st.drives.push_back({tok.location(), {{"media", "cdrom"}, {"index", "2"}, {"file", *tok.value}}});
}

void handle_hd(ParseState& st, const ArgToken& tok) {
    add_hard_disk(st, tok.location(), *tok.value, unsigned(tok.name[2] - 'a'));
}

namespace {

// QEMU's default CD-ROM drive: an empty ide1-cd0 unless -nodefaults, a
// -device of an IDE or SCSI disk or CD type, or a drive at IDE index 2.
bool wants_default_cdrom(const ParseState& st) {
    if (st.cfg.nodefaults) return false;
    for (const PendingOpts& d : st.devices)
        for (const qopts::OptPair& p : d.pairs)
            if (p.key == "driver" && (p.value == "ide-cd" || p.value == "ide-hd" || p.value == "scsi-cd" ||
                                      p.value == "scsi-hd"))
                return false;
    return std::none_of(st.cfg.drives.begin(), st.cfg.drives.end(),
                        [](const DriveConfig& d) { return d.interface == "ide" && d.index == 2; });
}

} // namespace

void finalize_drives(ParseState& st) {
    for (const PendingOpts& p : st.drives)
        st.cfg.drives.push_back(at_location(p.location, [&] {
            DriveConfig d = make_drive(st.cfg, p);
            if (contains(st.block_node_names, d.id))
                throw ConfigError("Device name '" + d.id + "' conflicts with an existing node name");
            return d;
        }));
    if (wants_default_cdrom(st))
        st.cfg.drives.push_back(make_drive(st.cfg, {"", {{"if", "ide"}, {"index", "2"}, {"media", "cdrom"}}}));
}

} // namespace kestrel
