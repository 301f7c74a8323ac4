#pragma once
// JSON as qemu-img prints it: QEMU's QDict keeps members in a 512-bucket
// hash table, so objects come out in the order of that hash (and, within a
// bucket, last inserted first), pretty-printed with four-space indents.
// Members are added in QAPI schema order so collisions order as in QEMU.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kestrel::img {

class Json {
public:
    enum class Kind { Null, Bool, Int, Uint, Double, String, Object, Array };

    Json() = default;
    static Json object() { return Json(Kind::Object); }
    static Json array() { return Json(Kind::Array); }
    Json(bool v) : kind_(Kind::Bool), bool_(v) {}
    Json(int v) : kind_(Kind::Int), int_(v) {}
    Json(int64_t v) : kind_(Kind::Int), int_(v) {}
    Json(uint64_t v) : kind_(Kind::Uint), uint_(v) {}
    Json(double v) : kind_(Kind::Double), double_(v) {}
    Json(const char* v) : kind_(Kind::String), string_(v) {}
    Json(std::string v) : kind_(Kind::String), string_(std::move(v)) {}

    // Objects: adds (or replaces) a member. Arrays: appends.
    Json& set(const std::string& key, Json value);
    Json& push(Json value);
    bool empty() const { return members_.empty() && items_.empty(); }

    // QEMU's qobject_to_json_pretty.
    std::string pretty() const;
    // Compact, as QEMU's qobject_to_json (one line).
    std::string compact() const;

private:
    explicit Json(Kind k) : kind_(k) {}
    void write(std::string& out, int indent, bool pretty) const;
    std::vector<const std::pair<std::string, Json>*> ordered_members() const;

    Kind kind_ = Kind::Null;
    bool bool_ = false;
    int64_t int_ = 0;
    uint64_t uint_ = 0;
    double double_ = 0;
    std::string string_;
    std::vector<std::pair<std::string, Json>> members_;  // insertion order
    std::vector<Json> items_;
};

// A string as a JSON string literal, escaped as QEMU does (non-ASCII as
// \uXXXX).
std::string json_quote(const std::string& s);

} // namespace kestrel::img
