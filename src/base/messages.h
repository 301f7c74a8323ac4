#pragma once
// -msg: what QEMU puts before its error and warning messages. With
// timestamp=on, the UTC time as "2026-12-04T03:20:43.342012Z "; with
// guest-name=on, the -name guest name and a space.
#include <string>

namespace kestrel {

void set_message_timestamp(bool on);
void set_message_guest_name(const std::string& name);  // empty: none
// The prefix for a message printed now ("" with no -msg options).
std::string message_prefix();
// The same as an spdlog pattern (UTC time), for the stderr logger.
std::string message_prefix_pattern();

} // namespace kestrel
