// kestrel-img resize [-f fmt] [--preallocation=prealloc] [-q] [--shrink] filename [+ | -]size
#include "block/image/raw_image.h"
#include "block/qcow2/qcow2_image.h"
#include "img/img_commands.h"
#include "img/img_common.h"

#include <cstdio>
#include <fcntl.h>

namespace kestrel::img {

namespace {

enum { kOptPreallocation = 256, kOptShrink };

} // namespace

int cmd_resize(int argc, char** argv) {
    // The size goes first, so that "-10M" is not taken for an option.
    if (argc < 3) usage_error("Not enough arguments");
    std::string size_text = argv[--argc];
    std::string format, prealloc = "off";
    bool quiet = false, shrink = false;
    std::vector<std::string> operands = parse_options(
        argc, argv, "f:hq",
        {{"help", no_argument, 'h'},
         {"preallocation", required_argument, kOptPreallocation},
         {"shrink", no_argument, kOptShrink}},
        [&](int c, const char* arg) {
            switch (c) {
            case 'h': print_help_and_exit();
            case 'f': format = arg; break;
            case 'q': quiet = true; break;
            case kOptPreallocation: prealloc = arg; break;
            case kOptShrink: shrink = true; break;
            }
        });
    if (operands.size() != 1) usage_error("Expecting image file name and size");
    int sign = 0;
    if (!size_text.empty() && (size_text[0] == '+' || size_text[0] == '-')) {
        sign = size_text[0] == '+' ? 1 : -1;
        size_text.erase(0, 1);
    }
    uint64_t amount = 0;
    if (!parse_size(size_text, amount) || amount > uint64_t(INT64_MAX))
        fail_with_hint("Parameter 'size' expects a non-negative number below 2^64",
                       "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
                       "and exabytes, respectively.");
    if (prealloc != "off" && prealloc != "falloc" && prealloc != "full" && prealloc != "metadata")
        fail("Invalid preallocation mode '" + prealloc + "'");
    if (prealloc != "off") fail("Preallocation (--preallocation) when resizing is not supported by kestrel-img");
    AioContext ctx;
    OpenRequest r;
    r.path = operands[0];
    r.format = format;
    r.writable = true;
    r.open_backing = false;
    std::unique_ptr<AsyncImage> image = open_for_command(ctx, r);
    uint64_t current = image->size();
    int64_t wanted = sign == 0 ? int64_t(amount) : int64_t(current) + sign * int64_t(amount);
    if (wanted <= 0 && sign < 0) fail("New image size must be positive");
    uint64_t new_size = uint64_t(wanted);
    if (new_size < current && !shrink) {
        fail("Use the --shrink option to perform a shrink operation.\n"
             "warning: Shrinking an image will delete all data beyond the shrunken image's end. Before performing "
             "such an operation, make sure there is no important data there.");
    }
    int err = 0;
    if (auto* q = dynamic_cast<Qcow2Image*>(image.get())) {
        if (new_size % 512) fail("The new size must be a multiple of 512");
        err = ctx.run(q->resize(new_size));
    } else {
        err = static_cast<RawImage&>(*image).truncate(new_size);
    }
    if (err == 0) err = ctx.run(image->close());
    if (err < 0) fail("Could not resize image: " + errno_text(err));
    if (!quiet) std::printf("Image resized.\n");
    return 0;
}

} // namespace kestrel::img
