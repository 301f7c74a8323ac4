// kestrel-img create [-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u] [-o options] filename [size]
#include "img/create_options.h"
#include "img/img_commands.h"
#include "img/img_common.h"

namespace kestrel::img {

int cmd_create(int argc, char** argv) {
    CreateRequest r;
    std::string backing, backing_fmt, options_text;
    bool have_backing = false, have_backing_fmt = false;
    std::vector<std::string> operands = parse_options(
        argc, argv, "F:b:f:ho:qu", {{"help", no_argument, 'h'}}, [&](int c, const char* arg) {
            switch (c) {
            case 'h': print_help_and_exit();
            case 'F': backing_fmt = arg; have_backing_fmt = true; break;
            case 'b': backing = arg; have_backing = true; break;
            case 'f': r.format = arg; break;
            case 'o':
                if (!options_text.empty()) options_text += ",";
                options_text += arg;
                break;
            case 'q': r.quiet = true; break;
            case 'u': r.unsafe_backing = true; break;
            }
        });
    std::map<std::string, std::string> parsed;
    parse_create_options(options_text, parsed);
    if (parsed.count("help")) {
        if (!known_format(r.format)) fail("Unknown file format '" + r.format + "'");
        print_create_help(r.format);
        return 0;
    }
    if (operands.empty()) usage_error("Expecting image file name");
    r.filename = operands[0];
    if (operands.size() >= 2) {
        uint64_t size = size_option("image size", operands[1]);
        if (parsed.count("size")) fail(r.filename + ": The image size must be specified only once");
        parsed["size"] = std::to_string(size);
    }
    if (operands.size() > 2) usage_error("Unexpected argument: " + operands[2]);
    if (have_backing) parsed["backing_file"] = backing;
    if (have_backing_fmt) parsed["backing_fmt"] = backing_fmt;
    r.options = std::move(parsed);
    create_image(std::move(r));
    return 0;
}

} // namespace kestrel::img
