#include "config/chardev_opts.h"

#include <netdb.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <sys/stat.h>
#include <cctype>

namespace kestrel {

namespace {

enum class OptType { String, Bool, Number, Size };

struct OptSpec {
    std::string_view name;
    OptType type;
};

// QEMU 7.2's -chardev keys (besides "id"). QEMU accepts every one of them on
// every backend and ignores those a backend does not use; so does kestrel.
constexpr OptSpec kChardevOpts[] = {
    {"backend", OptType::String},  {"path", OptType::String},       {"host", OptType::String},
    {"port", OptType::String},     {"fd", OptType::String},         {"localaddr", OptType::String},
    {"localport", OptType::String}, {"to", OptType::Number},        {"ipv4", OptType::Bool},
    {"ipv6", OptType::Bool},       {"wait", OptType::Bool},         {"server", OptType::Bool},
    {"delay", OptType::Bool},      {"nodelay", OptType::Bool},      {"reconnect", OptType::Number},
    {"telnet", OptType::Bool},     {"tn3270", OptType::Bool},       {"tls-creds", OptType::String},
    {"tls-authz", OptType::String}, {"websocket", OptType::Bool},   {"width", OptType::Number},
    {"height", OptType::Number},   {"cols", OptType::Number},       {"rows", OptType::Number},
    {"mux", OptType::Bool},        {"signal", OptType::Bool},       {"name", OptType::String},
    {"debug", OptType::Number},    {"size", OptType::Size},         {"chardev", OptType::String},
    {"append", OptType::Bool},     {"logfile", OptType::String},    {"logappend", OptType::Bool},
    {"mouse", OptType::Bool},      {"clipboard", OptType::Bool},    {"tight", OptType::Bool},
    {"abstract", OptType::Bool},
};

// Backends kestrel implements, in the order QEMU lists them.
constexpr std::string_view kBackends[] = {"stdio", "pipe", "null", "socket", "udp", "file", "pty"};

// Backends QEMU 7.2 has that kestrel does not provide.
constexpr std::string_view kOtherQemuBackends[] = {
    "ringbuf", "memory", "mux", "qemu-vdagent", "msmouse", "vc", "parallel", "parport",
    "serial", "tty", "wctablet", "testdev", "braille", "console", "spicevmc", "spiceport",
    "dbus",
};

constexpr unsigned kMaxMuxFrontends = 4;  // QEMU's MAX_MUX

const OptSpec* find_opt(std::string_view name) {
    for (const OptSpec& spec : kChardevOpts)
        if (spec.name == name) return &spec;
    return nullptr;
}

template <typename List>
bool contains(const List& list, std::string_view name) {
    return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

// "nodelay" is a key of its own, so its short form means nodelay=on and not
// delay=off; QEMU strips "no" only when the whole word is not a key.
void fix_negated_key(qopts::OptPair& pair) {
    if (pair.short_form && pair.value == "off" && find_opt("no" + pair.key)) {
        pair.key = "no" + pair.key;
        pair.value = "on";
    }
}

std::string checked_value(const qopts::OptPair& pair) {
    const OptSpec* spec = find_opt(pair.key);
    if (!spec)
        throw ConfigError("Invalid parameter '" + pair.key + "'");
    switch (spec->type) {
    case OptType::Bool:
        return qopts::parse_bool(pair.key, pair.value) ? "on" : "off";
    case OptType::Number:
        return std::to_string(qopts::parse_number(pair.key, pair.value));
    case OptType::Size:
        return std::to_string(qopts::parse_size(pair.key, pair.value));
    case OptType::String:
        break;
    }
    return pair.value;
}

bool has(const ChardevConfig& dev, const std::string& key) {
    return dev.options.count(key) != 0;
}

bool is_on(const ChardevConfig& dev, const std::string& key) {
    auto it = dev.options.find(key);
    return it != dev.options.end() && it->second == "on";
}

std::string option_or(const ChardevConfig& dev, const std::string& key, const std::string& fallback) {
    auto it = dev.options.find(key);
    return it == dev.options.end() ? fallback : it->second;
}

void refuse(const std::string& key) {
    throw ConfigError("option '" + key + "' is not supported by kestrel");
}

// A port as getaddrinfo takes it: a number up to 65535 or a service name.
void check_port(const std::string& host, const std::string& port, const char* protocol) {
    bool numeric = !port.empty() && std::all_of(port.begin(), port.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
    });
    bool valid = numeric ? port.size() <= 5 && std::stoul(port) <= 65535
                         : !port.empty() && getservbyname(port.c_str(), protocol) != nullptr;
    if (!valid)
        throw ConfigError("address resolution failed for " + host + ":" + port +
                          ": Servname not supported for ai_socktype");
}

// fd=N: a socket the parent left open (libvirt's monitor socket). The
// number is read as QEMU's qemu_strtoi reads it (a sign allowed).
void check_socket_fd(const std::string& text) {
    errno = 0;
    char* end = nullptr;
    long n = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno != 0 || n < INT32_MIN || n > INT32_MAX)
        throw ConfigError("Unable to parse FD number " + text);
    struct stat st {};
    if (fstat(int(n), &st) != 0 || !S_ISSOCK(st.st_mode))
        throw ConfigError("File descriptor '" + text + "' is not a socket");
}

void check_socket(const ChardevConfig& dev) {
    int addresses = int(has(dev, "path")) + int(has(dev, "host")) + int(has(dev, "fd"));
    if (addresses > 1)
        throw ConfigError("None or one of 'path', 'fd' or 'host' option required.");
    bool server = is_on(dev, "server");
    if (!server && has(dev, "wait"))
        throw ConfigError("'wait' option is incompatible with socket in client connect mode");
    if (server && has(dev, "reconnect"))
        throw ConfigError("'reconnect' option is incompatible with socket in server listen mode");
    for (const char* key : {"tls-creds", "tls-authz"})
        if (has(dev, key)) refuse(key);
    if (has(dev, "fd")) check_socket_fd(dev.options.at("fd"));
    for (const char* key : {"telnet", "tn3270", "websocket", "abstract"})
        if (is_on(dev, key)) refuse(key);
    if (addresses == 0)  // QEMU then expects fd=, and says so this way
        throw ConfigError("Unable to parse FD number ");
    if (has(dev, "host")) {
        if (!has(dev, "port"))
            throw ConfigError("chardev: socket: no port given");
        check_port(dev.options.at("host"), dev.options.at("port"), "tcp");
    }
}

void check_udp(const ChardevConfig& dev) {
    if (!has(dev, "port"))
        throw ConfigError("chardev: udp: remote port not specified");
    std::string host = option_or(dev, "host", "");
    check_port(host.empty() ? "localhost" : host, dev.options.at("port"), "udp");
    if (has(dev, "localport")) {
        std::string local = option_or(dev, "localaddr", "");
        check_port(local.empty() ? "(null)" : local, dev.options.at("localport"), "udp");
    }
}

void check_stdio(const ParseState& st) {
    if (st.cfg.daemonize)
        throw ConfigError("cannot use stdio with -daemonize");
    for (const ChardevConfig& other : st.cfg.chardevs)
        if (other.backend == "stdio")
            throw ConfigError("cannot use stdio by multiple character devices");
}

void check_backend_options(const ParseState& st, const ChardevConfig& dev) {
    if (has(dev, "logfile"))
        refuse("logfile");
    if (dev.backend == "file") {
        if (!has(dev, "path"))
            throw ConfigError("chardev: file: no filename given");
        if (dev.path.empty())  // can never be opened; QEMU fails the same way
            throw ConfigError("Could not open '': No such file or directory");
    } else if (dev.backend == "pipe") {
        if (!has(dev, "path"))
            throw ConfigError("chardev: pipe: no device path given");
    } else if (dev.backend == "socket") {
        check_socket(dev);
    } else if (dev.backend == "udp") {
        check_udp(dev);
    } else if (dev.backend == "stdio") {
        check_stdio(st);
    }
}

} // namespace

bool is_qemu_identifier(std::string_view id) {
    if (id.empty() || !std::isalpha(static_cast<unsigned char>(id[0])))
        return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
    });
}

void apply_chardev_options(ParseState& st, const std::string& location, std::string_view text,
                           std::string_view implied_key, PendingChardev& pending) {
    auto pairs = qopts::split(text, implied_key, qopts::Syntax::QemuOpts).pairs;
    for (qopts::OptPair& pair : pairs) {
        fix_negated_key(pair);
        if (pair.short_form)
            st.warn(location, qopts::short_form_warning(pair));
    }
    // A shorthand's chardev already has its label; QEMU then skips "id=".
    bool takes_id = pending.dev.id.empty();
    // QEMU reads the id first, then the other options in order.
    for (const qopts::OptPair& pair : pairs) {
        if (pair.key != "id" || !takes_id)
            continue;
        if (!is_qemu_identifier(pair.value))
            throw ConfigError("Parameter 'id' expects an identifier");
        check_chardev_id_free(st, pair.value);
        pending.dev.id = pair.value;
    }
    for (const qopts::OptPair& pair : pairs)
        if (pair.key != "id")
            set_chardev_option(pending, pair.key, checked_value(pair));
}

void set_chardev_option(PendingChardev& pending, const std::string& key, const std::string& value) {
    if (key == "backend") {
        pending.backend = value;
    } else if (key == "mux") {
        pending.dev.mux = value == "on";
    } else {
        if (key == "path")
            pending.dev.path = value;
        pending.dev.options[key] = value;
    }
}

bool chardev_id_taken(const ParseState& st, const std::string& id) {
    auto same = [&](const auto& d) { return d.id == id; };
    auto pending_same = [&](const PendingChardev& p) { return p.dev.id == id; };
    return std::any_of(st.chardevs.begin(), st.chardevs.end(), pending_same) ||
           std::any_of(st.cfg.chardevs.begin(), st.cfg.chardevs.end(), same);
}

void check_chardev_id_free(const ParseState& st, const std::string& id) {
    if (chardev_id_taken(st, id))
        throw ConfigError("Duplicate ID '" + id + "' for chardev");
}

void create_chardev(ParseState& st, const PendingChardev& pending) {
    ChardevConfig dev = pending.dev;
    dev.location = pending.location;
    if (dev.id.empty())
        throw ConfigError("chardev: no id specified");
    if (!pending.backend)
        throw ConfigError("chardev: \"" + dev.id + "\" missing backend");
    dev.backend = *pending.backend;
    if (contains(kOtherQemuBackends, dev.backend))
        throw ConfigError("character backend '" + dev.backend + "' is not supported by kestrel");
    if (!contains(kBackends, dev.backend))
        throw ConfigError("'" + dev.backend + "' is not a valid char driver name");
    check_backend_options(st, dev);
    st.chardev_users[dev.id] = 0;
    st.cfg.chardevs.push_back(std::move(dev));
}

bool attach_frontend(ParseState& st, const std::string& id) {
    auto it = std::find_if(st.cfg.chardevs.begin(), st.cfg.chardevs.end(),
                           [&](const ChardevConfig& d) { return d.id == id; });
    if (it == st.cfg.chardevs.end())
        return false;
    unsigned& users = st.chardev_users[id];
    if (users >= (it->mux ? kMaxMuxFrontends : 1))
        throw ConfigError("Device '" + id + "' is in use");
    ++users;
    return true;
}

std::span<const std::string_view> chardev_backend_names() {
    return kBackends;
}

} // namespace kestrel
