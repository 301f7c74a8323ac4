#pragma once
// Synthetic bzImages and temporary files for the boot loader tests.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace kestrel::test {

struct FakeKernel {
    uint8_t setup_sects = 4;
    uint16_t version = 0x020f;
    uint16_t xloadflags = 0x1;  // XLF_KERNEL_64
    uint32_t initrd_addr_max = 0x7fffffff;
    uint32_t kernel_alignment = 0x200000;
    uint8_t relocatable = 1;
    uint32_t cmdline_size = 0x7ff;
    uint64_t pref_address = 0x1000000;
    uint32_t init_size = 0x800000;
    size_t pm_size = 0x3000;  // protected-mode part
    // A compressed kernel inside the protected-mode part (payload_offset and
    // payload_length set only when there is one), and the text the
    // decompressor of a kernel built with KASLR carries.
    std::vector<uint8_t> payload;
    uint32_t payload_offset = 0x400;
    bool kaslr_text = true;

    template <typename T> static void put(std::vector<uint8_t>& v, size_t off, T x) {
        std::memcpy(v.data() + off, &x, sizeof x);
    }

    std::vector<uint8_t> bytes() const {
        size_t setup = (size_t(setup_sects ? setup_sects : 4) + 1) * 512;
        std::vector<uint8_t> v(setup + pm_size, 0);
        v[0x1f1] = setup_sects;
        put<uint16_t>(v, 0x1fe, 0xaa55);
        v[0x200] = 0xeb;  // jmp short
        v[0x201] = 0x6a;  // header ends at 0x26c
        std::memcpy(v.data() + 0x202, "HdrS", 4);
        put(v, 0x206, version);
        v[0x211] = 0x01;  // LOADED_HIGH
        put(v, 0x22c, initrd_addr_max);
        put(v, 0x230, kernel_alignment);
        v[0x234] = relocatable;
        put(v, 0x236, xloadflags);
        put(v, 0x238, cmdline_size);
        put(v, 0x258, pref_address);
        put(v, 0x260, init_size);
        put<uint32_t>(v, 0x268, 0xdeadbeef);  // last header field, copied to the zero page
        put<uint32_t>(v, 0x26c, 0xfeedface);  // past the header end: must not be copied
        for (size_t i = 0; i < pm_size; i++) v[setup + i] = uint8_t(i * 7 + 3);
        if (!payload.empty()) {
            v.resize(std::max(v.size(), setup + payload_offset + payload.size()));
            put<uint32_t>(v, 0x248, payload_offset);
            put<uint32_t>(v, 0x24c, uint32_t(payload.size()));
            std::memcpy(v.data() + setup + payload_offset, payload.data(), payload.size());
            static const char kaslr[] = "KASLR disabled: 'nokaslr' on cmdline.";
            if (kaslr_text) std::memcpy(v.data() + setup + 0x40, kaslr, sizeof kaslr);
        }
        return v;
    }
};

// A file under $TMPDIR removed when the object dies.
class TempFile {
public:
    explicit TempFile(const std::vector<uint8_t>& content) {
        const char* dir = getenv("TMPDIR");
        path_ = std::string(dir && *dir ? dir : "/tmp") + "/kestrel-boot-XXXXXX";
        int fd = mkstemp(path_.data());
        if (fd < 0) throw std::runtime_error("mkstemp failed");
        size_t done = 0;
        while (done < content.size()) {
            ssize_t n = ::write(fd, content.data() + done, content.size() - done);
            if (n <= 0) break;
            done += size_t(n);
        }
        close(fd);
    }
    ~TempFile() { unlink(path_.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A fresh folder under $TMPDIR, removed with its files when the object dies.
class TempDir {
public:
    TempDir() {
        const char* dir = getenv("TMPDIR");
        path_ = std::string(dir && *dir ? dir : "/tmp") + "/kestrel-dir-XXXXXX";
        if (!mkdtemp(path_.data())) throw std::runtime_error("mkdtemp failed");
    }
    ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

} // namespace kestrel::test
