// kestrel-img info [-f fmt] [--output=ofmt] [--backing-chain] [-U] filename
#include "block/image/image_open.h"
#include "block/qcow2/qcow2_image.h"
#include "img/image_info.h"
#include "img/img_commands.h"
#include "img/img_common.h"

#include <cstdio>
#include <sys/stat.h>

namespace kestrel::img {

namespace {

enum { kOptOutput = 256, kOptBackingChain, kOptForceShare };

} // namespace

int cmd_info(int argc, char** argv) {
    std::string format;
    bool json = false, chain = false, force_share = false;
    std::vector<std::string> operands = parse_options(
        argc, argv, "f:hU",
        {{"help", no_argument, 'h'},
         {"format", required_argument, 'f'},
         {"output", required_argument, kOptOutput},
         {"backing-chain", no_argument, kOptBackingChain},
         {"force-share", no_argument, 'U'}},
        [&](int c, const char* arg) {
            switch (c) {
            case 'h': print_help_and_exit();
            case 'f': format = arg; break;
            case 'U': force_share = true; break;
            case kOptOutput: json = parse_output_json(arg); break;
            case kOptBackingChain: chain = true; break;
            }
        });
    if (operands.size() != 1) usage_error("Expecting one image file name");
    AioContext ctx;
    std::string filename = operands[0];
    std::vector<std::pair<std::unique_ptr<AsyncImage>, std::string>> images;
    std::set<std::pair<dev_t, ino_t>> seen;
    for (;;) {
        OpenRequest r;
        r.path = filename;
        r.format = format;
        r.force_share = force_share;
        r.open_backing = false;
        std::unique_ptr<AsyncImage> image = open_for_command(ctx, r);
        struct stat st {};
        if (chain && stat(filename.c_str(), &st) == 0 && !seen.insert({st.st_dev, st.st_ino}).second)
            fail("Backing file '" + filename + "' creates an infinite loop.");
        auto* q = dynamic_cast<Qcow2Image*>(image.get());
        std::string next = q && !q->header().backing_file.empty()
                               ? resolve_backing_path(filename, q->header().backing_file)
                               : "";
        std::string next_format = q ? q->header().backing_format : "";
        images.emplace_back(std::move(image), filename);
        if (!chain || next.empty()) break;
        filename = next;
        format = next_format;
    }
    if (json) {
        if (chain) {
            Json list = Json::array();
            for (auto& [image, name] : images) list.push(image_info_json(*image, name));
            std::printf("%s\n", list.pretty().c_str());
        } else {
            std::printf("%s\n", image_info_json(*images[0].first, images[0].second).pretty().c_str());
        }
        return 0;
    }
    for (size_t i = 0; i < images.size(); i++) {
        if (i) std::printf("\n");
        std::printf("%s", image_info_human(*images[i].first, images[i].second).c_str());
    }
    return 0;
}

} // namespace kestrel::img
