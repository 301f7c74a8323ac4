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

// A character device backend as named on the command line (-serial, later
// -chardev/-monitor). Only the fields a backend kind uses are set.
struct ChardevConfig {
    std::string id;         // label, e.g. "serial0"
    std::string backend;    // "stdio", "null", "file", ...
    std::string path;       // file: path
    bool mux = false;       // mon:stdio
    std::map<std::string, std::string> options;  // backend-specific extras
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
    std::vector<ChardevConfig> serials;  // COM1..COM4 in order; empty = none
    // HMP monitors the command line implies. -nographic puts one on stdio
    // when a -serial is given (without -serial, serial0 is "mon:stdio": mux).
    std::vector<ChardevConfig> monitors;
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
