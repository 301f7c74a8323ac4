#pragma once
// Inside the HMP: the command tables, the parsed arguments a handler gets
// and the context it prints into.
#include "monitor/hmp/hmp.h"
#include "monitor/hmp/hmp_expr.h"
#include "monitor/hmp/hmp_readline.h"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kestrel {

// "/FMT" of x and xp: count, format letter (x d u o c i), unit size in
// bytes (0 for 'i', which has none).
struct HmpFormat {
    uint64_t count = 1;
    char format = 'x';
    unsigned size = 4;
};

enum class HmpArg {
    Format,     // optional "/FMT"; defaults come from HmpState
    Expr,       // integer expression
    OptExpr,    // the same, may be absent
    String,     // word or "quoted"  ("<cmd>: string expected")
    Filename,   // the same          ("<cmd>: filename expected")
    Device,     // the same          ("<cmd>: block device name expected")
    AllFlag,    // optional "-a"
    OptRest,    // the rest of the line, may be absent
    OptString,  // a word or "quoted", may be absent
    Megabytes,  // integer expression in MiB, not negative ("enter a positive value"); bytes
    OnOff,      // "on" or "off" ("Expected 'on' or 'off'"), as a flag
};

using HmpArgValue = std::variant<std::monostate, uint64_t, std::string, HmpFormat, bool>;

struct HmpCall {
    std::vector<HmpArgValue> values;   // one per HmpArg of the command
    bool has(size_t i) const { return !std::holds_alternative<std::monostate>(values.at(i)); }
    uint64_t number(size_t i) const { return std::get<uint64_t>(values.at(i)); }
    int64_t signed_number(size_t i) const { return static_cast<int64_t>(number(i)); }
    const std::string& text(size_t i) const { return std::get<std::string>(values.at(i)); }
    const HmpFormat& format(size_t i) const { return std::get<HmpFormat>(values.at(i)); }
    bool flag(size_t i) const { return std::get<bool>(values.at(i)); }
};

struct HmpContext {
    HmpServices& services;
    HmpState& state;
    std::string out;   // lines end in "\n" here; run_hmp_command makes them "\r\n"
    bool suspend = false;   // "quit": the session prints no new prompt

    VmControl& vm() { return services.vm; }
    void print(std::string_view text) { out += text; }
    HmpRegisterLookup registers();   // "$name" of the current vCPU
};

struct HmpCommand;
using HmpHandler = void (*)(HmpContext&, const HmpCall&);

struct HmpCommand {
    std::string_view name;     // "cont|c": the name and its aliases
    std::vector<HmpArg> args;
    std::string_view params;   // as "help" shows them: "addr size file"
    std::string_view help;
    HmpHandler handler;
    const std::vector<HmpCommand>* subcommands = nullptr;   // "info"
    // Option letters before the arguments, in QEMU's args_type order
    // ("pd": "-p", "-d"); each gives one bool value ahead of args' values.
    std::string_view flags = "";
};

const std::vector<HmpCommand>& hmp_commands();
const std::vector<HmpCommand>& hmp_info_commands();
const std::vector<HmpCommand>& hmp_memory_commands();   // x, xp, memsave, pmemsave
void hmp_info_block(HmpContext& ctx, const HmpCall& call);        // hmp_block.cpp
void hmp_info_blockstats(HmpContext& ctx, const HmpCall& call);
void hmp_info_block_jobs(HmpContext& ctx, const HmpCall& call);
void hmp_commit(HmpContext& ctx, const HmpCall& call);
void hmp_eject(HmpContext& ctx, const HmpCall& call);
void hmp_change_medium(HmpContext& ctx, const std::string& device, std::string_view rest);
std::vector<HmpCommand> hmp_net_commands();                        // hmp_net.cpp
std::vector<HmpCommand> hmp_dump_commands();                       // hmp_dump.cpp
HmpCommand hmp_info_dump_command();
void hmp_info_network(HmpContext& ctx, const HmpCall& call);
void hmp_info_usernet(HmpContext& ctx, const HmpCall& call);
// hmp_objects.cpp
void hmp_info_iothreads(HmpContext& ctx, const HmpCall& call);
void hmp_info_memdev(HmpContext& ctx, const HmpCall& call);
// hmp_display.cpp
void hmp_screendump(HmpContext& ctx, const HmpCall& call);
void hmp_info_vnc(HmpContext& ctx, const HmpCall& call);
void hmp_info_mice(HmpContext& ctx, const HmpCall& call);
void hmp_sendkey(HmpContext& ctx, const HmpCall& call);
void hmp_mouse_move(HmpContext& ctx, const HmpCall& call);
void hmp_mouse_button(HmpContext& ctx, const HmpCall& call);
void hmp_mouse_set(HmpContext& ctx, const HmpCall& call);
void hmp_set_password(HmpContext& ctx, const HmpCall& call);
void hmp_expire_password(HmpContext& ctx, const HmpCall& call);
void hmp_change(HmpContext& ctx, const HmpCall& call);

// The command called `name` (or one of its aliases) in `table`.
const HmpCommand* find_hmp_command(const std::vector<HmpCommand>& table, std::string_view name);
// "help" lines: "name params -- help", sorted by name; prefix "info ".
std::string hmp_help_line(const HmpCommand& cmd, std::string_view prefix = "");
std::string hmp_help_list(const std::vector<HmpCommand>& table, std::string_view prefix = "");

// Parses the arguments after the command name. Throws HmpArgError.
HmpCall parse_hmp_args(const HmpCommand& cmd, std::string_view text, HmpContext& ctx);

// Tab completion of command names ("info " subcommands too).
HmpCompletion complete_hmp_command(std::string_view before_cursor);

std::string hmp_crlf(std::string_view text);

// Runs one line into ctx.out ("\n" line ends). False when the monitor must
// stay silent afterwards ("quit").
bool run_hmp_line(HmpContext& ctx, std::string_view line);

} // namespace kestrel
