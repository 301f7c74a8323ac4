#include "monitor/qmp/qmp_session.h"

#include "monitor/qmp/qmp_machines.h"

namespace kestrel::qmp {

namespace {

const char* class_name(QmpErrorClass c) {
    switch (c) {
    case QmpErrorClass::CommandNotFound: return "CommandNotFound";
    case QmpErrorClass::DeviceNotActive: return "DeviceNotActive";
    case QmpErrorClass::DeviceNotFound: return "DeviceNotFound";
    case QmpErrorClass::KVMMissingCap: return "KVMMissingCap";
    default: return "GenericError";
    }
}

[[noreturn]] void input_error(const std::string& desc) { throw MonitorError(desc); }

} // namespace

Json qmp_greeting() {
    return Json{{"QMP", Json{{"version", qmp_version_info()}, {"capabilities", Json::array({"oob"})}}}};
}

Json qmp_error(QmpErrorClass error_class, const std::string& desc) {
    return Json{{"error", Json{{"class", class_name(error_class)}, {"desc", desc}}}};
}

QmpSession::QmpSession(Chardev& chardev, QmpServices& services, bool pretty)
    : chardev_(chardev), services_(services), pretty_(pretty), fds_(chardev), commands_(services, &fds_),
      stream_([this](Json value, const std::string* error) { handle(std::move(value), error); }) {
    services_.events.subscribe(this);
    chardev_.attach(this);
}

QmpSession::~QmpSession() {
    services_.events.unsubscribe(this);
    chardev_.attach(nullptr);
}

// The greeting comes first, even when the client's input is read before
// the chardev's "opened" event reaches the session.
void QmpSession::opened() {
    if (greeted_) return;
    greeted_ = true;
    stream_.reset();
    negotiated_ = oob_enabled_ = false;
    send(qmp_greeting());
}

void QmpSession::closed() {
    greeted_ = false;
    stream_.reset();
    negotiated_ = oob_enabled_ = false;
}

void QmpSession::receive(std::span<const uint8_t> data) {
    opened();
    stream_.feed(data);
}

void QmpSession::deliver_event(const Json& message) {
    if (negotiated_)
        send(message);
}

void QmpSession::send(const Json& message) {
    std::string text = to_qemu_json(message, pretty_) + "\n";
    std::string out;
    out.reserve(text.size() + 16);
    for (char c : text) {
        if (c == '\n')
            out += '\r';
        out += c;
    }
    chardev_.write(std::span(reinterpret_cast<const uint8_t*>(out.data()), out.size()));
}

void QmpSession::handle(Json request, const std::string* parse_error) {
    if (parse_error)
        return send(qmp_error(QmpErrorClass::GenericError, *parse_error));
    Json reply;
    try {
        reply = Json{{"return", dispatch(request)}};
    } catch (const MonitorError& e) {
        reply = qmp_error(e.error_class, e.what());
    }
    if (request.is_object() && request.contains("id"))
        reply["id"] = request["id"];
    send(reply);
}

// The members QMP input may have, checked in QEMU's order.
void QmpSession::check_request(const Json& request) const {
    for (const std::string& key : qemu_key_order(request)) {
        const Json& v = request[key];
        if (key == "execute" || (key == "exec-oob" && oob_enabled_)) {
            if (!v.is_string())
                input_error("QMP input member '" + key + "' must be a string");
        } else if (key == "arguments") {
            if (!v.is_object())
                input_error("QMP input member 'arguments' must be an object");
        } else if (key != "id") {
            input_error("QMP input member '" + key + "' is unexpected");
        }
    }
    bool execute = request.contains("execute"), oob = request.contains("exec-oob");
    if (execute && oob)
        input_error("QMP input member 'execute' clashes with 'exec-oob'");
    if (!execute && !oob)
        input_error("QMP input lacks member 'execute'");
}

Json QmpSession::dispatch(const Json& request) {
    if (!request.is_object())
        input_error("QMP input must be a JSON object");
    check_request(request);
    bool oob = request.contains("exec-oob");
    const std::string& name = request[oob ? "exec-oob" : "execute"].get_ref<const std::string&>();
    if (!negotiated_ && name != "qmp_capabilities")
        throw MonitorError(QmpErrorClass::CommandNotFound,
                           "Expecting capabilities negotiation with 'qmp_capabilities'");
    if (negotiated_ && name == "qmp_capabilities")
        throw MonitorError(QmpErrorClass::CommandNotFound,
                           "Capabilities negotiation is already complete, command ignored");
    const QmpCommand* command = commands_.find(name);
    if (!command)
        throw MonitorError(QmpErrorClass::CommandNotFound, "The command " + name + " has not been found");
    if (oob)   // no kestrel command may jump the queue
        input_error("The command " + name + " does not support OOB");
    Json args = request.contains("arguments") ? request["arguments"] : Json::object();
    commands_.schema().check_arguments(command->arg_type, args);
    Json result = command->run(args);
    if (name == "qmp_capabilities") {
        negotiated_ = true;
        oob_enabled_ = args.contains("enable") && !args["enable"].empty();
    }
    return result;
}

} // namespace kestrel::qmp
