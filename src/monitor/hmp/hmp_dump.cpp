// dump-guest-memory and "info dump", as QEMU 7.2's HMP: the same checks
// and errors as QMP's command, through the process's one GuestDumper.
#include "monitor/dump/guest_dumper.h"
#include "monitor/hmp/hmp_command.h"

#include <fmt/format.h>

namespace kestrel {

namespace {

enum { kPaging, kDetach, kWinDmp, kZlib, kLzo, kSnappy, kFile, kBegin, kLength };

GuestDumper& dumper(HmpContext& ctx) {
    if (!ctx.services.dumper) throw MonitorError("this feature or command is not currently supported");
    return *ctx.services.dumper;
}

void dump_guest_memory(HmpContext& ctx, const HmpCall& call) {
    if (call.flag(kWinDmp) + call.flag(kZlib) + call.flag(kLzo) + call.flag(kSnappy) > 1)
        throw MonitorError("only one of '-z|-l|-s|-w' can be set");
    DumpRequest r;
    r.paging = call.flag(kPaging);
    r.detach = call.flag(kDetach);
    r.format = call.flag(kWinDmp) ? "win-dmp" : call.flag(kZlib) ? "kdump-zlib" : call.flag(kLzo) ? "kdump-lzo"
             : call.flag(kSnappy) ? "kdump-snappy" : "elf";
    if (call.has(kBegin)) r.begin = call.signed_number(kBegin);
    if (call.has(kLength)) r.length = call.signed_number(kLength);
    GuestDumper& d = dumper(ctx);
    d.check(r);
    d.start(r, open_dump_target("file:" + call.text(kFile), nullptr));
}

void info_dump(HmpContext& ctx, const HmpCall&) {
    DumpProgress p = dumper(ctx).progress();
    ctx.print("Status: " + p.status + "\n");
    if (p.status == "active" && p.total)
        ctx.print(fmt::format("Finished: {:.2f} %\n", 100.0f * static_cast<float>(p.completed) / p.total));
}

} // namespace

std::vector<HmpCommand> hmp_dump_commands() {
    using A = HmpArg;
    return {{"dump-guest-memory", {A::Filename, A::OptExpr, A::OptExpr}, "[-p] [-d] [-z|-l|-s|-w] filename [begin length]",
             "dump guest memory into file 'filename'.\n\t\t\t"
             "-p: do paging to get guest's memory mapping.\n\t\t\t"
             "-d: return immediately (do not wait for completion).\n\t\t\t"
             "-z: dump in kdump-compressed format, with zlib compression.\n\t\t\t"
             "-l: dump in kdump-compressed format, with lzo compression.\n\t\t\t"
             "-s: dump in kdump-compressed format, with snappy compression.\n\t\t\t"
             "-w: dump in Windows crashdump format (can be used instead of ELF-dump converting),\n\t\t\t"
             "    for Windows x86 and x64 guests with vmcoreinfo driver only.\n\t\t\t"
             "begin: the starting physical address.\n\t\t\t"
             "length: the memory size, in bytes.",
             dump_guest_memory, nullptr, "pdwzls"}};
}

HmpCommand hmp_info_dump_command() {
    return {"dump", {}, "", "Display the latest dump status", info_dump};
}

} // namespace kestrel
