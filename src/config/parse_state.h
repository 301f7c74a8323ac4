#pragma once
// Internal to src/config: the state shared by the option handlers while one
// command line is parsed. QEMU checks some options as it meets them (syntax,
// typed values) and others only after the whole command line is read
// (machine type, topology, -cpu, serial backends); the handlers follow the
// same split so that the error a user sees first is the one QEMU shows.
#include "config/argv_tokens.h"
#include "config/config.h"
#include "config/json_keys.h"
#include "config/parser.h"
#include "base/qemu_opts.h"
#include "net/mac_address.h"

#include <map>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

// An option argument together with the option it came from, for messages.
struct LocatedText {
    std::string location;  // "-serial stdio"
    std::string text;      // "stdio"
};

// A chardev as read from the command line (-chardev, or implied by -monitor,
// -qmp, -nographic). QEMU checks its syntax at once and the rest when it
// creates the backend, after every option is read (chardev_opts.h).
struct PendingChardev {
    std::string location;                // "-chardev ..." or "" for a default
    std::optional<std::string> backend;  // nullopt: none given
    ChardevConfig dev;                   // id empty: none given
};

// A monitor as read from -mon, -monitor, -qmp or -qmp-pretty; checked once
// the chardevs exist, as QEMU does.
struct PendingMonitor {
    std::string location;
    std::optional<std::string> chardev;
    std::string mode = "readline";
    bool pretty = false;
};

// An option whose key=value list is kept for the checks made once every
// option is read (-drive, -device).
struct PendingOpts {
    std::string location;
    std::vector<qopts::OptPair> pairs;
};

// A -device of a CPU type, in its place among the devices (its anonymous
// number), checked once -cpu is known (config/cpu_device.h).
struct PendingCpuDevice {
    std::string location;
    std::vector<qopts::OptPair> pairs;
    unsigned anonymous_number = 0;
};

// A -blockdev's keys, dotted, from either syntax (json_keys.h).
struct PendingBlockdev {
    std::string location;
    std::vector<TypedKey> keys;
    bool json = false;  // the JSON syntax: values keep their JSON types
};

// A -object secret or memory-backend-*, its properties read once every
// option is (the machine's dump-guest-core and mem-merge are their defaults).
struct PendingObject {
    std::string location;
    std::string type;
    std::string id;
    std::vector<TypedKey> keys;  // without qom-type and id
    bool json = false;
};

// A NIC the board creates for -nic or -net nic (QEMU's NICInfo).
struct NicRequest {
    std::string location;
    std::string model;                 // "" : the board's default (e1000)
    std::string netdev;                // the backend or hub port it uses
    std::optional<MacAddress> mac;
    std::string addr, vectors;         // -net nic's
};

// One -global: a property value for every device of a type.
struct GlobalProperty {
    std::string location;
    std::string driver;
    std::string property;
    std::string value;
};

struct ParseState {
    Config cfg;

    // Options whose repeated uses merge key by key (later keys win).
    std::vector<qopts::OptPair> smp_opts;
    std::vector<qopts::OptPair> machine_opts;
    std::vector<qopts::OptPair> rtc_opts;
    std::optional<std::string> mem_size_text;  // -m size= as typed (a bare number is MiB)
    std::optional<uint64_t> mem_slots;
    std::optional<uint64_t> mem_maxmem;

    std::optional<LocatedText> cpu;         // last -cpu wins
    std::optional<LocatedText> log_items;   // last -d wins
    std::vector<LocatedText> serials;       // every -serial, in order
    std::vector<LocatedText> debugcons;     // every -debugcon, in order
    std::vector<PendingChardev> chardevs;   // -chardev and -monitor/-qmp ones, in order
    std::vector<PendingMonitor> monitors;   // -mon, -monitor, -qmp, in order
    std::vector<std::string> monitor_ids;   // QEMU's "mon" option ids, for duplicates
    unsigned monitor_index = 0;             // N of the next "compat_monitorN"
    bool default_monitor = true;            // cleared by -monitor, -qmp, -mon
    std::map<std::string, unsigned> chardev_users;  // frontends per created chardev id
    struct AccelArg {
        std::string location;  // "-accel kvm,..." or "-enable-kvm"
        std::string name;
        std::vector<qopts::OptPair> properties;
    };
    std::vector<AccelArg> accels;           // -accel and -enable-kvm, in order
    bool kernel_given = false;
    bool initrd_given = false;
    bool append_given = false;

    bool machine_help = false;
    bool cpu_help = false;
    bool accel_help = false;
    bool display_help = false;
    bool vga_help = false;
    std::optional<VgaKind> vga;             // last -vga wins
    std::vector<LocatedText> usb_devices;   // -usbdevice, in order
    bool log_help = false;
    bool chardev_help = false;
    std::optional<std::string> device_help;  // "" for -device help, else the driver
    std::optional<std::string> object_help;  // "" for -object help, else the type

    std::vector<PendingOpts> sandboxes;  // -sandbox, in order
    std::vector<PendingOpts> netdevs;  // -netdev, in order
    std::vector<PendingOpts> nics;     // -nic, in order
    std::vector<PendingOpts> nets;     // -net, in order
    bool default_net = true;           // cleared by -netdev, -nic, -net
    bool netdev_help = false;
    bool nic_model_help = false;
    unsigned generated_net_ids = 0;    // QEMU's "#netN.." counter
    std::map<int, unsigned> hub_ports; // ports made on each hub so far
    std::vector<NicRequest> board_nics;
    std::vector<PendingOpts> drives;   // -drive, in order
    std::vector<PendingBlockdev> blockdevs;       // -blockdev, in order
    std::vector<DriveConfig> blockdev_drives;     // their root nodes, after the -drive ones in cfg.drives
    std::vector<std::string> block_node_names;    // every named -blockdev node
    std::vector<PendingOpts> devices;  // -device, in order
    std::vector<PendingCpuDevice> cpu_devices;  // the CPU ones among them
    std::vector<GlobalProperty> globals;  // -global, in order
    std::vector<PendingObject> objects;   // -object secret / memory-backend-*, in order
    std::vector<std::string> object_ids;  // every -object id, for duplicates
    std::optional<std::string> memdev;    // -machine memory-backend=
    bool msg_timestamp = false;           // -msg timestamp=
    bool msg_guest_name = false;          // -msg guest-name=

    void warn(const std::string& location, const std::string& text) {
        cfg.warnings.push_back(location.empty() ? "warning: " + text
                                                : location + ": warning: " + text);
    }
    void warn_at_creation(const std::string& text) { cfg.creation_warnings.push_back("warning: " + text); }
};

// Runs `fn`, prefixing any ConfigError it throws with "<location>: "
// (nothing for an empty location: a default device has none in QEMU).
template <typename Fn>
auto at_location(const std::string& location, Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const ConfigError& e) {
        if (location.empty())
            throw;
        throw ConfigError(location + ": " + e.what());
    }
}

// Splits a QemuOpts value (no key check) and records deprecation warnings
// for short-form booleans.
std::vector<qopts::OptPair> split_unchecked(ParseState& st, const ArgToken& tok,
                                            std::string_view implied_key);

// Splits a QemuOpts value, checks its keys against `allowed` ("Invalid
// parameter 'x'") and records deprecation warnings for short-form booleans.
std::vector<qopts::OptPair> split_checked(ParseState& st, const ArgToken& tok,
                                          std::string_view implied_key,
                                          std::initializer_list<std::string_view> allowed);

// QEMU's -d item names. Items about TCG or user-mode emulation are accepted
// so that command lines keep working, but kestrel (KVM only) logs nothing.
struct LogItem {
    std::string_view name;
    std::string_view description;
    bool no_effect;  // TCG or user-mode only: kestrel has nothing to log
};
std::span<const LogItem> log_item_table();

// Option handlers (one per option; -M shares -machine's).
void handle_memory(ParseState& st, const ArgToken& tok);          // -m
void handle_smp(ParseState& st, const ArgToken& tok);             // -smp
void handle_machine(ParseState& st, const ArgToken& tok);         // -machine, -M
void handle_accel(ParseState& st, const ArgToken& tok);           // -accel
void handle_enable_kvm(ParseState& st, const ArgToken& tok);      // -enable-kvm
void handle_serial(ParseState& st, const ArgToken& tok);          // -serial
void handle_chardev(ParseState& st, const ArgToken& tok);         // -chardev
void handle_monitor(ParseState& st, const ArgToken& tok);         // -monitor
void handle_qmp(ParseState& st, const ArgToken& tok);             // -qmp
void handle_qmp_pretty(ParseState& st, const ArgToken& tok);      // -qmp-pretty
void handle_mon(ParseState& st, const ArgToken& tok);             // -mon
void handle_display(ParseState& st, const ArgToken& tok);         // -display
void handle_rtc(ParseState& st, const ArgToken& tok);             // -rtc
void handle_name(ParseState& st, const ArgToken& tok);            // -name
void handle_uuid(ParseState& st, const ArgToken& tok);            // -uuid
bool is_uuid(const std::string& s);                                // QEMU's UUID text form
void handle_smbios(ParseState& st, const ArgToken& tok);          // -smbios (options_smbios.cpp)
void handle_log_items(ParseState& st, const ArgToken& tok);       // -d
void handle_drive(ParseState& st, const ArgToken& tok);           // -drive
void handle_blockdev(ParseState& st, const ArgToken& tok);        // -blockdev (options_blockdev.cpp)
void handle_hd(ParseState& st, const ArgToken& tok);              // -hda .. -hdd
void handle_boot(ParseState& st, const ArgToken& tok);            // -boot (options_boot.cpp)
void finalize_boot_order(ParseState& st);
void handle_cdrom(ParseState& st, const ArgToken& tok);           // -cdrom: index=2,media=cdrom
// -hdX and a bare image argument: -drive file=FILE,index=N,media=disk.
void add_hard_disk(ParseState& st, const std::string& location, const std::string& file, unsigned index);
void handle_device(ParseState& st, const ArgToken& tok);          // -device
void handle_object(ParseState& st, const ArgToken& tok);          // -object
void handle_msg(ParseState& st, const ArgToken& tok);             // -msg (options_process.cpp)
void handle_overcommit(ParseState& st, const ArgToken& tok);      // -overcommit
void handle_audiodev(ParseState& st, const ArgToken& tok);        // -audiodev
void apply_message_options(const ParseState& st);                 // -msg, once every option is read
void handle_global(ParseState& st, const ArgToken& tok);          // -global
void handle_sandbox(ParseState& st, const ArgToken& tok);         // -sandbox
void handle_runas(ParseState& st, const ArgToken& tok);           // -runas
void handle_fw_cfg(ParseState& st, const ArgToken& tok);          // -fw_cfg
void handle_option_rom(ParseState& st, const ArgToken& tok);      // -option-rom
void handle_add_fd(ParseState& st, const ArgToken& tok);          // -add-fd
void handle_action(ParseState& st, const ArgToken& tok);          // -action
void handle_debugcon(ParseState& st, const ArgToken& tok);        // -debugcon
void handle_netdev(ParseState& st, const ArgToken& tok);          // -netdev
void handle_nic(ParseState& st, const ArgToken& tok);             // -nic
void handle_net(ParseState& st, const ArgToken& tok);             // -net
void handle_vga(ParseState& st, const ArgToken& tok);             // -vga
void handle_vnc(ParseState& st, const ArgToken& tok);             // -vnc
void handle_keyboard_layout(ParseState& st, const ArgToken& tok); // -k
void handle_usb(ParseState& st, const ArgToken& tok);             // -usb
void handle_usbdevice(ParseState& st, const ArgToken& tok);       // -usbdevice
// A VNC server from "-vnc TEXT" or "-display vnc=TEXT" (one only).
void add_vnc(ParseState& st, const std::string& location, const std::string& text);

// Checks done after all options are read, in QEMU's order.
void check_boot_options(const ParseState& st);  // -append/-initrd need -kernel
void finalize_sandbox(ParseState& st);
void finalize_log_items(ParseState& st);
void finalize_machine(ParseState& st);
void finalize_accel(ParseState& st);
void check_none_machine(ParseState& st);
void finalize_rtc(ParseState& st);
void finalize_memory(ParseState& st);
void finalize_smp(ParseState& st);
void finalize_monitors(ParseState& st);  // chardevs, then monitors
void finalize_serials(ParseState& st);
void finalize_debugcons(ParseState& st);  // after the serials, before the devices
void finalize_cpu(ParseState& st);
void finalize_cpu_devices(ParseState& st);  // after finalize_cpu
void finalize_boot_files(ParseState& st);
// QEMU's qemu_find_file: `name` itself when readable, else the first
// readable DIR/name in `dirs` (-L), then in the system's firmware
// directories; "" when there is none.
std::string find_data_file(const std::vector<std::string>& dirs, const std::string& name);
void finalize_block_devices(ParseState& st);  // -object, -drive, -netdev/-nic/-net, -device
void finalize_net(ParseState& st);            // -netdev, -nic, -net (options_net.cpp)
void add_net_warnings(ParseState& st);        // QEMU's "has no peer" and hub warnings, once devices exist
// The device type of a -nic / -net nic model ("virtio" is virtio-net-pci);
// throws ConfigError "Unsupported NIC model: X".
const DeviceType& nic_type(const std::string& model);
void finalize_display(ParseState& st);  // the default VGA and VNC

// Informational output (help_text.cpp).
void print_version(std::ostream& out);
void print_usage(std::ostream& out, const std::string& program);
void print_machine_help(std::ostream& out);
void print_cpu_help(std::ostream& out);
void print_accel_help(std::ostream& out);
void print_display_help(std::ostream& out);
void print_vga_help(std::ostream& out);
void print_log_help(std::ostream& out);
void print_chardev_help(std::ostream& out);
void print_netdev_help(std::ostream& out);
void print_nic_model_help(std::ostream& out);

} // namespace kestrel
