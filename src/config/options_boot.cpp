// -boot [order=]drives][,once=drives][,menu=on|off][,splash-time=ms]
//       [,reboot-timeout=ms][,strict=on|off] as QEMU 7.2's pc reads it:
// what the BIOS gets in CMOS (the order) and fw_cfg (menu, times, strict).
#include "config/parse_state.h"

#include <string>

namespace kestrel {
namespace {

// QEMU's validate_bootdevices: letters a-p, each once.
void check_boot_devices(const std::string& devices) {
    for (size_t i = 0; i < devices.size(); ++i) {
        const char c = devices[i];
        if (c < 'a' || c > 'p')
            throw ConfigError(std::string("Invalid boot device '") + c + "'");
        if (devices.find(c) != i)
            throw ConfigError(std::string("Boot device '") + c + "' was given twice");
    }
}

// The pc has floppies (a, b), disks (c), CD-ROMs (d) and the network (n),
// three of them at most in CMOS.
void check_pc_boot_devices(const std::string& devices) {
    for (char c : devices)
        if (c != 'a' && c != 'b' && c != 'c' && c != 'd' && c != 'n')
            throw ConfigError(std::string("Invalid boot device for PC: '") + c + "'");
    if (devices.size() > 3)
        throw ConfigError("Too many boot devices for PC");
}

int64_t signed_number(const qopts::OptPair& p) {
    const std::string& v = p.value;
    const bool negative = !v.empty() && v[0] == '-';
    std::optional<uint64_t> n = qopts::to_u64(negative ? v.substr(1) : v);
    if (!n || *n > 0x7fffffff)
        throw ConfigError("Parameter 'boot." + p.key + "' expects a number");
    return negative ? -int64_t(*n) : int64_t(*n);
}

} // namespace

// QEMU reports -boot's errors without the option's text.
void handle_boot(ParseState& st, const ArgToken& tok) {
    BootConfig& boot = st.cfg.boot;
    {
        for (const qopts::OptPair& p : qopts::split(*tok.value, "order", qopts::Syntax::QemuOpts).pairs) {
            if (p.key == "order") {
                check_boot_devices(p.value);
                boot.order = p.value;
            } else if (p.key == "once") {
                check_boot_devices(p.value);
                boot.once = p.value;
            } else if (p.key == "menu") {
                boot.menu = qopts::parse_bool("boot.menu", p.value);
            } else if (p.key == "strict") {
                boot.strict = qopts::parse_bool("boot.strict", p.value);
            } else if (p.key == "splash-time") {
                boot.splash_time = signed_number(p);
            } else if (p.key == "reboot-timeout") {
                boot.reboot_timeout = signed_number(p);
            } else {
                throw ConfigError("Parameter 'boot." + p.key + "' is unexpected");
            }
        }
    }
}

// QEMU checks the ranges when the machine is built, after the command line.
void finalize_boot_order(ParseState& st) {
    const BootConfig& boot = st.cfg.boot;
    check_pc_boot_devices(boot.order);
    check_pc_boot_devices(boot.once);
    if (boot.reboot_timeout < -1 || boot.reboot_timeout > 0xffff)
        throw ConfigError("reboot timeout is invalid,it should be a value between -1 and 65535");
    if (boot.menu && boot.splash_time && (*boot.splash_time < 0 || *boot.splash_time > 0xffff))
        throw ConfigError("splash-time is invalid,it should be a value between 0 and 65535");
}

} // namespace kestrel
