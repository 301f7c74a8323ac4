#pragma once
// Internal to src/config: chardev option lists (QEMU 7.2's "chardev"
// QemuOpts, shared by -chardev and the shorthands of -serial, -monitor and
// -qmp), and the checks QEMU makes when it creates each backend.
#include "config/parse_state.h"

#include <string>
#include <string_view>

namespace kestrel {

// QEMU's identifiers (option ids): a letter, then letters, digits, '-',
// '.' and '_'.
bool is_qemu_identifier(std::string_view id);

// Parses `text` as a chardev option list and applies it to `pending`, with
// the checks QEMU makes while reading the command line: known keys
// ("Invalid parameter 'x'"), typed values (booleans are stored as on/off,
// numbers in decimal) and the id ("Parameter 'id' expects an identifier").
// `implied_key` names the first element's key when it has none: "backend"
// for -chardev, "path" after "unix:", "" after "tcp:HOST:PORT,".
// Short-form booleans ("server", "nowait") add QEMU's deprecation warning
// for `location`. Errors are thrown without location.
void apply_chardev_options(ParseState& st, const std::string& location, std::string_view text,
                           std::string_view implied_key, PendingChardev& pending);

// Sets one option the way the shorthands do (no checks: values are valid).
void set_chardev_option(PendingChardev& pending, const std::string& key, const std::string& value);

// Whether a chardev (read or created) already has this id.
bool chardev_id_taken(const ParseState& st, const std::string& id);

// "Duplicate ID 'x' for chardev" when `id` is taken.
void check_chardev_id_free(const ParseState& st, const std::string& id);

// Creates the backend as QEMU does once all options are read: checks the id,
// the backend name and its options, then appends it to cfg.chardevs.
// Throws ConfigError without location (callers add it).
void create_chardev(ParseState& st, const PendingChardev& pending);

// Claims a created chardev for one more frontend (serial port or monitor).
// Returns false when no chardev has this id; throws "Device 'x' is in use"
// when a plain chardev already has its frontend or a mux has four.
bool attach_frontend(ParseState& st, const std::string& id);

// QEMU's shorthand for a chardev, as -serial, -monitor and -qmp take it
// (chardev_shorthand.cpp): "stdio", "null", "pty", "file:PATH", "pipe:PATH",
// "unix:PATH[,opts]", "tcp:[HOST]:PORT[,opts]",
// "udp:[HOST]:PORT[@[LOCALADDR]:LOCALPORT]", with an optional "mon:" prefix
// (mux=on; for stdio also signal=off). The chardev gets the id `label`
// ("Duplicate ID" if taken). Returns nullopt where QEMU fails without saying
// why (the caller reports it); throws ConfigError for the other errors.
std::optional<PendingChardev> parse_chardev_shorthand(ParseState& st, const std::string& location,
                                                      const std::string& label,
                                                      const std::string& text);

// The chardev backends kestrel provides, in QEMU's "-chardev help" order.
std::span<const std::string_view> chardev_backend_names();

} // namespace kestrel
