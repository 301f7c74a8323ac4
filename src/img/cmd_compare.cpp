// kestrel-img compare [-f fmt] [-F fmt] [-T src_cache] [-p] [-q] [-s] [-U] filename1 filename2
// Exit status 0 identical, 1 different, 2 error, as qemu-img's.
#include "block/async/buffer.h"
#include "block/async/iov.h"
#include "img/chain_status.h"
#include "img/img_commands.h"
#include "img/img_common.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace kestrel::img {

namespace {

constexpr uint64_t kChunk = 2u << 20;
constexpr uint64_t kSector = 512;

bool g_quiet = false;

void say(const std::string& text) {
    if (!g_quiet) std::printf("%s", text.c_str());
}

std::string at_offset(const char* what, uint64_t offset) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%s%" PRIu64 "!\n", what, offset);
    return buf;
}

// The first 512-byte sector where a and b differ, or len.
uint64_t first_difference(const uint8_t* a, const uint8_t* b, uint64_t len) {
    for (uint64_t i = 0; i < len; i += kSector)
        if (std::memcmp(a + i, b + i, std::min(kSector, len - i))) return i;
    return len;
}

uint64_t first_nonzero(const uint8_t* a, uint64_t len) {
    for (uint64_t i = 0; i < len; i += kSector)
        if (!buffer_is_zero(a + i, std::min(kSector, len - i))) return i;
    return len;
}

int read_into(AioContext& ctx, AsyncImage& image, uint64_t offset, Buffer& buf, uint64_t len) {
    std::vector<iovec> iov{buf.iov(0, size_t(len))};
    int r = ctx.run(image.read(offset, std::move(iov)));
    if (r < 0) {
        char text[128];
        std::snprintf(text, sizeof text, "Error while reading offset %" PRIu64 " of %s: ", offset, image.filename().c_str());
        fail(text + errno_text(r), 2);
    }
    return r;
}

// Whether [start, end) of one image reads as zeros; prints the mismatch.
bool tail_is_zero(AioContext& ctx, AsyncImage& image, uint64_t start, uint64_t end, Buffer& buf) {
    for (uint64_t off = start; off < end;) {
        ChainStatus st = ctx.run(chain_status(image, off, std::min(kChunk, end - off)));
        if (st.length == 0) fail("Could not read file metadata", 2);
        if (!(st.zero && !st.data)) {
            read_into(ctx, image, off, buf, st.length);
            uint64_t bad = first_nonzero(buf.data(), st.length);
            if (bad < st.length) {
                say(at_offset("Content mismatch at offset ", off + bad));
                return false;
            }
        }
        off += st.length;
    }
    return true;
}

} // namespace

int cmd_compare(int argc, char** argv) {
    std::string format1, format2;
    bool strict = false, progress = false, force_share = false;
    CacheMode cache = CacheMode::Writeback;
    g_quiet = false;
    std::vector<std::string> operands = parse_options(argc, argv, "hf:F:T:pqsU",
                                 {{"help", no_argument, 'h'}, {"force-share", no_argument, 'U'}},
                                 [&](int c, const char* arg) {
                                     switch (c) {
                                     case 'h': print_help_and_exit();
                                     case 'f': format1 = arg; break;
                                     case 'F': format2 = arg; break;
                                     case 'T': cache = parse_cache(arg, true); break;
                                     case 'p': progress = true; break;
                                     case 'q': g_quiet = true; break;
                                     case 's': strict = true; break;
                                     case 'U': force_share = true; break;
                                     }
                                 });
    if (operands.size() != 2) usage_error("Expecting two image file names");
    if (g_quiet) progress = false;
    AioContext ctx;
    auto open = [&](const std::string& path, const std::string& fmt) {
        OpenRequest r;
        r.path = path;
        r.format = fmt;
        r.force_share = force_share;
        r.cache = cache;
        try {
            return open_for_command(ctx, r);
        } catch (const Failure& f) {
            throw Failure(f.what(), 2, false);
        }
    };
    std::unique_ptr<AsyncImage> a = open(operands[0], format1), b = open(operands[1], format2);
    const uint64_t size_a = a->size(), size_b = b->size(), common = std::min(size_a, size_b);
    if (strict && size_a != size_b) {
        say("Strict mode: Image size mismatch!\n");
        return 1;
    }
    Progress bar(progress, 2.0);
    bar.update(0);
    Buffer buf_a(kChunk), buf_b(kChunk);
    for (uint64_t off = 0; off < common;) {
        ChainStatus sa = ctx.run(chain_status(*a, off, std::min(kChunk, common - off)));
        ChainStatus sb = ctx.run(chain_status(*b, off, sa.length));
        uint64_t len = std::min(sa.length, sb.length);
        if (len == 0) fail("Could not read file metadata", 2);
        if (strict && sa.present != sb.present) {
            say("Strict mode: Offset " + std::to_string(off) + " block status mismatch!\n");
            return 1;
        }
        bool zero_a = sa.zero && !sa.data, zero_b = sb.zero && !sb.data;
        if (!(zero_a && zero_b)) {
            if (!zero_a) read_into(ctx, *a, off, buf_a, len);
            if (!zero_b) read_into(ctx, *b, off, buf_b, len);
            uint64_t diff = zero_a ? first_nonzero(buf_b.data(), len)
                          : zero_b ? first_nonzero(buf_a.data(), len)
                                   : first_difference(buf_a.data(), buf_b.data(), len);
            if (diff < len) {
                say(at_offset("Content mismatch at offset ", off + diff));
                return 1;
            }
        }
        off += len;
        bar.update(100.0 * double(off) / double(std::max(size_a, size_b)));
    }
    if (size_a != size_b) {
        say("Warning: Image size mismatch!\n");
        AsyncImage& longer = size_a > size_b ? *a : *b;
        if (!tail_is_zero(ctx, longer, common, longer.size(), buf_a)) return 1;
    }
    bar.update(100);
    bar.finish();
    say("Images are identical.\n");
    return 0;
}

} // namespace kestrel::img
