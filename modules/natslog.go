package modules

import (
	"errors"
	"log/slog"

	"github.com/nats-io/nats.go"
)

// natsLogOptions routes every asynchronous callback of a NATS connection to
// log, so that the logger's rate limit holds them: nats.go's default error
// handler writes each slow-consumer event to stderr, past it. Warnings carry
// constant messages (the rate limit is per message); the info lines follow
// a disconnect, at most one per reconnect attempt.
func natsLogOptions(log *slog.Logger) []nats.Option {
	return []nats.Option{
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) { logAsyncError(log, sub, err) }),
		nats.ConnectHandler(func(nc *nats.Conn) { log.Info("nats connected", "url", nc.ConnectedUrl()) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { logDisconnect(log, err) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("nats reconnected", "url", nc.ConnectedUrl()) }),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) { log.Warn("nats reconnect failed", "err", err) }),
		nats.ClosedHandler(func(*nats.Conn) { log.Info("nats connection closed") }),
		nats.DiscoveredServersHandler(func(nc *nats.Conn) { log.Debug("nats servers discovered", "servers", nc.DiscoveredServers()) }),
		nats.LameDuckModeHandler(func(nc *nats.Conn) { log.Warn("nats server entering lame duck mode", "url", nc.ConnectedUrl()) }),
	}
}

// logDisconnect logs a lost NATS connection as a warning; without an
// error the connection was closed on purpose (a stop), which is no news.
func logDisconnect(log *slog.Logger, err error) {
	if err == nil {
		log.Debug("nats disconnected: connection closed")
		return
	}
	log.Warn("nats disconnected", "err", err)
}

// logAsyncError logs an error nats.go reports outside any call: a slow
// consumer dropping messages, a permissions violation, a protocol error.
func logAsyncError(log *slog.Logger, sub *nats.Subscription, err error) {
	subject := ""
	if sub != nil {
		subject = sub.Subject
	}
	if errors.Is(err, nats.ErrSlowConsumer) {
		log.Warn("nats slow consumer: messages dropped", "subject", subject)
		return
	}
	log.Warn("nats async error", "subject", subject, "err", err)
}
