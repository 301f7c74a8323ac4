#pragma once
// An Ethernet MAC address as QEMU reads and prints it ("52:54:00:12:34:56",
// '-' also accepted between bytes), and QEMU's default addresses for NICs
// without mac=: 52:54:00:12:34:56 and up, the lowest not yet in use.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kestrel {

struct MacAddress {
    std::array<uint8_t, 6> bytes{};

    // qdev's mac= property: six pairs of hex digits separated by ':' or '-'.
    static std::optional<MacAddress> parse(std::string_view text);
    // -nic mac= and -net nic,macaddr= (QEMU's net_parse_macaddr): groups of
    // hex digits, or one number below 2^24 for the last three bytes.
    static std::optional<MacAddress> parse_option(std::string_view text);
    std::string text() const;  // lower-case hex, ':' separated
    bool multicast() const { return bytes[0] & 1; }
    bool zero() const { return bytes == std::array<uint8_t, 6>{}; }
    bool operator==(const MacAddress&) const = default;
};

// QEMU's qemu_macaddr_default_if_unset over one machine's NICs, in their
// creation order: a NIC without an address takes the lowest free
// 52:54:00:12:34:XX (XX from 0x56); a NIC with one in that range marks it
// used.
class DefaultMacs {
public:
    // `given` is the NIC's own address, if any; returns the one it gets.
    MacAddress assign(const std::optional<MacAddress>& given);

private:
    std::array<bool, 256> used_{};
};

} // namespace kestrel
