#pragma once
// Typed services a subsystem offers the monitors (block devices now; net,
// balloon, display as they arrive): the subsystem registers an object under
// its interface type, a monitor command looks it up by that type. Nothing
// else about the machine has to grow a method per device kind.
#include <map>
#include <typeindex>

namespace kestrel {

class ServiceRegistry {
public:
    // `service` must outlive the registry's use (the machine's lifetime).
    template <typename Interface> void add(Interface& service) { services_[typeid(Interface)] = &service; }
    // Withdraws `service` if it is the one registered (a device unrealized).
    template <typename Interface> void remove(Interface& service) {
        auto it = services_.find(typeid(Interface));
        if (it != services_.end() && it->second == &service) services_.erase(it);
    }
    template <typename Interface> Interface* find() const {
        auto it = services_.find(typeid(Interface));
        return it == services_.end() ? nullptr : static_cast<Interface*>(it->second);
    }

private:
    std::map<std::type_index, void*> services_;
};

} // namespace kestrel
