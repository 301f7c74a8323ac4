// kestrel-img map [-f fmt] [--start-offset=offset] [--max-length=len] [--output=ofmt] [-U] filename
#include "img/chain_status.h"
#include "img/img_commands.h"
#include "img/img_common.h"

#include <cinttypes>
#include <cstdio>

namespace kestrel::img {

namespace {

enum { kOptOutput = 256, kOptStart, kOptMaxLength };

struct Entry {
    uint64_t start = 0;
    ChainStatus s;
};

bool mergeable(const Entry& a, const Entry& b) {
    if (a.s.length == 0) return false;
    if (a.s.zero != b.s.zero || a.s.data != b.s.data || a.s.depth != b.s.depth || a.s.present != b.s.present ||
        a.s.has_offset != b.s.has_offset || a.s.file != b.s.file)
        return false;
    return !a.s.has_offset || a.s.offset + a.s.length == b.s.offset;
}

void print(const Entry& e, bool json, bool last) {
    if (json) {
        std::printf("{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %d, \"present\": %s, \"zero\": %s, "
                    "\"data\": %s",
                    e.start, e.s.length, e.s.depth, e.s.present ? "true" : "false", e.s.zero ? "true" : "false",
                    e.s.data ? "true" : "false");
        if (e.s.has_offset) std::printf(", \"offset\": %" PRIu64, e.s.offset);
        std::printf("}%s", last ? "" : ",\n");
        return;
    }
    if (e.s.data && !e.s.has_offset) fail("File contains external, encrypted or compressed clusters.");
    if (e.s.data && !e.s.zero) {
        char start[32], length[32], offset[32];
        std::snprintf(start, sizeof start, "%#" PRIx64, e.start);
        std::snprintf(length, sizeof length, "%#" PRIx64, e.s.length);
        std::snprintf(offset, sizeof offset, "%#" PRIx64, e.s.has_offset ? e.s.offset : 0);
        std::printf("%-16s%-16s%-16s%s\n", start, length, offset, e.s.file ? e.s.file->filename().c_str() : "");
    }
}

} // namespace

int cmd_map(int argc, char** argv) {
    std::string format;
    bool json = false, force_share = false;
    uint64_t start = 0, max_length = UINT64_MAX;
    std::vector<std::string> operands = parse_options(
        argc, argv, "f:hs:l:U",
        {{"help", no_argument, 'h'},
         {"format", required_argument, 'f'},
         {"output", required_argument, kOptOutput},
         {"start-offset", required_argument, 's'},
         {"max-length", required_argument, 'l'},
         {"force-share", no_argument, 'U'}},
        [&](int c, const char* arg) {
            switch (c) {
            case 'h': print_help_and_exit();
            case 'f': format = arg; break;
            case 'U': force_share = true; break;
            case 's': start = size_option("offset", arg); break;
            case 'l': max_length = size_option("length", arg); break;
            case kOptOutput: json = parse_output_json(arg); break;
            }
        });
    if (operands.size() != 1) usage_error("Expecting one image file name");
    AioContext ctx;
    OpenRequest req;
    req.path = operands[0];
    req.format = format;
    req.force_share = force_share;
    std::unique_ptr<AsyncImage> image = open_for_command(ctx, req);
    uint64_t end = image->size();
    if (max_length != UINT64_MAX && start + max_length < end) end = start + max_length;
    if (json) std::printf("[");
    else std::printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    Entry current;
    bool have = false;
    for (uint64_t offset = start; offset < end;) {
        Entry next{offset, ctx.run(chain_status(*image, offset, end - offset))};
        if (next.s.length == 0) fail("Could not read file metadata: Input/output error");
        offset += next.s.length;
        if (have && mergeable(current, next)) {
            current.s.length += next.s.length;
            continue;
        }
        if (have) print(current, json, false);
        current = next;
        have = true;
    }
    if (have) print(current, json, true);
    if (json) std::printf("]\n");
    return 0;
}

} // namespace kestrel::img
