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
