// describe_cpu, feature_words, filtered_features and requested_cpuid: what
// query-cpu-model-expansion and the vCPUs' QOM objects report.
#include "vcpu/cpu_description.h"
#include "vcpu/cpuid.h"
#include "vcpu/fake_cpuid_leaf.h"

#include <catch2/catch.hpp>

using namespace kestrel;

namespace {

// An Intel host whose KVM lacks SSE3, with AVX-VNNI (leaf 7 sub-leaf 1).
std::vector<kvm_cpuid_entry2> host() {
    return {cpuid_leaf(0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69), cpuid_leaf(1, 0, 0x906ea, 0, 0x9efafbfe, 0xbfebfbff),
            cpuid_leaf(7, 0, 1, 0x209c01a9, 0, 0),  cpuid_leaf(7, 1, 1u << 4, 0, 0, 0),
            cpuid_leaf(0x40000001, 0, 0x01007afb, 0, 0, 0), cpuid_leaf(0x80000000, 0, 0x80000008, 0, 0, 0),
            cpuid_leaf(0x80000001, 0, 0, 0, 0x121, 0x2c100800), cpuid_leaf(0x80000002, 0, 0, 0, 0, 0),
            cpuid_leaf(0x80000003, 0, 0, 0, 0, 0), cpuid_leaf(0x80000004, 0, 0, 0, 0, 0), cpuid_leaf(0x80000007, 0, 0, 0, 0, 0x100)};
}

bool has(const std::vector<kvm_cpuid_entry2>& t, const char* name) { return has_feature(t, *find_feature(name)); }

CpuConfig model(const char* name) {
    CpuConfig c;
    c.model = name;
    return c;
}

} // namespace

TEST_CASE("describe_cpu reads vendor, family/model/stepping and levels as QEMU's getters", "[cpu]") {
    CpuDescription d = describe_cpu(host());
    CHECK(d.vendor == "GenuineIntel");
    CHECK(d.family == 6);
    CHECK(d.model == 0x9e);
    CHECK(d.stepping == 0xa);
    CHECK(d.level == 0xd);
    CHECK(d.xlevel == 0x80000008u);
    CHECK(d.model_id.empty());
    // Family 15 adds the extended family; qemu64's model 107 uses the extended model.
    CpuDescription q = describe_cpu(build_cpuid(host(), model("qemu64"), SmpConfig{}, 0));
    CHECK(q.family == 15);
    CHECK(q.model == 107);
    CHECK(q.model_id == "QEMU Virtual CPU version 2.5+");
}

TEST_CASE("a named model's own flags come unfiltered from requested_cpuid", "[cpu]") {
    auto requested = requested_cpuid(host(), model("qemu64"));
    auto actual = build_cpuid(host(), model("qemu64"), SmpConfig{}, 0);
    CHECK(has(requested, "pni"));
    CHECK_FALSE(has(actual, "pni"));
    CHECK_FALSE(has(actual, "avx-vnni"));   // no leaf 7 flag in any sub-leaf of a named model
    CHECK_FALSE(has(actual, "invtsc"));
    auto filtered = filtered_features(requested, actual);
    REQUIRE(filtered.size() == 2);          // pni and its alias sse3
    CHECK(filtered[0]->leaf == 1);
    CHECK(filtered[0]->bit == 0);
}

TEST_CASE("host: requested is what KVM has plus every +feat", "[cpu]") {
    CpuConfig c = model("host");
    c.features = {{"pni", true}, {"avx", false}};
    auto requested = requested_cpuid(host(), c);
    auto actual = build_cpuid(host(), c, SmpConfig{}, 0);
    CHECK(has(requested, "pni"));
    CHECK_FALSE(has(actual, "pni"));
    CHECK_FALSE(has(requested, "avx"));
    CHECK(has(actual, "avx-vnni"));
    CHECK_FALSE(has(actual, "invtsc"));     // migratable=on hides it
}

TEST_CASE("feature_words: one per register with named flags, only those bits", "[cpu]") {
    auto words = feature_words(host());
    auto find = [&](uint32_t leaf, uint32_t subleaf, CpuidReg reg) -> const FeatureWord* {
        for (const FeatureWord& w : words)
            if (w.leaf == leaf && w.subleaf == subleaf && w.reg == reg) return &w;
        return nullptr;
    };
    REQUIRE(find(1, 0, CpuidReg::Ecx));
    CHECK((find(1, 0, CpuidReg::Ecx)->features & 1u) == 0);
    CHECK_FALSE(find(1, 0, CpuidReg::Ecx)->indexed);
    REQUIRE(find(7, 1, CpuidReg::Eax));
    CHECK(find(7, 1, CpuidReg::Eax)->indexed);
    CHECK(find(7, 1, CpuidReg::Eax)->features == 1u << 4);
    CHECK(find(0x80000007, 0, CpuidReg::Edx)->features == 0x100);
    CHECK(find(0x40000001, 0, CpuidReg::Eax)->features == 0x01007af3u);  // bit 3 has no name of its own
}
