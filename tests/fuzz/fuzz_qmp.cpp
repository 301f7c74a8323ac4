// QMP as a client drives it: the byte stream goes through the lexer, the
// JSON streamer and parser, then dispatch of whatever commands it spells,
// against a fake machine (tests/unit/monitor/qmp/qmp_fakes.h). HMP command
// lines sent with human-monitor-command run through the real HMP.
//
// Input: one byte of options (bit 0: pretty output; bits 1-7: chunk size
// - 1, how many bytes each receive() call gets), then the stream. After
// chunks the machine emits an event, as a running guest would.
#include "fuzz_support.h"
#include "monitor/hmp/hmp.h"
#include "../unit/monitor/qmp/qmp_fakes.h"

using namespace kestrel;
using namespace kestrel::qmp;

namespace {

// The machine and the monitor outlive the inputs (filling the fake RAM and
// building the command table cost more than most inputs). Each input is a
// new client: the session forgets the previous one on closed(), as it does
// for a real client, and what a command changed in the machine is put back.
struct Machine {
    QmpEventHub hub;
    test::FakeVm vm{hub};
    HmpServices hmp{vm};
    QmpServices services{vm, hub, [this](const std::string& line, std::optional<unsigned> cpu) {
                             HmpState state;
                             if (cpu) state.current_cpu = *cpu;
                             return run_hmp_command(hmp, state, line);
                         }};

    void restart() {
        vm.state = "prelaunch";
        vm.guest_name.clear();
        vm.quit_called = false;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Machine machine;
    static test::FakeChardev chr;
    static QmpSession compact(chr, machine.services, false);
    static test::FakeChardev pretty_chr;
    static QmpSession pretty(pretty_chr, machine.services, true);
    machine.restart();
    fuzz::ByteReader in(data, size);
    const uint8_t options = in.u8();
    const size_t chunk = size_t(options >> 1) + 1;
    test::FakeChardev& client = options & 1 ? pretty_chr : chr;
    // An event after every chunk, but at most 16 spread over the input:
    // with an event after every one of hundreds of one-byte chunks, the
    // events took more time than everything else the target does.
    const size_t every = (in.remaining() + chunk - 1) / chunk / 16 + 1;
    client.connect();
    for (size_t i = 0; !in.done(); ++i) {
        const auto bytes = in.bytes(chunk);
        client.type(std::string(bytes.begin(), bytes.end()));
        if (i % every == 0) machine.hub.emit_event("RTC_CHANGE", {{"offset", 1}});
        client.take();
    }
    client.disconnect();
    client.take();
    return 0;
}
