// Option values as QEMU's grammars read them (QemuOpts, keyval, the
// chardev shorthands, -device properties), through the whole parser so
// that the later checks (drives and devices that name each other, PCI
// slots, -global) run too. The input is a list of (option, value): a byte
// picks the option from kOptions, a NUL-terminated string is its value.
// A fixed prefix gives -device something to refer to.
#include "argv_fuzz.h"

#include <array>
#include <string_view>

namespace {

constexpr std::array<std::string_view, 16> kOptions = {
    "-drive", "-device", "-chardev", "-global", "-object", "-machine", "-smp", "-m",
    "-serial", "-mon", "-monitor", "-qmp", "-rtc", "-accel", "-cpu", "-name",
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    kestrel::fuzz::ByteReader in(data, size);
    std::vector<std::string> args{"-nodefaults", "-drive", "if=none,id=d0,file=/dev/null,format=raw",
                                  "-chardev", "null,id=c0", "-object", "iothread,id=io0"};
    while (!in.done() && args.size() < 128) {
        args.emplace_back(kOptions[in.u8() % kOptions.size()]);
        args.push_back(in.cstring());
    }
    kestrel::fuzz::parse_args(args);
    return 0;
}
