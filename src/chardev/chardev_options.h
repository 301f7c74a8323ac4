#pragma once
// Reading a ChardevConfig's options the way QEMU's chardev code does.
#include "chardev/chardev_config.h"

#include <optional>
#include <string>

namespace kestrel {

// on/off (and QEMU's other spellings); `fallback` when absent. Throws
// "Parameter 'NAME' expects 'on' or 'off'".
bool bool_option(const ChardevConfig& cfg, const std::string& name, bool fallback);

// The option's text, or nullopt when absent.
std::optional<std::string> text_option(const ChardevConfig& cfg, const std::string& name);

// A decimal number; `fallback` when absent. Throws "Parameter 'NAME'
// expects a number".
long number_option(const ChardevConfig& cfg, const std::string& name, long fallback);

// cfg.path, else options["path"] (empty when neither).
std::string path_option(const ChardevConfig& cfg);

} // namespace kestrel
