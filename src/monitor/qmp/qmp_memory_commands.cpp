// pmemsave and memsave: guest memory to a file.
#include "monitor/qmp/qmp_commands.h"

#include "base/unique_fd.h"

#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace kestrel::qmp {

namespace {

class OutputFile {
public:
    explicit OutputFile(const std::string& path)
        : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) {
        if (!fd_)
            throw MonitorError("Could not open '" + path + "': " + std::strerror(errno));
    }

    void write_all(const uint8_t* data, size_t len) {
        while (len > 0) {
            ssize_t n = ::write(fd_.get(), data, len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                throw MonitorError("An IO error has occurred");
            data += n;
            len -= static_cast<size_t>(n);
        }
    }

private:
    UniqueFd fd_;
};

using ReadFn = std::function<bool(uint64_t addr, std::span<uint8_t> out)>;

void save_memory(const Json& args, const ReadFn& read) {
    int64_t val = args.at("val").get<int64_t>(), size = args.at("size").get<int64_t>();
    OutputFile file(args.at("filename").get<std::string>());
    std::array<uint8_t, 4096> buf;
    uint64_t addr = static_cast<uint64_t>(val), left = static_cast<uint64_t>(size);
    while (left > 0) {
        size_t len = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
        if (!read(addr, std::span(buf.data(), len))) {
            char desc[96];
            std::snprintf(desc, sizeof desc, "Invalid addr 0x%016" PRIx64 "/size %" PRId64 " specified",
                          static_cast<uint64_t>(val), size);
            throw MonitorError(desc);
        }
        file.write_all(buf.data(), len);
        addr += len;
        left -= len;
    }
}

} // namespace

void add_memory_commands(QmpCommandTable& table, QmpServices& services) {
    VmControl& vm = services.vm;
    table.add({"pmemsave", "q_obj_pmemsave-arg", "q_empty", [&vm](const Json& args) {
        save_memory(args, [&vm](uint64_t a, std::span<uint8_t> out) { return vm.read_physical(a, out); });
        return Json::object();
    }});
    table.add({"memsave", "q_obj_memsave-arg", "q_empty", [&vm](const Json& args) {
        unsigned cpu = checked_cpu_index(vm, optional_arg(args, "cpu-index"));
        save_memory(args, [&vm, cpu](uint64_t a, std::span<uint8_t> out) {
            return vm.read_virtual(cpu, a, out);
        });
        return Json::object();
    }});
}

} // namespace kestrel::qmp
