#include "kvm/kvm_system.h"


#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/ioctl.h>
#include <unistd.h>

namespace kestrel {
namespace {
std::string errno_text() { return std::strerror(errno); }
}

KvmSystem::KvmSystem() {
    fd_.reset(open("/dev/kvm", O_RDWR | O_CLOEXEC));
    if (!fd_)
        throw std::runtime_error("Could not access KVM kernel module: " + errno_text() +
                                 "\nfailed to initialize kvm: " + errno_text());
    int version = ioctl(fd_.get(), KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION)
        throw std::runtime_error("kvm version not supported: " + std::to_string(version));
    for (long cap : {KVM_CAP_IRQCHIP, KVM_CAP_PIT2, KVM_CAP_IRQ_ROUTING, KVM_CAP_USER_MEMORY,
                     KVM_CAP_EXT_CPUID, KVM_CAP_IMMEDIATE_EXIT, KVM_CAP_IOEVENTFD, KVM_CAP_IRQFD}) {
        if (check_extension(cap) <= 0)
            throw std::runtime_error("kvm does not support a required capability (" +
                                     std::to_string(cap) + ")");
    }
    load_supported_cpuid();
    load_msr_index_list();
}

int KvmSystem::check_extension(long cap) const { return ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap); }

long KvmSystem::vcpu_mmap_size() const { return ioctl(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, 0); }

// Both lists have variable length: grow the buffer until KVM stops saying E2BIG.
void KvmSystem::load_supported_cpuid() {
    for (uint32_t n = 64; n <= 4096; n *= 2) {
        size_t bytes = sizeof(kvm_cpuid2) + n * sizeof(kvm_cpuid_entry2);
        auto buf = std::make_unique<uint8_t[]>(bytes);
        std::memset(buf.get(), 0, bytes);
        auto* c = reinterpret_cast<kvm_cpuid2*>(buf.get());
        c->nent = n;
        if (ioctl(fd_.get(), KVM_GET_SUPPORTED_CPUID, c) == 0) {
            cpuid_.assign(c->entries, c->entries + c->nent);
            return;
        }
        if (errno != E2BIG) break;
    }
    throw std::runtime_error("KVM_GET_SUPPORTED_CPUID failed: " + errno_text());
}

void KvmSystem::load_msr_index_list() {
    kvm_msr_list probe{};
    ioctl(fd_.get(), KVM_GET_MSR_INDEX_LIST, &probe);  // E2BIG, fills nmsrs
    size_t bytes = sizeof(kvm_msr_list) + probe.nmsrs * sizeof(uint32_t);
    auto buf = std::make_unique<uint8_t[]>(bytes);
    auto* list = reinterpret_cast<kvm_msr_list*>(buf.get());
    list->nmsrs = probe.nmsrs;
    if (ioctl(fd_.get(), KVM_GET_MSR_INDEX_LIST, list) != 0)
        throw std::runtime_error("KVM_GET_MSR_INDEX_LIST failed: " + errno_text());
    msrs_.insert(list->indices, list->indices + list->nmsrs);
}

} // namespace kestrel
