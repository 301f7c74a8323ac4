// kestrel-img: qemu-img's command line for raw and qcow2 images. Called as
// qemu-img it says so in its messages, like the main binary.
#include "img/img_commands.h"
#include "img/img_common.h"
#include "kestrel_version.h"

#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>

namespace kestrel::img {

namespace {

struct Command {
    const char* name;
    int (*run)(int argc, char** argv);
    const char* syntax;
};

const Command kCommands[] = {
    {"amend", cmd_amend, "amend [-p] [-q] [-f fmt] [-t cache] [--force] -o options filename"},
    {"check", cmd_check, "check [-q] [-f fmt] [--output=ofmt] [-r [leaks | all]] [-T src_cache] [-U] filename"},
    {"commit", cmd_commit, "commit [-q] [-f fmt] [-t cache] [-b base] [-d] [-p] filename"},
    {"compare", cmd_compare, "compare [-f fmt] [-F fmt] [-T src_cache] [-p] [-q] [-s] [-U] filename1 filename2"},
    {"convert", cmd_convert, "convert [--target-is-zero] [-U] [-c] [-p] [-q] [-n] [-f fmt] [-t cache] [-T src_cache] [-O output_fmt] [-B backing_file [-F backing_fmt]] [-o options] [-S sparse_size] [-m num_coroutines] [-W] filename [filename2 [...]] output_filename"},
    {"create", cmd_create, "create [-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u] [-o options] filename [size]"},
    {"info", cmd_info, "info [-f fmt] [--output=ofmt] [--backing-chain] [-U] filename"},
    {"map", cmd_map, "map [-f fmt] [--start-offset=offset] [--max-length=len] [--output=ofmt] [-U] filename"},
    {"measure", cmd_measure, "measure [--output=ofmt] [-O output_fmt] [-o options] [--size N | [-f fmt] filename]"},
    {"snapshot", cmd_snapshot, "snapshot [-U] [-q] [-l | -a snapshot | -c snapshot | -d snapshot] filename"},
    {"rebase", cmd_rebase, "rebase [-U] [-q] [-f fmt] [-t cache] [-T src_cache] [-p] [-u] -b backing_file [-F backing_fmt] filename"},
    {"resize", cmd_resize, "resize [-f fmt] [-q] [--shrink] filename [+ | -]size"},
};

std::string version_text() {
    return g_program + " version 7.2.0 (kestrel " KESTREL_VERSION ")\n"
           "Copyright (c) 2026 the kestrel developers; command line compatible with qemu-img 7.2.0\n";
}

std::string help_text() {
    std::ostringstream out;
    out << version_text() << "usage: " << g_program
        << " [standard options] command [command options]\n"
           "QEMU disk image utility\n\n"
           "    '-h', '--help'       display this help and exit\n"
           "    '-V', '--version'    output version information and exit\n\n"
           "Command syntax:\n";
    for (const Command& c : kCommands) out << "  " << c.syntax << "\n";
    out << "\nCommand parameters:\n"
           "  'filename' is a disk image filename\n"
           "  'fmt' is the disk image format. It is guessed automatically in most cases\n"
           "  'cache' is the cache mode used to write the output disk image, the valid\n"
           "    options are: 'none', 'writeback' (default, except for convert), 'writethrough',\n"
           "    'directsync' and 'unsafe' (default for convert)\n"
           "  'src_cache' is the cache mode used to read input disk images, the valid\n"
           "    options are the same as for the 'cache' option\n"
           "  'size' is the disk image size in bytes. Optional suffixes\n"
           "    'k' or 'K' (kilobyte, 1024), 'M' (megabyte, 1024k), 'G' (gigabyte, 1024M),\n"
           "    'T' (terabyte, 1024G), 'P' (petabyte, 1024T) and 'E' (exabyte, 1024P)  are\n"
           "    supported. 'b' is ignored.\n"
           "  'output_filename' is the destination disk image filename\n"
           "  'output_fmt' is the destination format\n"
           "  'options' is a comma separated list of format specific options in a\n"
           "    name=value format. Use -o help for an overview of the options supported by\n"
           "    the used format\n"
           "  '-c' indicates that target image must be compressed (qcow format only)\n"
           "  '-u' allows unsafe backing chains. For rebasing, it is assumed that old and\n"
           "       new backing file match exactly. The image doesn't need a working\n"
           "       backing file before rebasing in this case (useful for renaming the\n"
           "       backing file). For image creation, allow creating without attempting\n"
           "       to open the backing file.\n"
           "  '-h' with or without a command shows this help and lists the supported formats\n"
           "  '-p' show progress of command (only certain commands)\n"
           "  '-q' use Quiet mode - do not print any output (except errors)\n"
           "  '-S' indicates the consecutive number of bytes (defaults to 4k) that must\n"
           "       contain only zeros for qemu-img to create a sparse image during\n"
           "       conversion. If the number of bytes is 0, the source will not be scanned for\n"
           "       unallocated or zero sectors, and the destination image will always be\n"
           "       fully allocated\n"
           "  '--output' takes the format in which the output must be done (human or json)\n"
           "  '-n' skips the target volume creation (useful if the volume is created\n"
           "       prior to running qemu-img)\n\n"
           "Parameters to check subcommand:\n"
           "  '-r' tries to repair any inconsistencies that are found during the check.\n"
           "       '-r leaks' repairs only cluster leaks, whereas '-r all' fixes all\n"
           "       kinds of errors, with a higher risk of choosing the wrong fix or\n"
           "       hiding corruption that has already occurred.\n\n"
           "Parameters to convert subcommand:\n"
           "  '-m' specifies how many coroutines work in parallel during the convert\n"
           "       process (defaults to 8)\n"
           "  '-W' allow to write to the target out of order rather than sequential\n\n"
           "Parameters to snapshot subcommand:\n"
           "  'snapshot' is the name of the snapshot to create, apply or delete\n"
           "  '-a' applies a snapshot (revert disk to saved state)\n"
           "  '-c' creates a snapshot\n"
           "  '-d' deletes a snapshot\n"
           "  '-l' lists all snapshots in the given image\n\n"
           "Parameters to compare subcommand:\n"
           "  '-f' first image format\n"
           "  '-F' second image format\n"
           "  '-s' run in Strict mode - fail on different image size or sector allocation\n\n"
           "Supported formats: qcow2 raw\n";
    return out.str();
}

std::string program_name(const char* argv0) {
    std::string s = argv0 ? argv0 : "kestrel-img";
    auto slash = s.rfind('/');
    return slash == std::string::npos ? s : s.substr(slash + 1);
}

void print_error(const std::string& message) {
    std::istringstream lines(message);
    std::string line;
    while (std::getline(lines, line)) std::cerr << g_program << ": " << line << "\n";
}

int dispatch(int argc, char** argv) {
    if (argc < 2) usage_error("Not enough arguments");
    std::string first = argv[1];
    if (first == "-h" || first == "--help") {
        std::cout << help_text();
        return 0;
    }
    if (first == "-V" || first == "--version") {
        std::cout << version_text();
        return 0;
    }
    for (const Command& c : kCommands) {
        if (first == c.name) return c.run(argc - 1, argv + 1);
    }
    if (first[0] == '-') usage_error("unrecognized option '" + first + "'");
    usage_error("Command not found: " + first);
}

} // namespace

void print_help_and_exit() {
    std::cout << help_text();
    std::exit(0);
}

} // namespace kestrel::img

int main(int argc, char** argv) {
    using namespace kestrel::img;
    g_program = program_name(argc > 0 ? argv[0] : nullptr);
    try {
        return dispatch(argc, argv);
    } catch (const Failure& f) {
        std::cout.flush();
        print_error(f.what());
        if (!f.extra.empty()) std::cerr << f.extra << "\n";
        if (f.hint) std::cerr << "Try '" << g_program << " --help' for more information\n";
        return f.status;
    } catch (const std::exception& e) {
        std::cout.flush();
        print_error(e.what());
        return 1;
    }
}
