// object-add, object-del and query-memdev for the object types kestrel
// has (secret, memory-backend-ram|file|memfd, rng-random|builtin), on the
// machine's UserObjects and RngBackends: the same checks and messages as -object.
#include "config/block_opts.h"
#include "config/json_keys.h"
#include "config/user_objects.h"
#include "monitor/qmp/qmp_commands.h"

namespace kestrel::qmp {

namespace {

UserObjects& objects(QmpServices& services) {
    UserObjects* objs = services.vm.services().find<UserObjects>();
    if (!objs) throw MonitorError("this machine has no user-creatable objects");
    return *objs;
}

RngBackends& rng_backends(QmpServices& services) {
    RngBackends* rngs = services.vm.services().find<RngBackends>();
    if (!rngs) throw MonitorError("this machine has no user-creatable objects");
    return *rngs;
}

// QMP arguments as -object's JSON properties (flattened, typed).
std::vector<TypedKey> properties(const Json& args) {
    Json rest = args;
    rest.erase("qom-type");
    rest.erase("id");
    return flatten_json_object(rest.dump());
}

Json object_add(QmpServices& services, const Json& args) {
    UserObjects& objs = objects(services);
    std::string type = args.at("qom-type").get<std::string>();
    std::string id = args.at("id").get<std::string>();
    try {
        check_identifier(id);
        RngBackends& rngs = rng_backends(services);
        if (objs.has_id(id) || rngs.find(id)) throw ConfigError("attempt to add duplicate property '" + id +
                                               "' to object (type 'container')");
        ObjectProps props(properties(args), true);
        if (type == "secret") {
            objs.add_secret(make_secret(id, read_secret_props(props), objs.secrets()));
        } else if (is_rng_object_type(type)) {
            rngs.add(open_rng_object(read_rng_props(type, id, props)));
        } else {
            MemoryBackendConfig b = make_memory_backend(*memory_backend_kind(type), id, props, true, true);
            check_memory_backend(b);
            objs.add_backend(std::move(b));
        }
    } catch (const std::exception& e) {
        throw MonitorError(e.what());
    }
    return Json::object();
}

Json object_del(QmpServices& services, const Json& args) {
    std::string id = args.at("id").get<std::string>();
    try {
        if (!rng_backends(services).remove(id) && !objects(services).remove(id)) throw MonitorError("object '" + id + "' not found");
    } catch (const std::runtime_error& e) {
        throw MonitorError(e.what());
    }
    return Json::object();
}

Json query_memdev(QmpServices& services) {
    Json list = Json::array();
    for (const auto& b : objects(services).backends()) {
        const MemoryBackendConfig& c = b->cfg;
        list.push_back(Json{{"id", c.id}, {"size", c.size}, {"merge", c.merge}, {"dump", c.dump},
                            {"prealloc", c.prealloc}, {"share", c.share}, {"reserve", c.reserve},
                            {"host-nodes", Json::array()}, {"policy", "default"}});
    }
    return list;
}

void add_object_types(Schema& s) {
    s.add_enum("ObjectType", {"memory-backend-file", "memory-backend-memfd", "memory-backend-ram", "rng-builtin",
                              "rng-random", "secret"});
    s.add_enum("QCryptoSecretFormat", {"raw", "base64"});
    s.add_enum("HostMemPolicy", {"default", "preferred", "bind", "interleave"});
    s.add_object("SecretProperties", {{"loaded", "bool", true}, {"format", "QCryptoSecretFormat", true},
                                      {"keyid", "str", true}, {"iv", "str", true}, {"data", "str", true},
                                      {"file", "str", true}});
    std::vector<SchemaMember> backend = {
        {"dump", "bool", true}, {"host-nodes", "[int]", true}, {"merge", "bool", true},
        {"policy", "HostMemPolicy", true}, {"prealloc", "bool", true}, {"prealloc-threads", "int", true},
        {"share", "bool", true}, {"reserve", "bool", true}, {"size", "int"},
        {"x-use-canonical-path-for-ramblock-id", "bool", true}};
    s.add_object("RngProperties", {{"opened", "bool", true}});
    s.add_object("RngRandomProperties", {{"opened", "bool", true}, {"filename", "str", true}});
    s.add_object("MemoryBackendProperties", backend);
    std::vector<SchemaMember> file = backend;
    for (SchemaMember m : std::vector<SchemaMember>{{"align", "int", true}, {"discard-data", "bool", true},
                                                    {"mem-path", "str"}, {"pmem", "bool", true},
                                                    {"readonly", "bool", true}})
        file.push_back(m);
    s.add_object("MemoryBackendFileProperties", file);
    std::vector<SchemaMember> memfd = backend;
    for (SchemaMember m : std::vector<SchemaMember>{{"hugetlb", "bool", true}, {"hugetlbsize", "int", true},
                                                    {"seal", "bool", true}})
        memfd.push_back(m);
    s.add_object("MemoryBackendMemfdProperties", memfd);
    s.add_union("ObjectOptions", {{"qom-type", "ObjectType"}, {"id", "str"}}, "qom-type",
                {{"memory-backend-file", "MemoryBackendFileProperties"},
                 {"memory-backend-memfd", "MemoryBackendMemfdProperties"},
                 {"memory-backend-ram", "MemoryBackendProperties"}, {"rng-builtin", "RngProperties"},
                 {"rng-random", "RngRandomProperties"}, {"secret", "SecretProperties"}});
    s.add_object("q_obj_object-del-arg", {{"id", "str"}});
    s.add_object("Memdev", {{"id", "str", true}, {"size", "int"}, {"merge", "bool"}, {"dump", "bool"},
                            {"prealloc", "bool"}, {"share", "bool"}, {"reserve", "bool", true},
                            {"host-nodes", "[int]"}, {"policy", "HostMemPolicy"}});
}

} // namespace

void add_object_commands(QmpCommandTable& table, Schema& schema, QmpServices& services) {
    add_object_types(schema);
    table.add({"object-add", "ObjectOptions", "q_empty", [&services](const Json& a) { return object_add(services, a); }});
    table.add({"object-del", "q_obj_object-del-arg", "q_empty",
               [&services](const Json& a) { return object_del(services, a); }});
    table.add({"query-memdev", "q_empty", "[Memdev]", [&services](const Json&) { return query_memdev(services); }});
}

} // namespace kestrel::qmp
