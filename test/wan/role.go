package wan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// A helper process's environment: its role and what it needs.
const (
	EnvRole    = "PEERBRIDGE_WAN_ROLE"
	EnvAddr    = "PEERBRIDGE_WAN_ADDR"    // the host's address
	EnvDir     = "PEERBRIDGE_WAN_DIR"     // a directory for the side's files
	EnvOptions = "PEERBRIDGE_WAN_OPTIONS" // Options as JSON
	EnvHub     = "PEERBRIDGE_WAN_HUB"     // the spoke's: HubInfo as JSON
)

// Roles [Play] plays.
const (
	RoleHub   = "hub"
	RoleSpoke = "spoke"
)

// Prefixes of a helper's stdout lines meant for its parent, each followed
// by JSON: the hub's HubInfo once up, its RelayCounts once stopped, and the
// spoke's Result.
const (
	LineHub     = "WAN-HUB "
	LineHubStop = "WAN-HUB-RELAY "
	LineResult  = "WAN-RESULT "
)

// ErrUnknownRole is returned by [Play] for a role it does not play.
var ErrUnknownRole = errors.New("wan: unknown helper role")

// Play plays the role getenv(EnvRole) names with what the other Env
// variables give: the hub serves until stdin closes, the spoke measures
// and returns. Lines for the parent go to stdout.
func Play(ctx context.Context, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	var o Options
	if err := json.Unmarshal([]byte(getenv(EnvOptions)), &o); err != nil {
		return fmt.Errorf("wan: helper options: %w", err)
	}
	addr, err := netip.ParseAddr(getenv(EnvAddr))
	if err != nil {
		return fmt.Errorf("wan: helper address: %w", err)
	}
	switch role := getenv(EnvRole); role {
	case RoleHub:
		return playHub(ctx, addr, getenv(EnvDir), o, stdin, stdout)
	case RoleSpoke:
		var hub HubInfo
		if err := json.Unmarshal([]byte(getenv(EnvHub)), &hub); err != nil {
			return fmt.Errorf("wan: hub info: %w", err)
		}
		return playSpoke(ctx, addr, getenv(EnvDir), hub, o, stdout)
	default:
		return fmt.Errorf("%w: %q", ErrUnknownRole, role)
	}
}

// playHub runs side B, prints its info and serves until stdin closes.
func playHub(ctx context.Context, addr netip.Addr, dir string, o Options, stdin io.Reader, stdout io.Writer) (err error) {
	sctx, cancel := context.WithTimeout(ctx, DefaultSetupTimeout)
	h, err := StartHub(sctx, addr, dir, o)
	cancel()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, h.Close()) }()
	if err := PrintLine(stdout, LineHub, h.Info()); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, stdin) // until the parent closes it, or dies
	st := h.RelayStats()
	return PrintLine(stdout, LineHubStop, RelayCounts{Delivered: st.Delivered, Dropped: st.Dropped})
}

// playSpoke runs side A, measures and prints the result.
func playSpoke(ctx context.Context, addr netip.Addr, dir string, hub HubInfo, o Options, stdout io.Writer) (err error) {
	sctx, cancel := context.WithTimeout(ctx, DefaultSetupTimeout)
	s, err := StartSpoke(sctx, addr, dir, hub, o)
	cancel()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close()) }()
	r, err := s.Run(ctx, o)
	if err != nil {
		return err
	}
	return PrintLine(stdout, LineResult, r)
}

// PrintLine prints prefix and v as JSON on a line of its own (after a
// newline, in case something left a line unfinished).
func PrintLine(w io.Writer, prefix string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("wan: %s: %w", prefix, err)
	}
	_, err = fmt.Fprintf(w, "\n%s%s\n", prefix, b)
	return err
}
