package bench

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/peerbridge/peerbridge/connector"
)

const (
	// idleWarmPeers are connected before the baseline is read, so that
	// one-off costs of the first connections are not counted per peer.
	idleWarmPeers = 10
	// idleBatch is how many peers are dialled at once.
	idleBatch = 50
)

// memSnapshot is the process's memory after a full collection.
type memSnapshot struct {
	heap, alloc, stack uint64 // HeapInuse, HeapAlloc, StackInuse
	goroutines         int
}

func readMem() memSnapshot {
	// Twice: the first collection's finalizers and sync.Pool victims go in
	// the second.
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSnapshot{heap: ms.HeapInuse, alloc: ms.HeapAlloc, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

// settledMem reads memory once connections have been idle for settle.
func settledMem(ctx context.Context, settle time.Duration) (memSnapshot, error) {
	t := time.NewTimer(settle)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return memSnapshot{}, fmt.Errorf("idle memory: %w", ctx.Err())
	case <-t.C:
	}
	return readMem(), nil
}

// idleMemory measures what one bridge's process spends per idle pooled
// peer: it starts a bridge node and the peers, connects a few of them,
// reads the heap and stack in use after a collection, has the bridge's
// connector send one message to each remaining peer (so each connection
// carries a message stream, as a used connection does), and reads them
// again, each time after the connections were idle for o.IdleSettle. The
// difference per peer is heap in use plus goroutine stacks.
func (o ExtraOptions) idleMemory(ctx context.Context, progress func(string)) (map[string]float64, error) {
	a, err := startBridgeNode(ctx, "bench-idle")
	if err != nil {
		return nil, err
	}
	defer a.close()
	peers, err := o.StartIdlePeers(ctx, o.IdlePeers+idleWarmPeers)
	if err != nil {
		return nil, err
	}
	defer peers.Close()
	ts := peers.Targets()
	if len(ts) != o.IdlePeers+idleWarmPeers {
		return nil, fmt.Errorf("idle memory: %d peers started, want %d", len(ts), o.IdlePeers+idleWarmPeers)
	}
	if err := connectAll(ctx, a.conn, ts[:idleWarmPeers]); err != nil {
		return nil, err
	}
	before, err := settledMem(ctx, o.IdleSettle)
	if err != nil {
		return nil, err
	}
	if err := connectAll(ctx, a.conn, ts[idleWarmPeers:]); err != nil {
		return nil, err
	}
	after, err := settledMem(ctx, o.IdleSettle)
	if err != nil {
		return nil, err
	}
	if got := a.conn.Stats().Conns; got != len(ts) {
		return nil, fmt.Errorf("idle memory: %d pooled connections, want %d", got, len(ts))
	}
	return idleFigures(before, after, o.IdlePeers, peers.InProcess(), progress), nil
}

// idleFigures turns two snapshots around n new peers into figures.
func idleFigures(before, after memSnapshot, n int, inProcess bool, progress func(string)) map[string]float64 {
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	heap, stack := per(after.heap, before.heap), per(after.stack, before.stack)
	where := "in a child process"
	local := 0.0
	if inProcess {
		where, local = "in this process (both ends counted)", 1
	}
	progress(fmt.Sprintf("idle peers: %d %s; per peer %.0f B heap + %.0f B stacks", n, where, heap, stack))
	return map[string]float64{
		"bytes_per_idle_peer":  heap + stack,
		"idle_peer_heap_bytes": heap,
		// Live objects only: heap in use less the free space in its spans.
		"idle_peer_heap_alloc_bytes": per(after.alloc, before.alloc),
		"idle_peer_stack_bytes":      stack,
		"idle_peer_goroutines":       float64(after.goroutines-before.goroutines) / float64(n),
		"idle_peers":                 float64(n),
		"idle_peers_in_process":      local,
	}
}

// idleConnectTimeout bounds connecting a batch of idle peers: long enough
// that a caller waits for a dial its whole Config.DialTimeout (a dial to a
// busy child process of a thousand peers can take seconds) rather than the
// shorter budget a default timeout would give it.
const idleConnectTimeout = 30 * time.Second

// connectAll sends one empty message to each target, idleBatch at a time,
// then one request to each, and fails unless every one is answered: an idle
// peer is measured after both kinds of traffic have passed.
func connectAll(ctx context.Context, c *connector.Connector, ts []connector.Target) error {
	for len(ts) > 0 {
		batch := ts[:min(idleBatch, len(ts))]
		ts = ts[len(batch):]
		for _, r := range c.SendMany(ctx, batch, connector.Outbound{Type: "idle", Timeout: idleConnectTimeout}) {
			if r.Err != nil {
				return fmt.Errorf("idle memory: connecting %s: %w", r.Target, r.Err)
			}
		}
		for _, t := range batch {
			if _, err := c.Request(ctx, connector.Outbound{Target: t, Type: "idle", Timeout: idleConnectTimeout}); err != nil {
				return fmt.Errorf("idle memory: request to %s: %w", t, err)
			}
		}
	}
	return nil
}
