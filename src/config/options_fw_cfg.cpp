// -fw_cfg [name=]NAME,file=PATH|string=TEXT: a file the guest's firmware
// (or a test kernel) reads from fw_cfg. Checked and read as QEMU does, with
// its messages; the contents are read here so that a missing file stops
// kestrel before any side effect.
#include "config/file_contents.h"
#include "config/parse_state.h"
#include "devices/fw_cfg/fw_cfg_keys.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kestrel {

void handle_fw_cfg(ParseState& st, const ArgToken& tok) {
    auto pairs = split_checked(st, tok, "name", {"name", "file", "string", "gen_id"});
    at_location(tok.location(), [&] {
        std::string name, file, text, gen_id;
        for (const qopts::OptPair& p : pairs)
            (p.key == "name" ? name : p.key == "file" ? file : p.key == "string" ? text : gen_id) = p.value;
        int sources = !file.empty() + !text.empty() + !gen_id.empty();
        if (name.empty() || sources != 1)
            throw ConfigError("name, plus exactly one of file, string and gen_id, are needed");
        if (name.size() > fwcfg::MAX_FILE_PATH - 1)
            throw ConfigError("name too long (max. " + std::to_string(fwcfg::MAX_FILE_PATH - 1) + " char)");
        if (!gen_id.empty()) throw ConfigError("Cannot find object ID '" + gen_id + "'");  // kestrel has no vmgenid
        if (name.compare(0, 4, "opt/") != 0)
            st.warn(tok.location(), "externally provided fw_cfg item names should be prefixed with \"opt/\"");
        for (const FwCfgFileConfig& other : st.cfg.fw_cfg_files)
            if (other.name == name) throw ConfigError("duplicate fw_cfg file name: " + name);
        std::vector<uint8_t> data = file.empty() ? std::vector<uint8_t>(text.begin(), text.end()) : read_file_contents(file, "can't load " + file);
        st.cfg.fw_cfg_files.push_back({tok.location(), name, std::move(data)});
    });
}

// -option-rom [romfile=]FILE[,bootindex=N]: QEMU reads the file when the
// machine starts and only warns if it cannot (see PcMachine).
void handle_option_rom(ParseState& st, const ArgToken& tok) {
    auto pairs = split_checked(st, tok, "romfile", {"romfile", "bootindex"});
    at_location(tok.location(), [&] {
        OptionRomConfig rom;
        for (const qopts::OptPair& p : pairs) {
            if (p.key == "romfile") rom.file = p.value;
            else rom.bootindex = qopts::parse_number(p.key, p.value);
        }
        if (rom.file.empty()) throw ConfigError("Option ROM file is not specified");
        st.cfg.option_roms.push_back(std::move(rom));
    });
}

namespace {
// QemuOpts numbers are unsigned; "-1" wraps, and QEMU then calls it negative.
int64_t signed_number(const qopts::OptPair& p) {
    bool negative = !p.value.empty() && p.value[0] == '-';
    uint64_t v = qopts::parse_number(p.key, negative ? p.value.substr(1) : p.value);
    return negative || v > uint64_t(INT64_MAX) ? -1 : int64_t(v);
}
} // namespace

// -add-fd fd=N,set=M[,opaque=TEXT]: an inherited fd for the fd set M,
// checked as QEMU checks it (a standard stream, or an fd that is not open
// or is close-on-exec, so not inherited, is refused).
void handle_add_fd(ParseState& st, const ArgToken& tok) {
    auto pairs = split_checked(st, tok, "", {"fd", "set", "opaque"});
    at_location(tok.location(), [&] {
        AddFdConfig a;
        for (const qopts::OptPair& p : pairs) {
            if (p.key == "opaque") a.opaque = p.value;
            else if (p.key == "fd") a.fd = int(std::min<int64_t>(signed_number(p), INT_MAX));
            else a.set = signed_number(p);
        }
        if (a.fd < 0) throw ConfigError("fd option is required and must be non-negative");
        if (a.fd <= STDERR_FILENO) throw ConfigError("fd cannot be a standard I/O stream");
        int flags = fcntl(a.fd, F_GETFD);
        if (flags == -1 || (flags & FD_CLOEXEC)) throw ConfigError("fd is not valid or already in use");
        if (a.set < 0) throw ConfigError("set option is required and must be non-negative");
        st.cfg.add_fds.push_back(a);
    });
}

} // namespace kestrel
