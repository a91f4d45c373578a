package main

import (
	"context"
	"log/slog"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/peerbridge/peerbridge/modules/logging"
)

// stopReportEvery is how often a stop in progress says what it waits for.
const stopReportEvery = time.Second

// stopping tracks which part of the daemon a stop is waiting for: fx's
// events name each stop hook as it runs.
type stopping struct {
	fxevent.Logger
	current atomic.Pointer[string] // the stop hook running, by its owner's name
}

// LogEvent passes e on, its run time rounded, and notes the stop hook it
// starts.
func (s *stopping) LogEvent(e fxevent.Event) {
	switch ev := e.(type) {
	case *fxevent.OnStopExecuting:
		name := hookOwner(ev.CallerName)
		s.current.Store(&name)
	case *fxevent.OnStartExecuted:
		ev.Runtime = logging.Round(ev.Runtime)
	case *fxevent.OnStopExecuted:
		ev.Runtime = logging.Round(ev.Runtime)
	case *fxevent.Run:
		ev.Runtime = logging.Round(ev.Runtime)
	}
	s.Logger.LogEvent(e)
}

// waitingFor is the part of the daemon being stopped now.
func (s *stopping) waitingFor() string {
	if p := s.current.Load(); p != nil {
		return *p
	}
	return "start of the stop"
}

// hookOwner shortens the function that added a hook,
// ".../modules.newConnector", ".../modules.registerBridge" or
// ".../modules.GatewayModule.func1", to "connector", "bridge" or "gateway".
func hookOwner(caller string) string {
	name := path.Base(caller)
	_, name, _ = strings.Cut(name, ".")
	name, _, _ = strings.Cut(name, ".")
	for _, affix := range []string{"new", "register"} {
		name = strings.TrimPrefix(name, affix)
	}
	return strings.ToLower(strings.TrimSuffix(name, "Module"))
}

// stopApp stops app within timeout. While it stops it says every
// stopReportEvery what it is waiting for: the part being stopped and
// what inFlight reports (key-value pairs), and at the end how long it
// took.
func stopApp(app *fx.App, s *stopping, timeout time.Duration, log *slog.Logger, inFlight func() []any) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1) // buffered: the stop ends even if nobody waits
	go func() { done <- app.Stop(ctx) }()
	tick := time.NewTicker(stopReportEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			log.Info("stopped", "took", logging.Round(time.Since(start)))
			return err
		case <-tick.C:
			args := []any{"waiting_for", s.waitingFor(), "elapsed", logging.Round(time.Since(start)), "left", logging.Round(time.Until(start.Add(timeout)))}
			log.Info("stopping: waiting for work in flight", append(args, inFlight()...)...)
		}
	}
}

// fxLogger sends fx's own events, errors included, to log at debug level
// (a failed start is reported once, by the command, in one line) through
// s, which notes the stop hooks.
func fxLogger(log *slog.Logger, s *stopping) fx.Option {
	return fx.WithLogger(func() fxevent.Logger {
		l := &fxevent.SlogLogger{Logger: log.With("component", "fx")}
		l.UseLogLevel(slog.LevelDebug)
		l.UseErrorLevel(slog.LevelDebug)
		s.Logger = l
		return s
	})
}
