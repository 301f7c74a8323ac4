#include "monitor/qmp/qmp_schema.h"

#include "monitor/vm_control.h"

#include <algorithm>
#include <limits>
#include <set>

namespace kestrel::qmp {

namespace {

bool is_array_name(const std::string& name) {
    return name.size() > 2 && name.front() == '[' && name.back() == ']';
}

[[noreturn]] void invalid_type(const std::string& name, const char* expected) {
    throw MonitorError("Invalid parameter type for '" + name + "', expected: " + expected);
}

bool fits_int64(const Json& v) {
    return v.is_number_integer() &&
           (!v.is_number_unsigned() ||
            v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
}

} // namespace

Schema::Schema() {
    static constexpr const char* kBuiltins[][2] = {
        {"str", "string"}, {"any", "value"}, {"bool", "boolean"},
        {"int", "int"}, {"null", "null"}, {"number", "number"},
    };
    for (const auto& b : kBuiltins) {
        SchemaType t;
        t.meta = SchemaType::Meta::Builtin;
        t.name = b[0];
        t.json_type = b[1];
        types_[t.name] = t;
    }
}

void Schema::add_object(std::string name, std::vector<SchemaMember> members) {
    for (const SchemaMember& m : members)
        add_array_type(m.type);
    SchemaType t;
    t.name = name;
    t.members = std::move(members);
    types_[std::move(name)] = std::move(t);
}

void Schema::add_enum(std::string name, std::vector<std::string> values) {
    SchemaType t;
    t.meta = SchemaType::Meta::Enum;
    t.name = name;
    t.values = std::move(values);
    types_[std::move(name)] = std::move(t);
}

void Schema::add_union(std::string name, std::vector<SchemaMember> base, std::string tag,
                       std::vector<std::pair<std::string, std::string>> variants) {
    add_object(name, std::move(base));
    SchemaType& t = types_[name];
    t.tag = std::move(tag);
    t.variants = std::move(variants);
}

bool Schema::has(const std::string& name) const { return types_.count(name) != 0; }

const SchemaType& Schema::type(const std::string& name) const {
    auto it = types_.find(name);
    if (it == types_.end())
        throw std::logic_error("QMP schema has no type " + name);
    return it->second;
}

void Schema::add_array_type(const std::string& name) {
    if (!is_array_name(name) || types_.count(name))
        return;
    SchemaType t;
    t.meta = SchemaType::Meta::Array;
    t.name = name;
    t.element_type = name.substr(1, name.size() - 2);
    add_array_type(t.element_type);
    types_[name] = std::move(t);
}

void Schema::allow_extra_members(const std::string& name) { types_.at(name).open = true; }

void Schema::check_arguments(const std::string& object_type, const Json& args) const {
    check_object(type(object_type), args.is_null() ? Json::object() : args, "");
}

// `prefix`: "" at the top, "model." inside member `model` (QEMU's names).
void Schema::check_object(const SchemaType& t, const Json& value, const std::string& prefix) const {
    std::vector<SchemaMember> members = t.members;
    for (const SchemaMember& m : t.members) {
        auto it = value.find(m.name);
        if (it == value.end()) {
            if (!m.optional)
                throw MonitorError("Parameter '" + prefix + m.name + "' is missing");
            continue;
        }
        check_value(m.type, *it, prefix + m.name, false);
    }
    // A union: the members of the variant its tag names, checked after the base.
    auto tag = t.tag.empty() ? value.end() : value.find(t.tag);
    if (tag != value.end()) {
        for (const auto& [tag_value, type_name] : t.variants) {
            if (tag->get<std::string>() != tag_value) continue;
            for (const SchemaMember& m : type(type_name).members) {
                members.push_back(m);
                auto it = value.find(m.name);
                if (it == value.end()) {
                    if (!m.optional) throw MonitorError("Parameter '" + prefix + m.name + "' is missing");
                    continue;
                }
                check_value(m.type, *it, prefix + m.name, false);
            }
        }
    }
    for (const std::string& key : qemu_key_order(value)) {
        if (t.open) break;
        bool known = std::any_of(members.begin(), members.end(),
                                 [&](const SchemaMember& m) { return m.name == key; });
        if (!known)
            throw MonitorError("Parameter '" + prefix + key + "' is unexpected");
    }
}

// `in_list`: QEMU names a bad enum value inside a list 'null'.
void Schema::check_value(const std::string& type_name, const Json& value, const std::string& name,
                         bool in_list) const {
    const SchemaType& t = type(type_name);
    switch (t.meta) {
    case SchemaType::Meta::Builtin:
        if (t.name == "int" && !fits_int64(value)) invalid_type(name, "integer");
        if (t.name == "str" && !value.is_string()) invalid_type(name, "string");
        if (t.name == "bool" && !value.is_boolean()) invalid_type(name, "boolean");
        if (t.name == "number" && !value.is_number()) invalid_type(name, "number");
        if (t.name == "null" && !value.is_null()) invalid_type(name, "null");
        return;
    case SchemaType::Meta::Enum: {
        if (!value.is_string())
            invalid_type(name, "string");
        const auto& s = value.get_ref<const std::string&>();
        if (std::find(t.values.begin(), t.values.end(), s) == t.values.end())
            throw MonitorError("Parameter '" + std::string(in_list ? "null" : name) +
                               "' does not accept value '" + s + "'");
        return;
    }
    case SchemaType::Meta::Array:
        if (!value.is_array())
            invalid_type(name, "array");
        for (size_t i = 0; i < value.size(); i++)
            check_value(t.element_type, value[i], name + "[" + std::to_string(i) + "]", true);
        return;
    case SchemaType::Meta::Object:
        if (!value.is_object())
            invalid_type(name, "object");
        check_object(t, value, name + ".");
        return;
    }
}

Json Schema::describe_type(const SchemaType& t) const {
    Json info = Json::object();
    info["name"] = t.name;
    switch (t.meta) {
    case SchemaType::Meta::Builtin:
        info["meta-type"] = "builtin";
        info["json-type"] = t.json_type;
        break;
    case SchemaType::Meta::Enum: {
        info["meta-type"] = "enum";
        Json members = Json::array();
        for (const std::string& v : t.values)
            members.push_back(Json{{"name", v}});
        info["members"] = std::move(members);
        info["values"] = t.values;
        break;
    }
    case SchemaType::Meta::Array:
        info["meta-type"] = "array";
        info["element-type"] = t.element_type;
        break;
    case SchemaType::Meta::Object: {
        info["meta-type"] = "object";
        Json members = Json::array();
        for (const SchemaMember& m : t.members) {
            Json member = {{"name", m.name}, {"type", m.type}};
            if (m.optional)
                member["default"] = nullptr;
            members.push_back(std::move(member));
        }
        info["members"] = std::move(members);
        if (!t.tag.empty()) {
            info["tag"] = t.tag;
            Json variants = Json::array();
            for (const auto& [tag_value, type_name] : t.variants)
                variants.push_back(Json{{"case", tag_value}, {"type", type_name}});
            info["variants"] = std::move(variants);
        }
        break;
    }
    }
    return info;
}

void Schema::describe(const std::vector<std::string>& names, Json& out) const {
    std::set<std::string> seen;
    std::vector<std::string> pending(names.rbegin(), names.rend());
    while (!pending.empty()) {
        std::string name = pending.back();
        pending.pop_back();
        if (!seen.insert(name).second)
            continue;
        const SchemaType& t = type(name);
        out.push_back(describe_type(t));
        if (t.meta == SchemaType::Meta::Array)
            pending.push_back(t.element_type);
        for (auto v = t.variants.rbegin(); v != t.variants.rend(); ++v)
            pending.push_back(v->second);
        for (auto m = t.members.rbegin(); m != t.members.rend(); ++m)
            pending.push_back(m->type);
    }
}

} // namespace kestrel::qmp
