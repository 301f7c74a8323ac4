// "$name" in HMP expressions, read from the current vCPU's "info
// registers" text (QEMU's layout: "RAX=0000000000000000 RBX=..." and
// segment lines "CS =f000 ffff0000 0000ffff 00009b00"). $pc is the
// linear instruction address: CS base plus RIP (or EIP).
#include "monitor/hmp/hmp_command.h"

#include <cctype>
#include <charconv>

namespace kestrel {

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// The hex number after "NAME=" where NAME starts a word.
std::optional<uint64_t> field(std::string_view text, const std::string& name) {
    std::string key = name + "=";
    for (size_t at = text.find(key); at != std::string_view::npos; at = text.find(key, at + 1)) {
        if (at > 0 && !std::isspace(static_cast<unsigned char>(text[at - 1]))) continue;
        std::string_view rest = text.substr(at + key.size());
        uint64_t value = 0;
        auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value, 16);
        if (ec == std::errc() && end != rest.data()) return value;
    }
    return std::nullopt;
}

std::optional<uint64_t> segment_base(std::string_view text, const std::string& seg) {
    size_t at = text.find("\n" + seg + " =");
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view rest = text.substr(at + seg.size() + 3);
    size_t space = rest.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(space + 1);
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value, 16);
    if (ec != std::errc() || end == rest.data()) return std::nullopt;
    return value;
}

} // namespace

HmpRegisterLookup HmpContext::registers() {
    return [this](std::string_view name) -> std::optional<uint64_t> {
        std::string text = "\n";
        text += vm().cpu_registers_text(state.current_cpu);
        std::string key = upper(name);
        if (key != "PC") return field(text, key);
        auto ip = field(text, "RIP");
        if (!ip) ip = field(text, "EIP");
        auto base = segment_base(text, "CS");
        if (!ip || !base) return std::nullopt;
        return *ip + *base;
    };
}

} // namespace kestrel
