// -msg, -overcommit and -audiodev, as QEMU 7.2 reads them (libvirt puts
// all three on every domain's command line).
#include "base/messages.h"
#include "config/parse_state.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace kestrel {

namespace {

constexpr std::string_view kAudioDrivers[] = {"none", "alsa", "coreaudio", "dbus", "dsound", "jack",
                                              "oss", "pa", "sdl", "spice", "wav"};
// The members every driver has, per direction (QAPI's AudiodevPerDirectionOptions).
constexpr std::string_view kDirectionInts[] = {"frequency", "channels", "voices", "buffer-length"};
constexpr std::string_view kDirectionBools[] = {"mixing-engine", "fixed-settings"};
constexpr std::string_view kSampleFormats[] = {"u8", "s8", "u16", "s16", "u32", "s32", "f32"};

bool listed(std::span<const std::string_view> list, std::string_view s) {
    return std::find(list.begin(), list.end(), s) != list.end();
}

// The audiodev numbers are all uint32 (QAPI). key=value text: a number
// (negative ones wrap as QEMU's qemu_strtou64 wraps them), then the range,
// named by the member's own name; JSON: a number first.
void check_int(const TypedKey& k, bool json) {
    std::string leaf = k.key.substr(k.key.rfind('.') + 1);
    if (json && k.type != TypedKey::Type::Number) throw ConfigError("Parameter '" + k.key + "' expects uint64");
    std::string text = k.value;
    bool negative = !json && text.starts_with('-');
    if (negative) text.erase(0, 1);
    auto n = qopts::to_u64(text);
    if (!n || text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])))
        throw ConfigError("Parameter '" + k.key + "' expects integer");
    if ((negative && *n != 0) || *n > UINT32_MAX)
        throw ConfigError("Parameter '" + (json ? k.key : leaf) + "' expects uint32_t");
}

void check_bool(const TypedKey& k, bool json) {
    if (json && k.type != TypedKey::Type::Bool)
        throw ConfigError("Invalid parameter type for '" + k.key + "', expected: boolean");
    if (!json && k.value != "on" && k.value != "off")
        throw ConfigError("Parameter '" + k.key + "' expects 'on' or 'off'");
}

// One audiodev member other than id and driver (driver none's: the
// per-direction ones and timer-period).
void check_audiodev_member(const TypedKey& k, bool json) {
    if (k.key == "timer-period") return check_int(k, json);
    for (std::string_view dir : {"in.", "out."}) {
        if (!k.key.starts_with(dir)) continue;
        std::string member = k.key.substr(dir.size());
        if (listed(kDirectionInts, member)) return check_int(k, json);
        if (listed(kDirectionBools, member)) return check_bool(k, json);
        if (member == "format") {
            if (!listed(kSampleFormats, k.value))
                throw ConfigError("Parameter '" + k.key + "' does not accept value '" + k.value + "'");
            return;
        }
    }
    throw ConfigError("Parameter '" + k.key + "' is unexpected");
}

std::vector<TypedKey> audiodev_keys(const std::string& text, bool json) {
    if (json) return flatten_json_object(text);
    std::vector<TypedKey> keys;
    for (qopts::OptPair& p : qopts::split(text, "driver", qopts::Syntax::Keyval).pairs)
        keys.push_back({p.key, p.value});
    return keys;
}

} // namespace

// -msg timestamp=on|off,guest-name=on|off: applied once the command line
// is read (QEMU's first pass reports a bad option without them).
void handle_msg(ParseState& st, const ArgToken& tok) {
    std::vector<qopts::OptPair> pairs = split_checked(st, tok, "", {"timestamp", "guest-name"});
    at_location(tok.location(), [&] {
        for (const qopts::OptPair& p : pairs)
            (p.key == "timestamp" ? st.msg_timestamp : st.msg_guest_name) = qopts::parse_bool(p.key, p.value);
    });
}

// -overcommit mem-lock=on|off,cpu-pm=on|off.
void handle_overcommit(ParseState& st, const ArgToken& tok) {
    std::vector<qopts::OptPair> pairs = split_checked(st, tok, "", {"mem-lock", "cpu-pm"});
    at_location(tok.location(), [&] {
        for (const qopts::OptPair& p : pairs)
            (p.key == "mem-lock" ? st.cfg.mem_lock : st.cfg.cpu_pm) = qopts::parse_bool(p.key, p.value);
    });
}

// -audiodev DRIVER,id=ID[,...] or JSON. kestrel has no sound device, so
// only the none driver, which plays nothing, is offered; its id is kept.
void handle_audiodev(ParseState& st, const ArgToken& tok) {
    at_location(tok.location(), [&] {
        bool json = tok.value->starts_with('{');
        std::optional<std::string> id, driver;
        std::vector<TypedKey> members;
        for (TypedKey& k : audiodev_keys(*tok.value, json)) {
            if (k.key == "id" || k.key == "driver") {
                if (json && k.type != TypedKey::Type::String)
                    throw ConfigError("Invalid parameter type for '" + k.key + "', expected: string");
                (k.key == "id" ? id : driver) = k.value;
            } else {
                members.push_back(std::move(k));
            }
        }
        if (!id) throw ConfigError("Parameter 'id' is missing");
        if (!driver) throw ConfigError("Parameter 'driver' is missing");
        if (!listed(kAudioDrivers, *driver))
            throw ConfigError("Parameter 'driver' does not accept value '" + *driver + "'");
        for (const TypedKey& k : members) check_audiodev_member(k, json);
        if (*driver != "none")
            throw ConfigError("audiodev driver '" + *driver +
                              "' is not supported by kestrel (it has no sound devices; use none)");
        st.cfg.audiodevs.push_back(*id);
    });
}

void apply_message_options(const ParseState& st) {
    set_message_timestamp(st.msg_timestamp);
    set_message_guest_name(st.msg_guest_name ? st.cfg.name : "");
}

} // namespace kestrel
