// -object as QEMU 7.2 reads it: kestrel creates iothreads only. QEMU checks
// the type, the id and the properties while it reads the command line.
#include "config/block_opts.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace kestrel {

namespace {

// QEMU 7.2's user-creatable types other than iothread.
constexpr std::string_view kOtherObjectTypes[] = {
    "authz-list", "authz-list-file", "authz-simple", "can-bus", "can-host-socketcan",
    "colo-compare", "cryptodev-backend", "cryptodev-backend-builtin", "cryptodev-vhost-user",
    "dbus-vmstate", "filter-buffer", "filter-dump", "filter-mirror", "filter-redirector",
    "filter-replay", "filter-rewriter", "input-barrier", "input-linux", "main-loop",
    "memory-backend-file", "memory-backend-memfd", "memory-backend-ram", "pr-manager-helper",
    "qtest", "rng-builtin", "rng-egd", "rng-random", "secret", "secret_keyring", "sev-guest",
    "thread-context", "throttle-group", "tls-cipher-suites", "tls-creds-anon", "tls-creds-psk",
    "tls-creds-x509", "x-remote-object",
};

// iothread's properties in QAPI member order (the event loop base first).
constexpr std::string_view kIothreadProperties[] = {
    "aio-max-batch", "thread-pool-min", "thread-pool-max", "poll-max-ns", "poll-grow",
    "poll-shrink",
};

bool is_help(std::string_view s) { return s == "help" || s == "?"; }

int64_t parse_int64(const std::string& key, const std::string& text) {
    errno = 0;
    char* end = nullptr;
    long long value = std::strtoll(text.c_str(), &end, 0);
    if (text.empty() || *end != '\0' || errno == ERANGE)
        throw ConfigError("Parameter '" + key + "' expects an int64 value");
    return value;
}

const std::string* last_value(const std::vector<qopts::OptPair>& pairs, std::string_view key) {
    const std::string* value = nullptr;
    for (const qopts::OptPair& p : pairs)
        if (p.key == key) value = &p.value;
    return value;
}

void check_type(const std::string* type) {
    if (!type)
        throw ConfigError("Parameter 'qom-type' is missing");
    if (*type == "iothread")
        return;
    if (std::find(std::begin(kOtherObjectTypes), std::end(kOtherObjectTypes), *type) !=
        std::end(kOtherObjectTypes))
        throw ConfigError("object type '" + *type + "' is not supported by kestrel yet");
    throw ConfigError("Parameter 'qom-type' does not accept value '" + *type + "'");
}

IothreadConfig make_iothread(const ParseState& st, const std::vector<qopts::OptPair>& pairs) {
    IothreadConfig t;
    const std::string* id = last_value(pairs, "id");
    if (!id)
        throw ConfigError("Parameter 'id' is missing");
    check_identifier(*id);
    t.id = *id;
    std::optional<int64_t>* fields[] = {&t.aio_max_batch, &t.thread_pool_min, &t.thread_pool_max,
                                        &t.poll_max_ns, &t.poll_grow, &t.poll_shrink};
    for (size_t i = 0; i < std::size(kIothreadProperties); ++i) {
        std::string key(kIothreadProperties[i]);
        if (const std::string* v = last_value(pairs, key))
            *fields[i] = parse_int64(key, *v);
    }
    for (const qopts::OptPair& p : pairs) {
        bool known = p.key == "qom-type" || p.key == "id" ||
                     std::find(std::begin(kIothreadProperties), std::end(kIothreadProperties),
                               p.key) != std::end(kIothreadProperties);
        if (!known)
            throw ConfigError("Invalid parameter '" + p.key + "'");
    }
    for (const IothreadConfig& other : st.cfg.iothreads)
        if (other.id == t.id)
            throw ConfigError("Duplicate ID '" + t.id + "' for object");
    return t;
}

// Checked when QEMU sets the properties: its message has no location.
void check_poll_values(const IothreadConfig& t) {
    const std::pair<const char*, std::optional<int64_t>> poll[] = {
        {"poll-max-ns", t.poll_max_ns}, {"poll-grow", t.poll_grow}, {"poll-shrink", t.poll_shrink}};
    for (const auto& [name, value] : poll) {
        if (value && *value < 0)
            throw ConfigError(std::string(name) + " value must be in range [0, 9223372036854775807]");
    }
}

} // namespace

void handle_object(ParseState& st, const ArgToken& tok) {
    auto split = at_location(tok.location(), [&] {
        return qopts::split(*tok.value, "qom-type", qopts::Syntax::QemuOpts);
    });
    std::vector<qopts::OptPair> pairs;
    bool help = false;
    for (qopts::OptPair& p : split.pairs) {
        if ((p.key == "qom-type" && is_help(p.value)) || (p.short_form && is_help(p.key))) {
            help = true;
            continue;
        }
        if (p.short_form)
            st.warn(tok.location(), qopts::short_form_warning(p));
        pairs.push_back(std::move(p));
    }
    const std::string* type = last_value(pairs, "qom-type");
    if (help && !type) {
        st.object_help = "";
        return;
    }
    at_location(tok.location(), [&] { check_type(type); });
    if (help) {
        st.object_help = *type;
        return;
    }
    IothreadConfig t = at_location(tok.location(), [&] { return make_iothread(st, pairs); });
    st.cfg.iothreads.push_back(std::move(t));
}

void finalize_objects(ParseState& st) {
    for (const IothreadConfig& t : st.cfg.iothreads)
        check_poll_values(t);
}

void print_object_help(std::ostream& out, const std::string& type) {
    if (type.empty()) {
        out << "List of user creatable objects:\n  iothread\n";
        return;
    }
    out << "iothread options:\n";
    for (std::string_view name : {"aio-max-batch", "poll-grow", "poll-max-ns", "poll-shrink",
                                  "thread-pool-max", "thread-pool-min"})
        out << "  " << name << "=<int>\n";
}

} // namespace kestrel
