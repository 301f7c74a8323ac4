// -object as QEMU 7.2 reads it, in either syntax (key=value or JSON):
// iothreads, secrets, memory and rng backends. QEMU checks the type, the id and
// the properties while it reads the command line.
#include "config/block_opts.h"
#include "config/user_objects.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace kestrel {

namespace {

// QEMU 7.2's user-creatable types kestrel does not have.
constexpr std::string_view kOtherObjectTypes[] = {
    "authz-list", "authz-list-file", "authz-simple", "can-bus", "can-host-socketcan",
    "colo-compare", "cryptodev-backend", "cryptodev-backend-builtin", "cryptodev-vhost-user",
    "dbus-vmstate", "filter-buffer", "filter-dump", "filter-mirror", "filter-redirector",
    "filter-replay", "filter-rewriter", "input-barrier", "input-linux", "main-loop",
    "pr-manager-helper",
    "qtest", "rng-egd", "secret_keyring", "sev-guest",
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
    if (*type == "iothread" || *type == "secret" || memory_backend_kind(*type) || is_rng_object_type(*type))
        return;
    if (std::find(std::begin(kOtherObjectTypes), std::end(kOtherObjectTypes), *type) !=
        std::end(kOtherObjectTypes))
        throw ConfigError("object type '" + *type + "' is not supported by kestrel yet");
    throw ConfigError("Parameter 'qom-type' does not accept value '" + *type + "'");
}

// `json`: the JSON syntax, whose visitor calls an unknown member unexpected.
IothreadConfig make_iothread(const std::vector<qopts::OptPair>& pairs, bool json = false) {
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
            throw ConfigError(json ? "Parameter '" + p.key + "' is unexpected" : "Invalid parameter '" + p.key + "'");
    }
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

void check_new_id(ParseState& st, const std::string& id) {
    check_identifier(id);
    for (const std::string& other : st.object_ids)
        if (other == id)
            throw ConfigError("Duplicate ID '" + id + "' for object");
    st.object_ids.push_back(id);
}

// -object '{"qom-type": ..., "id": ..., ...}' (libvirt's form).
void handle_json_object(ParseState& st, const ArgToken& tok) {
    at_location(tok.location(), [&] {
        std::vector<TypedKey> keys = flatten_json_object(*tok.value);
        PendingObject obj{tok.location(), "", "", {}, true};
        std::optional<std::string> type, id;
        for (TypedKey& k : keys) {
            if (k.key == "qom-type" || k.key == "id") {
                if (k.type != TypedKey::Type::String)
                    throw ConfigError("Invalid parameter type for '" + k.key + "', expected: string");
                (k.key == "id" ? id : type) = k.value;
            } else {
                obj.keys.push_back(std::move(k));
            }
        }
        check_type(type ? &*type : nullptr);
        if (!id) throw ConfigError("Parameter 'id' is missing");
        check_new_id(st, *id);
        obj.type = *type;
        obj.id = *id;
        if (obj.type == "iothread") {
            std::vector<qopts::OptPair> pairs{{"qom-type", obj.type}, {"id", obj.id}};
            for (const TypedKey& k : obj.keys) pairs.push_back({k.key, k.value});
            st.cfg.iothreads.push_back(make_iothread(pairs, true));
            return;
        }
        st.objects.push_back(std::move(obj));
    });
}

} // namespace

void handle_object(ParseState& st, const ArgToken& tok) {
    if (tok.value->starts_with('{')) return handle_json_object(st, tok);
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
    at_location(tok.location(), [&] {
        const std::string* id = last_value(pairs, "id");
        if (*type == "iothread") {
            IothreadConfig t = make_iothread(pairs);
            check_new_id(st, t.id);
            st.cfg.iothreads.push_back(std::move(t));
            return;
        }
        if (!id) throw ConfigError("Parameter 'id' is missing");
        check_new_id(st, *id);
        PendingObject obj{tok.location(), *type, *id, {}, false};
        for (const qopts::OptPair& p : pairs)
            if (p.key != "qom-type" && p.key != "id") obj.keys.push_back({p.key, p.value});
        st.objects.push_back(std::move(obj));
    });
}

namespace {

// Secrets, memory and rng backends in command-line order; then the machine's
// memory-backend= (QEMU's qemu_resolve_machine_memdev and the checks of
// machine_run_board_init).
void create_pending_objects(ParseState& st) {
    for (PendingObject& obj : st.objects) {
        ObjectProps props(obj.keys, obj.json);
        if (obj.type == "secret") {
            SecretProps sp = at_location(obj.location, [&] { return read_secret_props(props); });
            st.cfg.secrets.push_back(make_secret(obj.id, sp, st.cfg.secrets));
            continue;
        }
        if (is_rng_object_type(obj.type)) {
            RngObjectConfig r = at_location(obj.location, [&] { return read_rng_props(obj.type, obj.id, props); });
            open_rng_object(r);  // QEMU opens the file here; the board opens it again for the device
            st.cfg.rng_objects.push_back(std::move(r));
            continue;
        }
        auto kind = memory_backend_kind(obj.type);
        MemoryBackendConfig b = at_location(obj.location, [&] {
            return make_memory_backend(*kind, obj.id, props, st.cfg.memory.dump, st.cfg.memory.merge);
        });
        check_memory_backend(b);
        st.cfg.memory_backends.push_back(std::move(b));
    }
}

void resolve_machine_memdev(ParseState& st) {
    MemoryConfig& mem = st.cfg.memory;
    if (!st.memdev) {
        for (const MemoryBackendConfig& b : st.cfg.memory_backends)
            if (b.id == "pc.ram")
                throw ConfigError("object name 'pc.ram' is reserved for the default RAM backend, it can't be used "
                                  "for any other purposes. Change the object's 'id' to something else");
        return;
    }
    const MemoryBackendConfig* found = nullptr;
    for (const MemoryBackendConfig& b : st.cfg.memory_backends)
        if (b.id == *st.memdev) found = &b;
    if (!found) throw ConfigError("Memory backend '" + *st.memdev + "' not found");
    if (!st.mem_size_text) mem.size = mem.maxmem = found->size;
    if (found->size != mem.size)
        throw ConfigError("Machine memory size does not match the size of the memory backend");
    if (!mem.mem_path.empty())
        throw ConfigError("'-mem-path' can't be used together with'-machine memory-backend'");
    mem.backend = *found;
    if (mem.prealloc) mem.backend->prealloc = true;  // -mem-prealloc: every backend's default
}

} // namespace

void finalize_objects(ParseState& st) {
    for (const IothreadConfig& t : st.cfg.iothreads)
        check_poll_values(t);
    create_pending_objects(st);
    resolve_machine_memdev(st);
}

void print_object_help(std::ostream& out, const std::string& type) {
    if (type.empty()) {
        out << "List of user creatable objects:\n  iothread\n  memory-backend-file\n  memory-backend-memfd\n"
               "  memory-backend-ram\n  rng-builtin\n  rng-random\n  secret\n";
        return;
    }
    static const std::vector<std::string_view> kBackend = {
        "dump=<bool>", "merge=<bool>", "policy=<HostMemPolicy>", "prealloc=<bool>", "prealloc-threads=<int>",
        "reserve=<bool>", "share=<bool>", "size=<int>", "x-use-canonical-path-for-ramblock-id=<bool>"};
    if (type == "rng-builtin") {
        out << "There are no options for rng-builtin.\n";
        return;
    }
    std::vector<std::string_view> props;
    if (type == "rng-random")
        props = {"filename=<string>"};
    else if (type == "iothread")
        props = {"aio-max-batch=<int>", "poll-grow=<int>", "poll-max-ns=<int>", "poll-shrink=<int>",
                 "thread-pool-max=<int>", "thread-pool-min=<int>"};
    else if (type == "secret")
        props = {"data=<string>", "file=<string>", "format=<QCryptoSecretFormat>", "iv=<string>", "keyid=<string>"};
    else
        props = kBackend;
    if (type == "memory-backend-file")
        for (std::string_view p : {"align=<int>", "discard-data=<bool>", "mem-path=<string>", "pmem=<bool>",
                                   "readonly=<bool>"})
            props.push_back(p);
    if (type == "memory-backend-memfd")
        for (std::string_view p : {"hugetlb=<bool>", "hugetlbsize=<int>", "seal=<bool>"}) props.push_back(p);
    std::sort(props.begin(), props.end());
    out << type << " options:\n";
    for (std::string_view p : props) out << "  " << p << "\n";
}

} // namespace kestrel
