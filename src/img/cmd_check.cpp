// kestrel-img check [-q] [-f fmt] [--output=ofmt] [-r [leaks | all]] [-T src_cache] [-U] filename
// Exit status as qemu-img's: 0 clean, 1 check failed, 2 corruptions, 3
// leaks only, 63 format without checks (raw).
#include "block/qcow2/qcow2_check.h"
#include "block/qcow2/qcow2_image.h"
#include "img/img_commands.h"
#include "img/img_common.h"
#include "img/qdict_json.h"

#include <cinttypes>
#include <cstdio>
#include <iostream>

namespace kestrel::img {

namespace {

enum { kOptOutput = 256 };

struct Report {
    std::string filename, format;
    Qcow2CheckResult r;
};

Json check_json(const Report& rep) {
    const Qcow2CheckResult& r = rep.r;
    Json j = Json::object();
    j.set("filename", rep.filename);
    j.set("format", rep.format);
    j.set("check-errors", r.check_errors);
    if (r.image_end_offset) j.set("image-end-offset", r.image_end_offset);
    if (r.corruptions) j.set("corruptions", r.corruptions);
    if (r.leaks) j.set("leaks", r.leaks);
    if (r.corruptions_fixed) j.set("corruptions-fixed", r.corruptions_fixed);
    if (r.leaks_fixed) j.set("leaks-fixed", r.leaks_fixed);
    if (r.total_clusters) j.set("total-clusters", r.total_clusters);
    if (r.allocated_clusters) j.set("allocated-clusters", r.allocated_clusters);
    if (r.fragmented_clusters) j.set("fragmented-clusters", r.fragmented_clusters);
    if (r.compressed_clusters) j.set("compressed-clusters", r.compressed_clusters);
    return j;
}

void print_human(const Qcow2CheckResult& r) {
    if (r.corruptions == 0 && r.leaks == 0 && r.check_errors == 0) {
        std::printf("No errors were found on the image.\n");
    } else {
        if (r.corruptions)
            std::printf("\n%" PRIu64 " errors were found on the image.\n"
                        "Data may be corrupted, or further writes to the image may corrupt it.\n",
                        r.corruptions);
        if (r.leaks)
            std::printf("\n%" PRIu64 " leaked clusters were found on the image.\n"
                        "This means waste of disk space, but no harm to data.\n",
                        r.leaks);
        if (r.check_errors)
            std::printf("\n%" PRIu64 " internal errors have occurred during the check.\n", r.check_errors);
    }
    if (r.total_clusters != 0 && r.allocated_clusters != 0)
        std::printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% compressed clusters\n",
                    r.allocated_clusters, r.total_clusters, r.allocated_clusters * 100.0 / double(r.total_clusters),
                    r.fragmented_clusters * 100.0 / double(r.allocated_clusters),
                    r.compressed_clusters * 100.0 / double(r.allocated_clusters));
    if (r.image_end_offset) std::printf("Image end offset: %" PRIu64 "\n", r.image_end_offset);
}

int run_check(AioContext& ctx, Qcow2Image& image, Qcow2Repair repair, Qcow2CheckResult& out) {
    int r = ctx.run(qcow2_check(image, repair, out));
    for (const std::string& m : out.messages) std::cerr << m << "\n";
    out.messages.clear();
    return r;
}

} // namespace

int cmd_check(int argc, char** argv) {
    std::string format;
    bool json = false, quiet = false, force_share = false;
    Qcow2Repair repair = Qcow2Repair::None;
    CacheMode cache = CacheMode::Writeback;
    std::vector<std::string> operands = parse_options(
        argc, argv, "hf:r:T:qU",
        {{"help", no_argument, 'h'},
         {"format", required_argument, 'f'},
         {"repair", required_argument, 'r'},
         {"output", required_argument, kOptOutput},
         {"force-share", no_argument, 'U'}},
        [&](int c, const char* arg) {
            std::string a = arg ? arg : "";
            switch (c) {
            case 'h': print_help_and_exit();
            case 'f': format = a; break;
            case 'r':
                if (a == "leaks") repair = Qcow2Repair::Leaks;
                else if (a == "all") repair = Qcow2Repair::All;
                else usage_error("Unknown option value for -r (expecting 'leaks' or 'all'): " + a);
                break;
            case 'T': cache = parse_cache(a, true); break;
            case 'q': quiet = true; break;
            case 'U': force_share = true; break;
            case kOptOutput: json = parse_output_json(a); break;
            }
        });
    if (operands.size() != 1) usage_error("Expecting one image file name");
    if (repair != Qcow2Repair::None && force_share) usage_error("force-share=on can only be used with read-only images");
    AioContext ctx;
    OpenRequest req;
    req.path = operands[0];
    req.format = format;
    req.writable = repair != Qcow2Repair::None;
    req.force_share = force_share;
    req.cache = cache;
    req.open_backing = false;
    req.for_repair = repair != Qcow2Repair::None;
    std::unique_ptr<AsyncImage> image = open_for_command(ctx, req);
    auto* q = dynamic_cast<Qcow2Image*>(image.get());
    if (!q) fail("This image format does not support checks", 63);

    Report rep{operands[0], "qcow2", {}};
    int r = run_check(ctx, *q, repair, rep.r);
    if (r == 0 && (rep.r.corruptions_fixed || rep.r.leaks_fixed)) {
        uint64_t leaks_fixed = rep.r.leaks_fixed, corruptions_fixed = rep.r.corruptions_fixed;
        if (!json && !quiet)
            std::printf("The following inconsistencies were found and repaired:\n\n"
                        "    %" PRIu64 " leaked clusters\n    %" PRIu64 " corruptions\n\n"
                        "Double checking the fixed image now...\n",
                        leaks_fixed, corruptions_fixed);
        rep.r = Qcow2CheckResult{};
        r = run_check(ctx, *q, Qcow2Repair::None, rep.r);
        rep.r.leaks_fixed = leaks_fixed;
        rep.r.corruptions_fixed = corruptions_fixed;
    }
    if (r == 0 && !quiet) {
        if (json)
            std::printf("%s\n", check_json(rep).pretty().c_str());
        else
            print_human(rep.r);
    }
    std::fflush(stdout);
    // A repaired image is consistent again: QEMU clears its dirty and corrupt bits.
    if (r == 0 && repair != Qcow2Repair::None && !rep.r.corruptions && !rep.r.check_errors) {
        int cleared = ctx.run(q->mark_consistent());
        if (cleared < 0) r = cleared;
    }
    int closed = ctx.run(image->close());
    if (r < 0 || rep.r.check_errors) fail(r < 0 ? "Check failed: " + errno_text(r) : "Check failed");
    if (closed < 0) fail("Check failed: " + errno_text(closed));
    if (rep.r.corruptions) return 2;
    if (rep.r.leaks) return 3;
    return 0;
}

} // namespace kestrel::img
