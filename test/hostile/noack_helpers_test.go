package hostile

import (
	"io"
	"sync"
	"testing"

	"github.com/quic-go/quic-go"
)

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
