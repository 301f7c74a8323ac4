#include "chardev/chardev_options.h"

#include <stdexcept>

namespace kestrel {

bool bool_option(const ChardevConfig& cfg, const std::string& name, bool fallback) {
    auto v = text_option(cfg, name);
    if (!v) return fallback;
    if (*v == "on" || *v == "yes" || *v == "true" || *v == "y") return true;
    if (*v == "off" || *v == "no" || *v == "false" || *v == "n") return false;
    throw std::runtime_error("Parameter '" + name + "' expects 'on' or 'off'");
}

std::optional<std::string> text_option(const ChardevConfig& cfg, const std::string& name) {
    auto it = cfg.options.find(name);
    if (it == cfg.options.end()) return std::nullopt;
    return it->second;
}

long number_option(const ChardevConfig& cfg, const std::string& name, long fallback) {
    auto v = text_option(cfg, name);
    if (!v) return fallback;
    size_t used = 0;
    long n = 0;
    try {
        n = std::stol(*v, &used, 10);
    } catch (const std::exception&) {
        used = 0;
    }
    if (v->empty() || used != v->size() || n < 0)
        throw std::runtime_error("Parameter '" + name + "' expects a number");
    return n;
}

std::string path_option(const ChardevConfig& cfg) {
    if (!cfg.path.empty()) return cfg.path;
    return text_option(cfg, "path").value_or("");
}

} // namespace kestrel
