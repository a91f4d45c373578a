package hostile

import (
	"io"
	"sync"
	"testing"

	"github.com/quic-go/quic-go"

	"github.com/peerbridge/peerbridge/connector"
	"github.com/peerbridge/peerbridge/connector/identity"
)

// neverAcker connects to victim from 127.0.0.2 with a fresh key, as a peer
// that reads every frame and never acknowledges (readNeverAck), and returns
// its connection and node ID.
func neverAcker(t testing.TB, victim *connector.Connector) (*quic.Conn, identity.NodeID) {
	t.Helper()
	a := newAttacker(t, "127.0.0.2")
	id := newIdentity(t)
	qc, err := a.dialAs(testCtx(t), id, victim)
	if err != nil {
		t.Fatal(err)
	}
	readNeverAck(t, qc)
	return qc, id.NodeID()
}

// readNeverAck makes qc a peer that reads every frame the victim sends and
// never acknowledges one: it reads each stream the victim opens to its end
// and writes nothing back. Its goroutines end once qc closes; the test
// waits for them at its end.
func readNeverAck(t testing.TB, qc *quic.Conn) {
	var wg sync.WaitGroup
	t.Cleanup(func() {
		qc.CloseWithError(0, "")
		wg.Wait()
	})
	wg.Go(func() {
		for {
			st, err := qc.AcceptStream(qc.Context())
			if err != nil {
				return
			}
			wg.Go(func() { io.Copy(io.Discard, st) })
		}
	})
}
