#pragma once
// The parsed command line as plain values. Parsing (src/config/) fills this;
// nothing else reads argv. Defaults are QEMU's for the pc machine.
#include "base/iothread_config.h"
#include "block/drive_config.h"
#include "chardev/chardev_config.h"
#include "devices/rtc/rtc_config.h"
#include "kvm/memory_config.h"
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
};

// One monitor (-monitor, -qmp, -qmp-pretty, -mon, -nographic's default):
// which chardev it talks over and in which mode.
struct MonitorConfig {
    std::string chardev;    // a ChardevConfig id
    bool control = false;   // mode=control: QMP; otherwise HMP (readline)
    bool pretty = false;    // QMP pretty-printed JSON
};


// One PCI device kestrel creates: a -device, or the one a -drive if=virtio
// implies. Config::devices is in QEMU's creation order, which is also the
// order devices without addr= take free PCI slots (the lowest free slot,
// function 0): every -device in command-line order, then the implied
// devices of the if=virtio drives in -drive order.
struct DeviceConfig {
    std::string location;          // "-device ..." (for implied ones: the -drive's)
    std::string driver;            // "virtio-blk-pci" (alias "virtio-blk" is resolved)
    std::string id;                // id=, "" when none (QEMU's peripheral-anon)
    bool implied = false;          // created for a -drive if=virtio
    std::string drive;             // a DriveConfig id
    std::optional<int> bootindex;  // bootindex=
    // num-queues=; nullopt = QEMU's auto (65535): one queue per vCPU.
    std::optional<unsigned> num_queues;
    std::string iothread;          // an IothreadConfig id, "" for the main loop
    std::string serial;            // serial=, else the drive's serial=
    // addr=SLOT[.FN], else the slot QEMU would pick; always set once parsed.
    std::optional<unsigned> slot;
    unsigned function = 0;
};

enum class DisplayKind { Default, None, Nographic };

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
    std::vector<DeviceConfig> devices;      // PCI devices in creation order (see DeviceConfig)
    std::vector<IothreadConfig> iothreads;  // -object iothread, in command-line order
    DisplayKind display = DisplayKind::Default;
    std::string name;        // -name guest=
    std::string process_name;  // -name process=
    bool debug_threads = false;  // -name debug-threads=on
    std::string uuid;        // canonical lower-case text, empty if not given
    bool no_reboot = false;
    bool no_shutdown = false;
    bool start_paused = false;  // -S
    bool daemonize = false;
    bool nodefaults = false;
    std::string pidfile;
    std::string logfile;     // -D
    std::vector<std::string> log_items;  // -d item,item ("all" expanded)
    // Non-fatal diagnostics (QEMU's deprecation warnings), each one line;
    // main prints them as "<program>: <warning>".
    std::vector<std::string> warnings;
};

} // namespace kestrel
