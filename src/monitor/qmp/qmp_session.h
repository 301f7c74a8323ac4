#pragma once
// One QMP monitor on one chardev (-qmp, -mon mode=control). On opened()
// it greets, then serves one client at a time: capabilities negotiation,
// then commands, and events once negotiated. closed() forgets the client
// (half-read input, negotiation, oob) so the next one starts afresh.
//
//   QmpEventHub hub;                       // the machine's EventSink
//   QmpServices services{vm, hub, hmp_fn};
//   QmpSession qmp(chardev, services, pretty);   // attaches itself
#include "chardev/chardev.h"
#include "base/json/json_stream.h"
#include "monitor/qmp/qmp_commands.h"
#include "monitor/qmp/monitor_fds.h"
#include "monitor/qmp/qmp_event_hub.h"
#include "monitor/qmp/qmp_services.h"

namespace kestrel::qmp {

class QmpSession final : public CharFrontend, public QmpEventListener {
public:
    QmpSession(Chardev& chardev, QmpServices& services, bool pretty);
    ~QmpSession() override;
    QmpSession(const QmpSession&) = delete;
    QmpSession& operator=(const QmpSession&) = delete;

    size_t can_receive() override { return 4096; }
    void receive(std::span<const uint8_t> data) override;
    void opened() override;
    void closed() override;
    void deliver_event(const Json& message) override;

    bool negotiated() const { return negotiated_; }

private:
    void handle(Json request, const std::string* parse_error);
    Json dispatch(const Json& request);
    void check_request(const Json& request) const;
    void send(const Json& message);

    Chardev& chardev_;
    QmpServices& services_;
    bool pretty_;
    MonitorFds fds_;   // before commands_, whose handlers hold it
    QmpCommandTable commands_;
    JsonStream stream_;
    bool greeted_ = false;     // sent the greeting on this connection
    bool negotiated_ = false;
    bool oob_enabled_ = false;
};

// The greeting: {"QMP": {"version": ..., "capabilities": ["oob"]}}.
Json qmp_greeting();
// {"error": {"class": ..., "desc": ...}}
Json qmp_error(QmpErrorClass error_class, const std::string& desc);

} // namespace kestrel::qmp
