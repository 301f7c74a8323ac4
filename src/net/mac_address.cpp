#include "net/mac_address.h"

#include <cerrno>
#include <cstdlib>
#include <fmt/format.h>

namespace kestrel {

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr std::array<uint8_t, 5> kDefaultPrefix = {0x52, 0x54, 0x00, 0x12, 0x34};

bool has_default_prefix(const MacAddress& mac) {
    for (size_t i = 0; i < kDefaultPrefix.size(); ++i)
        if (mac.bytes[i] != kDefaultPrefix[i]) return false;
    return true;
}

} // namespace

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
    if (text.size() != 17) return std::nullopt;
    MacAddress mac;
    for (size_t i = 0; i < 6; ++i) {
        int high = hex_digit(text[3 * i]), low = hex_digit(text[3 * i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        if (i < 5 && text[3 * i + 2] != ':' && text[3 * i + 2] != '-') return std::nullopt;
        mac.bytes[i] = uint8_t(high * 16 + low);
    }
    return mac;
}

std::optional<MacAddress> MacAddress::parse_option(std::string_view text) {
    MacAddress mac;
    std::string copy(text);
    char* end = nullptr;
    errno = 0;
    long offset = std::strtol(copy.c_str(), &end, 0);
    if (errno == 0 && *end == '\0' && offset >= 0 && offset <= 0xffffff) {
        mac.bytes[3] = uint8_t(offset >> 16);
        mac.bytes[4] = uint8_t(offset >> 8);
        mac.bytes[5] = uint8_t(offset);
        return mac;
    }
    const char* p = copy.c_str();
    for (size_t i = 0; i < 6; ++i) {
        mac.bytes[i] = uint8_t(std::strtol(p, &end, 16));
        p = end;
        if (i == 5) return *p == '\0' ? std::optional(mac) : std::nullopt;
        if (*p != ':' && *p != '-') return std::nullopt;
        ++p;
    }
    return mac;
}

std::string MacAddress::text() const {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2], bytes[3],
                       bytes[4], bytes[5]);
}

MacAddress DefaultMacs::assign(const std::optional<MacAddress>& given) {
    if (given && !given->zero()) {
        if (has_default_prefix(*given)) used_[given->bytes[5]] = true;
        return *given;
    }
    MacAddress mac;
    std::copy(kDefaultPrefix.begin(), kDefaultPrefix.end(), mac.bytes.begin());
    unsigned index = 0x56;
    while (index < 0xff && used_[index]) ++index;
    mac.bytes[5] = uint8_t(index);  // QEMU wraps to 0xff when all are taken
    used_[index] = true;
    return mac;
}

} // namespace kestrel
