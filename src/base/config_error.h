#pragma once
// A user's bad input (command line, -device property, -global), reported
// as QEMU reports it. what() is the message without the program prefix,
// e.g. "-m foo: Parameter 'size' expects a non-negative number below 2^64";
// main prints "<program>: <what()>" on stderr and exits with status 1.
#include <stdexcept>

namespace kestrel {

struct ConfigError : std::runtime_error {
    using runtime_error::runtime_error;
};

} // namespace kestrel
