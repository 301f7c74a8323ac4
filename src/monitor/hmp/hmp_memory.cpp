// x, xp, memsave, pmemsave: guest memory as text (QEMU's memory_dump
// layout) and to files.
#include "monitor/hmp/hmp_command.h"
#include "base/unique_fd.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <vector>

namespace kestrel {

namespace {

bool read_guest(HmpContext& ctx, bool physical, uint64_t addr, std::span<uint8_t> out) {
    if (physical) return ctx.vm().read_physical(addr, out);
    return ctx.vm().read_virtual(ctx.state.current_cpu, addr, out);
}

uint64_t little_endian(const uint8_t* p, unsigned size) {
    uint64_t v = 0;
    for (unsigned i = size; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

std::string char_item(uint8_t c) {
    switch (c) {
    case '\'': return "'\\''";
    case '\\': return "'\\\\'";
    case '\n': return "'\\n'";
    case '\r': return "'\\r'";
    default:
        if (c >= 32 && c <= 126) return fmt::format("'{}'", static_cast<char>(c));
        return fmt::format("'\\x{:02x}'", c);
    }
}

// One value of a dump line, in the column width QEMU gives each format.
// Like QEMU, 'd' is signed only for 8-byte units (smaller ones are read
// zero-extended).
std::string dump_item(uint64_t v, char format, unsigned size) {
    unsigned bits = size * 8;
    switch (format) {
    case 'o': {
        std::string digits = v ? fmt::format("0{:o}", v) : "0";
        return fmt::format("{:>{}}", digits, (bits + 2) / 3);
    }
    case 'u': return fmt::format("{:>{}}", v, (bits * 10 + 32) / 33);
    case 'd': return fmt::format("{:>{}}", static_cast<int64_t>(v), (bits * 10 + 32) / 33);
    case 'c': return char_item(static_cast<uint8_t>(v));
    default: return fmt::format("0x{:0{}x}", v, size * 2);
    }
}

// Lines of 16 bytes (8 for bytes); 'c' prints count*size bytes one by one.
void memory_dump(HmpContext& ctx, const HmpFormat& f, uint64_t addr, bool physical) {
    if (f.format == 'i') {
        ctx.print(fmt::format("0x{:08x}: Asm output not supported on this arch\n", addr));
        return;
    }
    uint64_t len = f.count * f.size;
    unsigned line_size = f.size == 1 ? 8 : 16;
    unsigned unit = f.format == 'c' ? 1 : f.size;
    std::vector<uint8_t> buf(line_size);
    while (len > 0) {
        ctx.print(fmt::format("{:016x}:", addr));
        unsigned n = static_cast<unsigned>(std::min<uint64_t>(len, line_size));
        if (!read_guest(ctx, physical, addr, std::span(buf.data(), n))) {
            ctx.print(" Cannot access memory\n");
            return;
        }
        for (unsigned i = 0; i < n; i += unit) {
            ctx.print(" ");
            ctx.print(dump_item(little_endian(&buf[i], unit), f.format, unit));
        }
        ctx.print("\n");
        addr += n;
        len -= n;
    }
}

void dump_virtual(HmpContext& ctx, const HmpCall& call) { memory_dump(ctx, call.format(0), call.number(1), false); }
void dump_physical(HmpContext& ctx, const HmpCall& call) { memory_dump(ctx, call.format(0), call.number(1), true); }

// The file is created first, as QEMU does, so a bad range leaves it empty.
void save_memory(HmpContext& ctx, const HmpCall& call, bool physical) {
    uint64_t addr = call.number(0);
    int64_t size = static_cast<int32_t>(call.number(1));
    const std::string& path = call.text(2);
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
    if (!fd) throw MonitorError("Could not open '" + path + "': " + std::strerror(errno));
    std::vector<uint8_t> buf(1024);
    for (int64_t done = 0; done < size;) {
        size_t n = static_cast<size_t>(std::min<int64_t>(size - done, 1024));
        if (!read_guest(ctx, physical, addr + static_cast<uint64_t>(done), std::span(buf.data(), n)))
            throw MonitorError(fmt::format("Invalid addr 0x{:016x}/size {} specified", addr, size));
        if (::write(fd.get(), buf.data(), n) != static_cast<ssize_t>(n)) throw MonitorError("An IO error has occurred");
        done += static_cast<int64_t>(n);
    }
}

void memsave(HmpContext& ctx, const HmpCall& call) { save_memory(ctx, call, false); }
void pmemsave(HmpContext& ctx, const HmpCall& call) { save_memory(ctx, call, true); }

} // namespace

const std::vector<HmpCommand>& hmp_memory_commands() {
    using A = HmpArg;
    static const std::vector<HmpCommand> table{
        {"memsave", {A::Expr, A::Expr, A::String}, "addr size file",
         "save to disk virtual memory dump starting at 'addr' of size 'size'", memsave},
        {"pmemsave", {A::Expr, A::Expr, A::String}, "addr size file",
         "save to disk physical memory dump starting at 'addr' of size 'size'", pmemsave},
        {"x", {A::Format, A::Expr}, "/fmt addr", "virtual memory dump starting at 'addr'", dump_virtual},
        {"xp", {A::Format, A::Expr}, "/fmt addr", "physical memory dump starting at 'addr'", dump_physical},
    };
    return table;
}

} // namespace kestrel
