// -rtc, -name, -uuid, -d/-D and the -kernel/-initrd/-append checks.
#include "config/parse_state.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace kestrel {

namespace {

constexpr LogItem kLogItems[] = {
    {"out_asm", "host code generated for each translated block", true},
    {"in_asm", "guest code of each translated block", true},
    {"op", "TCG intermediate code of each block", true},
    {"op_opt", "TCG intermediate code after optimisation", true},
    {"op_ind", "TCG intermediate code before indirect lowering", true},
    {"int", "interrupts and exceptions taken by the emulated CPU", true},
    {"exec", "a trace line before each executed block", true},
    {"cpu", "CPU registers before each executed block", true},
    {"fpu", "FPU registers too, with 'cpu'", true},
    {"mmu", "emulated MMU activity", true},
    {"pcall", "protected-mode far calls, returns and exceptions", true},
    {"cpu_reset", "CPU state before each CPU reset", false},
    {"unimp", "guest use of functionality kestrel does not implement", false},
    {"guest_errors", "guest mistakes such as accesses to registers that do not exist", false},
    {"page", "pages mapped at the start of user-mode emulation", true},
    {"nochain", "no chaining of translated blocks", true},
    {"plugin", "output of TCG plugins", true},
    {"strace", "system calls of a user-mode guest", true},
    {"tid", "one log file per thread; the -D file name must contain '%d'", false},
};

void set_rtc_base(RtcConfig& rtc, const std::string& base) {
    if (base == "utc") {
        rtc.base = RtcConfig::Base::Utc;
        return;
    }
    if (base == "localtime") {
        rtc.base = RtcConfig::Base::Localtime;
        return;
    }
    // As lenient as QEMU: sscanf's %d, out-of-range fields normalised.
    std::tm tm{};
    int fields = std::sscanf(base.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon,
                             &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
    if (fields != 6) {
        tm = std::tm{};
        fields = std::sscanf(base.c_str(), "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
        if (fields != 3)
            throw ConfigError("invalid datetime format");
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    std::time_t date = timegm(&tm);
    if (date == -1)
        throw ConfigError("invalid datetime format");
    rtc.base = RtcConfig::Base::Date;
    rtc.date = date;
}


std::vector<std::string> split_items(const std::string& text) {
    std::vector<std::string> items;
    size_t start = 0;
    while (true) {
        size_t comma = text.find(',', start);
        items.push_back(text.substr(start, comma - start));
        if (comma == std::string::npos)
            return items;
        start = comma + 1;
    }
}

void add_unique(std::vector<std::string>& list, std::string_view item) {
    if (std::find(list.begin(), list.end(), item) == list.end())
        list.emplace_back(item);
}

// Returns errno's text when `path` is not a readable file, else empty.
std::string unreadable_reason(const std::string& path, bool& is_directory) {
    struct stat sb{};
    is_directory = false;
    if (stat(path.c_str(), &sb) != 0)
        return std::strerror(errno);
    if (S_ISDIR(sb.st_mode)) {
        is_directory = true;
        return std::strerror(EISDIR);
    }
    if (access(path.c_str(), R_OK) != 0)
        return std::strerror(errno);
    return {};
}

// Debian's QEMU 7.2 searches these (qemu-system-x86_64 -L help).
constexpr const char* kSystemDataDirs[] = {"/usr/share/qemu", "/usr/share/seabios", "/usr/lib/ipxe/qemu"};
constexpr std::string_view kDefaultBios = "bios-256k.bin";

} // namespace

std::span<const LogItem> log_item_table() { return kLogItems; }

std::vector<std::string> parse_log_items(const std::string& text) {
    std::vector<std::string> items;
    for (const std::string& item : split_items(text)) {
        if (item == "all") {
            for (const LogItem& known : log_item_table())
                add_unique(items, known.name);
        } else if (item.starts_with("trace:")) {
            throw ConfigError("trace events are not supported by kestrel");
        } else if (std::none_of(log_item_table().begin(), log_item_table().end(),
                                [&](const LogItem& known) { return known.name == item; })) {
            throw ConfigError("unknown log item '" + item + "' (use -d help for a list)");
        } else {
            add_unique(items, item);
        }
    }
    return items;
}

void handle_rtc(ParseState& st, const ArgToken& tok) {
    auto pairs = split_checked(st, tok, "", {"base", "clock", "driftfix"});
    st.rtc_opts.insert(st.rtc_opts.end(), pairs.begin(), pairs.end());
}

void finalize_rtc(ParseState& st) {
    RtcConfig& rtc = st.cfg.rtc;
    for (const qopts::OptPair& p : st.rtc_opts) {
        if (p.key == "base")
            set_rtc_base(rtc, p.value);
    }
    for (const qopts::OptPair& p : st.rtc_opts) {
        if (p.key == "clock" && p.value != "host" && p.value != "rt" && p.value != "vm")
            throw ConfigError("invalid option value '" + p.value + "'");
        if (p.key == "clock")
            rtc.clock = p.value;
    }
    for (const qopts::OptPair& p : st.rtc_opts) {
        if (p.key == "driftfix" && p.value != "none" && p.value != "slew")
            throw ConfigError("invalid option value '" + p.value + "'");
        if (p.key == "driftfix")
            rtc.driftfix = p.value;
    }
}

void handle_name(ParseState& st, const ArgToken& tok) {
    auto pairs = split_checked(st, tok, "guest", {"guest", "process", "debug-threads"});
    at_location(tok.location(), [&] {
        for (const qopts::OptPair& p : pairs) {
            if (p.key == "guest")
                st.cfg.name = p.value;
            else if (p.key == "process")
                st.cfg.process_name = p.value;
            else
                st.cfg.debug_threads = qopts::parse_bool(p.key, p.value);
        }
    });
}

bool is_uuid(const std::string& s) {
    if (s.size() != 36)
        return false;
    for (size_t i = 0; i < s.size(); ++i) {
        bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_position ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i])))
            return false;
    }
    return true;
}

void handle_uuid(ParseState& st, const ArgToken& tok) {
    std::string uuid = *tok.value;
    if (!is_uuid(uuid))
        throw ConfigError(tok.location() + ": failed to parse UUID string: wrong format");
    std::transform(uuid.begin(), uuid.end(), uuid.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    st.cfg.uuid = uuid;
}

void handle_log_items(ParseState& st, const ArgToken& tok) {
    st.log_items = LocatedText{tok.location(), *tok.value};
}

void finalize_log_items(ParseState& st) {
    if (!st.log_items)
        return;
    std::vector<std::string>& items = st.cfg.log_items;
    items = at_location(st.log_items->location, [&] { return parse_log_items(st.log_items->text); });
    bool per_thread = std::find(items.begin(), items.end(), "tid") != items.end();
    if (per_thread && st.cfg.logfile.find("%d") == std::string::npos)
        throw ConfigError("Filename template with '%d' required for 'tid'");
}

void check_boot_options(const ParseState& st) {
    if (st.kernel_given)
        return;
    if (st.append_given)
        throw ConfigError("-append only allowed with -kernel option");
    if (st.initrd_given)
        throw ConfigError("-initrd only allowed with -kernel option");
}

std::string find_data_file(const std::vector<std::string>& search, const std::string& name) {
    bool is_directory = false;
    if (unreadable_reason(name, is_directory).empty())
        return name;
    std::vector<std::string> dirs = search;
    for (const char* dir : kSystemDataDirs)
        dirs.emplace_back(dir);
    for (const std::string& dir : dirs) {
        std::string path = dir + "/" + name;
        if (unreadable_reason(path, is_directory).empty())
            return path;
    }
    return {};
}

namespace {

// The BIOS is loaded only when no -kernel is given (a direct boot needs no
// firmware), but a -bios that cannot be found fails either way, as in QEMU.
void finalize_firmware(ParseState& st) {
    BootConfig& boot = st.cfg.boot;
    std::string name = boot.bios.empty() ? std::string(kDefaultBios) : boot.bios;
    std::string path = find_data_file(boot.data_dirs, name);
    boot.bios_path = path;
    if (st.kernel_given && boot.bios.empty())
        return;
    if (path.empty())
        throw ConfigError("could not load PC BIOS '" + name + "'");
    if (!st.kernel_given)
        boot.firmware = path;
}

} // namespace

void finalize_boot_files(ParseState& st) {
    finalize_firmware(st);
    if (!st.kernel_given)
        return;
    const BootConfig& boot = st.cfg.boot;
    bool is_directory = false;
    std::string reason = unreadable_reason(boot.kernel, is_directory);
    if (is_directory)
        throw ConfigError("could not load kernel '" + boot.kernel + "': " + reason);
    if (!reason.empty())
        throw ConfigError("could not open kernel file '" + boot.kernel + "': " + reason);
    // -initrd is one file for Linux and PVH kernels but a module list for
    // multiboot ones: the loader of the kernel's format checks it.
}

} // namespace kestrel
