// kestrel-img snapshot [-U] [-q] [-l | -a snapshot | -c snapshot | -d snapshot] filename
#include "block/qcow2/qcow2_image.h"
#include "img/image_info.h"
#include "img/img_commands.h"
#include "img/img_common.h"

#include <cstdio>
#include <sys/time.h>

namespace kestrel::img {

namespace {

enum class Action { List, Create, Apply, Delete };

std::string next_id(const std::vector<qcow2::Snapshot>& list) {
    unsigned long max = 0;
    for (const qcow2::Snapshot& sn : list) max = std::max(max, std::strtoul(sn.id.c_str(), nullptr, 10));
    return std::to_string(max + 1);
}

} // namespace

int cmd_snapshot(int argc, char** argv) {
    Action action = Action::List;
    bool have_action = false, force_share = false;
    std::string name;
    std::vector<std::string> operands = parse_options(
        argc, argv, "la:c:d:hqU", {{"help", no_argument, 'h'}, {"force-share", no_argument, 'U'}},
        [&](int c, const char* arg) {
            auto set = [&](Action a) {
                if (have_action) usage_error("Cannot mix '-l', '-a', '-c', '-d'");
                have_action = true;
                action = a;
                if (arg) name = arg;
            };
            switch (c) {
            case 'h': print_help_and_exit();
            case 'l': set(Action::List); break;
            case 'a': set(Action::Apply); break;
            case 'c': set(Action::Create); break;
            case 'd': set(Action::Delete); break;
            case 'q': break;
            case 'U': force_share = true; break;
            }
        });
    if (operands.size() != 1) usage_error("Expecting one image file name");
    if (force_share && action != Action::List) usage_error("force-share=on can only be used with read-only images");
    AioContext ctx;
    OpenRequest r;
    r.path = operands[0];
    r.writable = action != Action::List;
    r.force_share = force_share;
    r.open_backing = false;
    std::unique_ptr<AsyncImage> image = open_for_command(ctx, r);
    auto* q = dynamic_cast<Qcow2Image*>(image.get());
    if (!have_action) return 0;  // as qemu-img: no action, nothing to do
    if (action == Action::List) {
        if (q && !q->snapshots().empty()) std::printf("%s", snapshot_list_human(*image).c_str());
        return 0;
    }
    const char* verb = action == Action::Create ? "create" : action == Action::Apply ? "apply" : "delete";
    if (!q) fail("Could not " + std::string(verb) + " snapshot '" + name + "': -95 (Operation not supported)");
    int err = 0;
    const auto& list = q->snapshots();
    if (action == Action::Create) {
        qcow2::Snapshot sn;
        sn.id = next_id(list);
        sn.name = name;
        timeval now{};
        gettimeofday(&now, nullptr);
        sn.date_sec = uint32_t(now.tv_sec);
        sn.date_nsec = uint32_t(now.tv_usec * 1000);
        sn.icount = 0;
        err = ctx.run(q->snapshot_create(sn));
        if (err < 0) fail("Could not create snapshot '" + name + "': " + std::to_string(err) + " (" + errno_text(err) + ")");
    } else if (action == Action::Apply) {
        size_t index = list.size();
        for (size_t i = 0; i < list.size() && index == list.size(); i++)
            if (list[i].id == name) index = i;
        for (size_t i = 0; i < list.size() && index == list.size(); i++)
            if (list[i].name == name) index = i;
        err = index == list.size() ? -ENOENT : ctx.run(q->snapshot_apply(index));
        if (err < 0) fail("Could not apply snapshot '" + name + "': Failed to load snapshot: " + errno_text(err));
    } else {
        size_t index = list.size();
        for (size_t i = 0; i < list.size() && index == list.size(); i++)
            if (list[i].name == name) index = i;
        if (index == list.size()) fail("Could not delete snapshot '" + name + "': snapshot not found");
        err = ctx.run(q->snapshot_delete(index));
        if (err < 0) fail("Could not delete snapshot '" + name + "': " + errno_text(err));
    }
    err = ctx.run(image->close());
    if (err < 0) fail("Could not " + std::string(verb) + " snapshot '" + name + "': " + errno_text(err));
    return 0;
}

} // namespace kestrel::img
