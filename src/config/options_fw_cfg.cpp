// -fw_cfg [name=]NAME,file=PATH|string=TEXT: a file the guest's firmware
// (or a test kernel) reads from fw_cfg. Checked and read as QEMU does, with
// its messages; the contents are read here so that a missing file stops
// kestrel before any side effect.
#include "config/file_contents.h"
#include "config/parse_state.h"
#include "devices/fw_cfg/fw_cfg_keys.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

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

} // namespace kestrel
