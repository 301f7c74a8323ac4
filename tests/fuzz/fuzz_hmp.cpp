// The human monitor as a terminal drives it: bytes go through the line
// editor (escape sequences, history, Tab completion) and each finished line
// through the command parser and the command, against a fake machine
// (tests/unit/monitor/hmp/hmp_fakes.h).
//
// Input: one byte of options (bits 0-6: chunk size - 1, how many bytes
// each receive() call gets; bit 7: the monitor loses and regains a mux's
// focus between chunks), then the keys.
#include "fuzz_support.h"
#include "monitor/hmp/hmp_session.h"
#include "../unit/monitor/hmp/hmp_fakes.h"

using namespace kestrel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::ByteReader in(data, size);
    const uint8_t options = in.u8();
    const size_t chunk = size_t(options & 0x7f) + 1;
    const bool refocus = options & 0x80;

    hmp_test::FakeVm vm;
    vm.pci.push_back({});  // one function for "info pci"
    HmpServices services{vm};
    hmp_test::FakeChardev chr;
    HmpSession session(chr, services);
    session.opened();
    while (!in.done() && session.can_receive() > 0) {
        const auto keys = in.bytes(std::min(chunk, session.can_receive()));
        chr.type({reinterpret_cast<const char*>(keys.data()), keys.size()});
        if (refocus) {
            session.focus_changed(false);
            session.focus_changed(true);
        }
        chr.take();
    }
    return 0;
}
