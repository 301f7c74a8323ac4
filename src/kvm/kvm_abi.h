#pragma once
#pragma GCC system_header  // the kernel ABI uses zero-length arrays, a GNU extension
// <linux/kvm.h> for C++. Linux 6.x headers declare flexible array members
// with __DECLARE_FLEX_ARRAY, whose empty struct has size 1 in C++: that
// moves `entries` and changes sizeof, and with it the size encoded in ioctl
// numbers (KVM then answers EINVAL). A plain flexible array restores the
// C layout. Include this, never <linux/kvm.h> directly.
#include <linux/stddef.h>
#undef __DECLARE_FLEX_ARRAY
#define __DECLARE_FLEX_ARRAY(TYPE, NAME) TYPE NAME[0]
#include <linux/kvm.h>

#include <cstddef>

static_assert(sizeof(kvm_cpuid2) == 8 && offsetof(kvm_cpuid2, entries) == 8);
static_assert(sizeof(kvm_msrs) == 8 && offsetof(kvm_msrs, entries) == 8);
static_assert(sizeof(kvm_irq_routing) == 8 && offsetof(kvm_irq_routing, entries) == 8);
static_assert(sizeof(kvm_msr_list) == 4);
