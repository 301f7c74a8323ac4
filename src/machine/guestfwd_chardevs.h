#pragma once
// netdev_add's guestfwd= chardevs (net/guestfwd_chardevs.h) from the
// machine's ChardevSet: a device spec is read as the command line reads
// it, then opened as one more chardev.
#include "chardev/chardev_set.h"
#include "net/guestfwd_chardevs.h"

namespace kestrel {

class MachineGuestFwdChardevs final : public GuestFwdChardevs {
public:
    explicit MachineGuestFwdChardevs(ChardevSet& chardevs) : chardevs_(chardevs) {}

    Chardev& open(const GuestFwdRule& rule) override;
    void remove(const std::string& id) override { chardevs_.remove(id); }

private:
    ChardevConfig parse_spec(const GuestFwdRule& rule) const;
    ChardevSet& chardevs_;
};

} // namespace kestrel
