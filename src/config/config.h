#pragma once
// The parsed command line as plain values. Parsing (src/config/) fills this;
// nothing else reads argv. Defaults are QEMU's for the pc machine.
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {

struct MemoryConfig {
    uint64_t size = 128ull << 20;  // QEMU's default -m 128M
    bool prealloc = false;         // -mem-prealloc
    std::string mem_path;          // -mem-path (hugetlbfs or any directory/file)
    unsigned slots = 0;            // -m slots= (memory hotplug slots)
    uint64_t maxmem = 128ull << 20;  // -m maxmem=; equals size when not given
};

struct SmpConfig {
    unsigned cpus = 1;
    unsigned sockets = 1;
    unsigned dies = 1;
    unsigned cores = 1;
    unsigned threads = 1;
    unsigned maxcpus = 1;
};

struct CpuConfig {
    std::string model = "qemu64";  // host | max | qemu64 | kvm64
    // Canonical names (see config/cpu_features.h); true = enable. Apply in
    // order: the parser stores them in QEMU's precedence order (feat=on|off
    // in command-line order, then every +feat, then every -feat), so the
    // last entry for a name is the one QEMU would use.
    std::vector<std::pair<std::string, bool>> features;
};

struct MachineConfig {
    std::string type = "pc";
    std::string accel = "kvm";
};

struct BootConfig {
    std::string kernel;
    std::string initrd;
    std::string append;
};

// A character device backend: one -chardev, or one that -serial, -monitor,
// -qmp or -nographic implies (QEMU names those "serial0", "compat_monitor0",
// ...). `backend` is QEMU's driver name: null, stdio, file, pipe, pty,
// socket, udp. Everything else the user gave is in `options` with QEMU's
// key names, values as typed: path, append, signal, host, port, server,
// wait, reconnect, localaddr, localport, ipv4, ipv6, ... (bare legacy
// booleans such as "server" or "nowait" are stored as server=on / wait=off).
struct ChardevConfig {
    std::string id;         // label, e.g. "serial0" or the -chardev id=
    std::string backend;    // "stdio", "null", "file", "socket", ...
    std::string path;       // file:, pipe:, socket path= (also in options)
    bool mux = false;       // mux=on / "mon:" prefix: shared by several frontends
    // The option as typed ("-qmp unix:/tmp/q,server=on"): QEMU's prefix of
    // open errors and notices; empty for a default chardev.
    std::string location;
    std::map<std::string, std::string> options;  // backend-specific extras
};

// One monitor (-monitor, -qmp, -qmp-pretty, -mon, -nographic's default):
// which chardev it talks over and in which mode.
struct MonitorConfig {
    std::string chardev;    // a ChardevConfig id
    bool control = false;   // mode=control: QMP; otherwise HMP (readline)
    bool pretty = false;    // QMP pretty-printed JSON
};

struct RtcConfig {
    enum class Base { Utc, Localtime, Date };
    Base base = Base::Utc;
    std::time_t date = 0;    // with Base::Date: seconds since the epoch (UTC)
    std::string clock = "host";     // host | rt | vm
    std::string driftfix = "none";  // none | slew
};

// One -drive (QEMU 7.2's legacy drive options). kestrel has virtio and
// none interfaces only; IDE, floppy, SCSI, ... are refused while parsing.
// Nothing here has been opened: missing files are the opener's to report.
struct DriveConfig {
    std::string location;       // "-drive file=...": the prefix of open-time errors
    std::string id;             // id=, else QEMU's implied "virtio<N>" / "none<N>" (N = index)
    std::string interface;      // "virtio" | "none"
    unsigned index = 0;         // index=, else the first free one on that interface
    std::string file;           // empty only for an empty if=none drive (no device may use it)
    // "raw", or empty when format= was not given: the opener probes and,
    // finding a raw image, prints image_probe_warning(file) (drive_opts.h).
    std::string format;
    // cache= as QEMU resolves it (writeback: writeback on; none: direct;
    // writethrough: writeback off; directsync: direct, writeback off;
    // unsafe: no-flush), then cache.writeback/direct/no-flush= override.
    bool cache_writeback = true;
    bool cache_direct = false;
    bool cache_no_flush = false;
    std::string aio = "threads";     // threads | native | io_uring
    bool read_only = false;          // readonly=on
    bool snapshot = false;           // snapshot=on: writes go to a temporary copy
    std::string discard = "ignore";  // ignore | unmap (off/on are stored as these)
    std::string serial;              // legacy serial= (the device's default serial)
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

// One -object iothread.
struct IothreadConfig {
    std::string id;
    // The properties given (QEMU's defaults otherwise).
    std::optional<int64_t> poll_max_ns, poll_grow, poll_shrink;
    std::optional<int64_t> aio_max_batch, thread_pool_min, thread_pool_max;
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
