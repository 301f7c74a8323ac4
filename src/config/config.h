#pragma once
// The parsed command line as plain values. Parsing (src/config/) fills this;
// nothing else reads argv. Defaults are QEMU's for the pc machine.
#include "base/fd_sets.h"
#include "base/iothread_config.h"
#include "base/privileges.h"
#include "base/sandbox.h"
#include "block/drive_config.h"
#include "chardev/chardev_config.h"
#include "devices/device_config.h"
#include "devices/rtc/rtc_config.h"
#include "kvm/memory_config.h"
#include "net/netdev_config.h"
#include "config/smbios_config.h"
#include "ui/vnc_config.h"
#include "vcpu/cpu_config.h"

#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {

struct MachineConfig {
    std::string type = "pc";
    std::string accel = "kvm";
};

struct BootConfig {
    std::string kernel;
    std::string initrd;
    std::string append;
    std::string bios;                    // -bios as given; empty: bios-256k.bin
    std::vector<std::string> data_dirs;  // -L, searched first
    std::string firmware;                // the BIOS file to run; empty with -kernel
    std::string bios_path;               // that file, found also with -kernel (SMBIOS type 0 names its version)
    // -boot: the BIOS's order (CMOS) and, for the first boot only, once=;
    // the boot menu and its wait (ms), the retry time after no device was
    // found (ms, -1: never), strict (no fallback to other devices).
    std::string order = "cad";
    std::string once;
    bool menu = false;
    std::optional<int64_t> splash_time;
    int64_t reboot_timeout = -1;
    bool strict = false;
};

// One monitor (-monitor, -qmp, -qmp-pretty, -mon, -nographic's default):
// which chardev it talks over and in which mode.
struct MonitorConfig {
    std::string chardev;    // a ChardevConfig id
    bool control = false;   // mode=control: QMP; otherwise HMP (readline)
    bool pretty = false;    // QMP pretty-printed JSON
};



// One -fw_cfg file, its contents read while the command line is parsed.
struct FwCfgFileConfig {
    std::string location;  // "-fw_cfg name=opt/x,string=y", for later errors
    std::string name;
    std::vector<uint8_t> data;
};

// One -option-rom: a ROM the firmware finds in fw_cfg as "genroms/NAME".
struct OptionRomConfig {
    std::string file;                  // as given; found like the BIOS when used
    std::optional<int64_t> bootindex;  // "/rom@genroms/NAME" in bootorder
};

// One -object secret: its value, decoded (and decrypted) as QEMU does.
struct SecretConfig {
    std::string id;
    std::string value;
};

// One -object rng-random (a file) or rng-builtin (getrandom).
struct RngObjectConfig {
    std::string id;
    std::string filename;  // rng-random's; empty for rng-builtin
    bool builtin = false;
};

enum class DisplayKind { Default, None, Nographic };

// -action panic=: what a guest panic (pvpanic, KVM's crash event) does.
enum class PanicAction { Pause, Shutdown, ExitFailure, None };
// The board's VGA card (-vga): QEMU's default is std, unless -nodefaults or
// a display device given with -device.
enum class VgaKind { None, Std, Cirrus };

struct Config {
    std::string program;     // basename of argv[0], the prefix of messages
    MemoryConfig memory;
    SmpConfig smp;
    CpuConfig cpu;
    MachineConfig machine;
    BootConfig boot;
    // Every chardev backend in command-line order: -chardev ones and those
    // the shorthands imply. Ids are unique. The lead opens them all.
    std::vector<ChardevConfig> chardevs;
    // COM1..COM4 in order: the chardev id each port uses; empty = no port.
    std::vector<std::string> serials;
    // Monitors in command-line order. -nographic without -nodefaults puts
    // an HMP on stdio (muxed with serial0 when no -serial is given).
    std::vector<MonitorConfig> monitors;
    RtcConfig rtc;
    std::vector<DriveConfig> drives;        // -drive, in command-line order
    // Network backends in QEMU's creation order: -netdev, then those -nic
    // and -net imply (the hub ports of -net too).
    std::vector<NetdevConfig> netdevs;
    // The board's own devices (devices/pc_layout.h), then -device and the
    // devices -drive if=virtio implies, each in creation order.
    std::vector<DeviceConfig> board_devices;
    std::vector<DeviceConfig> devices;
    std::vector<IothreadConfig> iothreads;  // -object iothread, in command-line order
    std::vector<SecretConfig> secrets;      // -object secret, in command-line order
    std::vector<RngObjectConfig> rng_objects;  // -object rng-random|rng-builtin, in command-line order
    // -object memory-backend-*, in command-line order; the one -machine
    // memory-backend= names is also memory.backend (guest RAM).
    std::vector<MemoryBackendConfig> memory_backends;
    bool mem_lock = false;  // -overcommit mem-lock=on: mlockall() before the guest runs
    bool cpu_pm = false;    // -overcommit cpu-pm=on: the guest's HLT/MWAIT/PAUSE do not exit
    std::vector<std::string> audiodevs;  // -audiodev ids (driver none: no sound device uses them)
    std::vector<FwCfgFileConfig> fw_cfg_files;  // -fw_cfg, in command-line order
    std::vector<OptionRomConfig> option_roms;   // -option-rom, in command-line order
    std::vector<AddFdConfig> add_fds;           // -add-fd, in command-line order
    DisplayKind display = DisplayKind::Default;
    VgaKind vga = VgaKind::None;   // after the defaults are applied
    // The VNC server (-vnc, -display vnc=, or QEMU's default display).
    std::optional<VncConfig> vnc;
    std::string keyboard_layout = "en-us";  // -k
    bool usb = false;  // -usb, -machine usb=on, -usbdevice: piix3-usb-uhci at 01.2
    std::string name;        // -name guest=
    std::string process_name;  // -name process=
    bool debug_threads = false;  // -name debug-threads=on
    std::string uuid;        // canonical lower-case text, empty if not given (-uuid, -smbios type=1,uuid=)
    SmbiosConfig smbios;     // -smbios, -machine smbios-entry-point-type
    bool snapshot = false;   // -snapshot: snapshot=on for every -drive that does not say
    bool no_reboot = false;    // -no-reboot, -action reboot=shutdown
    bool no_shutdown = false;  // -no-shutdown, -action shutdown=pause
    PanicAction panic_action = PanicAction::Shutdown;  // QEMU 7.2's default
    std::string watchdog_action = "reset";  // -action watchdog= (kestrel has no watchdog device yet)
    bool start_paused = false;  // -S
    bool daemonize = false;
    bool nodefaults = false;
    std::string pidfile;
    std::string logfile;     // -D
    SandboxConfig sandbox;   // every -sandbox merged: what any of them denies
    std::optional<RunAs> runas;  // -runas, resolved while parsing as QEMU does
    std::string chroot_dir;  // -chroot
    std::vector<std::string> log_items;  // -d item,item ("all" expanded)
    // Non-fatal diagnostics (QEMU's deprecation warnings), each one line;
    // main prints them as "<program>: <warning>".
    std::vector<std::string> warnings;
    // Printed once the machine exists (QEMU's net_check_clients): after any
    // error of opening a backend, which comes first.
    std::vector<std::string> creation_warnings;
};

} // namespace kestrel
