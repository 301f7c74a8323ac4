#pragma once
// The QAPI types kestrel's QMP commands and events use: builtins, objects,
// enums and arrays ("[T]"). They drive argument checking (QEMU's texts:
// "Parameter 'x' is missing", "Invalid parameter type for 'x', expected:
// integer", "Parameter 'x' is unexpected") and query-qmp-schema.
#include "monitor/qmp/qmp_json.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kestrel::qmp {

struct SchemaMember {
    std::string name;
    std::string type;
    bool optional = false;
};

struct SchemaType {
    enum class Meta { Builtin, Object, Enum, Array };
    Meta meta = Meta::Object;
    std::string name;
    std::vector<SchemaMember> members;   // Object (a union's base)
    // A flat union: the base member `tag` (an enum) picks the object type
    // whose members are added: {case, type}.
    std::string tag;
    std::vector<std::pair<std::string, std::string>> variants;
    std::vector<std::string> values;     // Enum
    std::string element_type;            // Array
    std::string json_type;               // Builtin: "int", "string", ...
    bool open = false;                   // Object: other members allowed (a 'gen': false command's)
};

class Schema {
public:
    Schema();   // with the builtins: str, int, bool, number, null, any

    void add_object(std::string name, std::vector<SchemaMember> members);
    void add_enum(std::string name, std::vector<std::string> values);
    // Object `name` takes members besides its own, unchecked (device_add).
    void allow_extra_members(const std::string& name);
    void add_union(std::string name, std::vector<SchemaMember> base, std::string tag,
                   std::vector<std::pair<std::string, std::string>> variants);
    // "[T]" for a known T (members' array types are added by add_object).
    void add_array_type(const std::string& name);
    const SchemaType& type(const std::string& name) const;
    bool has(const std::string& name) const;

    // Throws MonitorError (GenericError) as QEMU's input visitor would.
    void check_arguments(const std::string& object_type, const Json& args) const;

    // SchemaInfo entries for `names` and every type they reach.
    void describe(const std::vector<std::string>& names, Json& out) const;
    Json describe_type(const SchemaType& t) const;

private:
    void check_value(const std::string& type, const Json& value, const std::string& name,
                     bool in_list) const;
    void check_object(const SchemaType& t, const Json& value, const std::string& prefix) const;
    std::map<std::string, SchemaType> types_;
};

} // namespace kestrel::qmp
