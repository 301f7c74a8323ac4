// -action reboot=,shutdown=,panic=,watchdog=: what the machine does when
// the guest reboots, shuts down, panics, or a watchdog fires. -no-reboot
// and -no-shutdown are its reboot=shutdown and shutdown=pause; the last
// word wins, as QEMU applies them in command-line order.
#include "config/parse_state.h"

#include <algorithm>
#include <array>

namespace kestrel {

namespace {

template <size_t N>
void check_value(const qopts::OptPair& p, const std::array<std::string_view, N>& accepted) {
    if (std::find(accepted.begin(), accepted.end(), p.value) == accepted.end())
        throw ConfigError("Parameter '" + p.key + "' does not accept value '" + p.value + "'");
}

constexpr std::array<std::string_view, 2> kReboot = {"reset", "shutdown"};
constexpr std::array<std::string_view, 2> kShutdown = {"poweroff", "pause"};
constexpr std::array<std::string_view, 4> kPanic = {"pause", "shutdown", "exit-failure", "none"};
constexpr std::array<std::string_view, 7> kWatchdog = {"reset", "shutdown", "poweroff", "inject-nmi",
                                                       "pause", "debug",    "none"};

PanicAction panic_action(const std::string& value) {
    if (value == "pause") return PanicAction::Pause;
    if (value == "exit-failure") return PanicAction::ExitFailure;
    if (value == "none") return PanicAction::None;
    return PanicAction::Shutdown;
}

} // namespace

void handle_action(ParseState& st, const ArgToken& tok) {
    auto pairs = split_checked(st, tok, "", {"reboot", "shutdown", "panic", "watchdog"});
    at_location(tok.location(), [&] {
        for (const qopts::OptPair& p : pairs) {
            if (p.key == "reboot") check_value(p, kReboot), st.cfg.no_reboot = p.value == "shutdown";
            if (p.key == "shutdown") check_value(p, kShutdown), st.cfg.no_shutdown = p.value == "pause";
            if (p.key == "panic") check_value(p, kPanic), st.cfg.panic_action = panic_action(p.value);
            if (p.key == "watchdog") check_value(p, kWatchdog), st.cfg.watchdog_action = p.value;
        }
    });
}

} // namespace kestrel
