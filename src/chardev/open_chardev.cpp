#include "chardev/open_chardev.h"

#include "chardev/file_chardev.h"
#include "chardev/null_chardev.h"
#include "chardev/stdio_chardev.h"

#include <stdexcept>

namespace kestrel {

namespace {

// QEMU's boolean option values.
bool bool_option(const ChardevConfig& cfg, const std::string& name, bool fallback) {
    auto it = cfg.options.find(name);
    if (it == cfg.options.end()) return fallback;
    const std::string& v = it->second;
    if (v == "on" || v == "yes" || v == "true" || v == "y") return true;
    if (v == "off" || v == "no" || v == "false" || v == "n") return false;
    throw std::runtime_error("Parameter '" + name + "' expects 'on' or 'off'");
}

std::unique_ptr<Chardev> open_file(const ChardevConfig& cfg, EventLoop& loop) {
    std::string path = cfg.path;
    if (auto it = cfg.options.find("path"); path.empty() && it != cfg.options.end()) path = it->second;
    bool append = bool_option(cfg, "append", false);
    // An empty path fails in open() as "Could not open '': ...", as -serial
    // file: does in QEMU.
    return std::make_unique<FileChardev>(cfg.id, loop, path, append);
}

} // namespace

std::unique_ptr<Chardev> open_chardev(const ChardevConfig& cfg, EventLoop& loop) {
    if (cfg.backend == "null") return std::make_unique<NullChardev>(cfg.id);
    if (cfg.backend == "stdio") {
        bool allow_signals = bool_option(cfg, "signal", !cfg.mux);
        return std::make_unique<StdioChardev>(cfg.id, loop, allow_signals);
    }
    if (cfg.backend == "file") return open_file(cfg, loop);
    throw std::runtime_error("'" + cfg.backend + "' is not a valid char driver name");
}

} // namespace kestrel
