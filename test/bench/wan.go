package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/peerbridge/peerbridge/test/natlab"
	"github.com/peerbridge/peerbridge/test/wan"
)

// wanLinkDelay is each wired link's one-way delay: the two public hosts'
// path crosses two links each way, 40 ms of RTT.
const wanLinkDelay = 10 * time.Millisecond

// wanRun is one wire of the WAN scenario: its name in keys and the loss
// on each link (a path crosses two, so about twice this is lost each way).
type wanRun struct {
	key      string
	linkLoss float64
}

// wanRuns are issue 14's wire at 1% loss each way, and the same without
// loss for reference.
var wanRuns = []wanRun{{"loss0", 0}, {"loss1", 0.5}}

// WAN is the WAN scenario of package wan as an [Extra] of [Run]: a NATS
// leaf-node link and two peerbridge bridges across one wire of 40 ms RTT
// between two lab namespaces, without loss and with 1% loss each way, 16
// concurrent requesters and one fire-and-forget publisher, 128-byte
// payloads. It needs root, network namespaces and /dev/net/tun; without
// them it records why in Skipped and reports wan_ran 0. Its JSON keys, for
// L in loss0 and loss1 and S in leaf and bridge:
//
//	wan_ran (1 or 0), wan_rtt_ms, wan_requesters
//	wan_S_rr_p50_us_L, wan_S_rr_p99_us_L, wan_S_rr_per_sec_L,
//	wan_S_rr_errors_L, wan_S_ff_msgs_per_sec_L, wan_S_ff_lost_L
//	wan_rr_p50_ratio_L, wan_rr_p99_ratio_L, wan_rr_per_sec_ratio_L,
//	wan_ff_ratio_L (all bridge over leaf: issue 14 wants wan_rr_p99_ratio_loss1
//	at most 0.7 and wan_ff_ratio_loss1 at least 1)
//	wan_wire_lost_frames_L
type WAN struct {
	// Quick runs shorter loads.
	Quick bool
	// Command runs this program as a helper inside a lab host: one that
	// calls wan.Play.
	Command wan.CommandFunc

	// Set by Extra.
	Skipped string          // why the scenario did not run, if it did not
	Results []wan.LabResult // one per wire, in the order of WriteTable
}

// Extra runs the scenario; it is an [Extra].
func (w *WAN) Extra(ctx context.Context, progress func(string)) (map[string]float64, error) {
	o := w.options()
	figures := map[string]float64{"wan_ran": 0}
	dir, err := os.MkdirTemp("", "peerbridge-wan-")
	if err != nil {
		return nil, fmt.Errorf("bench: wan: %w", err)
	}
	defer os.RemoveAll(dir)
	for _, run := range wanRuns {
		progress(fmt.Sprintf("wan %s: leaf and bridge across 40 ms RTT, %.0f%% loss each way", run.key, 2*run.linkLoss))
		lr, err := w.runOne(ctx, run, o, dir)
		if errors.Is(err, natlab.ErrUnsupported) {
			w.Skipped = err.Error()
			progress("wan: skipped: " + w.Skipped)
			return figures, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bench: wan %s: %w", run.key, err)
		}
		w.Results = append(w.Results, lr)
		addWANFigures(figures, run.key, lr)
	}
	figures["wan_ran"] = 1
	figures["wan_rtt_ms"] = float64(4 * wanLinkDelay / time.Millisecond)
	figures["wan_requesters"] = float64(wan.DefaultRequesters)
	return figures, nil
}

// wanTimeout bounds one wire's run: building the lab, both sides and the
// loads.
const wanTimeout = 2 * time.Minute

// runOne runs both systems on run's wire.
func (w *WAN) runOne(ctx context.Context, run wanRun, o wan.Options, dir string) (wan.LabResult, error) {
	ctx, cancel := context.WithTimeout(ctx, wanTimeout)
	defer cancel()
	sub, err := os.MkdirTemp(dir, run.key+"-")
	if err != nil {
		return wan.LabResult{}, err
	}
	return wan.RunLab(ctx, natlab.Wire{Delay: wanLinkDelay, Loss: run.linkLoss}, o, sub, w.Command)
}

// options are the loads: package wan's defaults (quick: shorter), an
// uncompressed leaf link, and loss-based TCP congestion control as most
// hosts run it.
func (w *WAN) options() wan.Options {
	o := wan.Options{LeafCompression: "off", TCPCongestion: wan.LossBasedCongestion()}
	if w.Quick {
		o.RequestDuration, o.BlastDuration = 2*time.Second, 2*time.Second
	}
	return o
}

// addWANFigures adds one wire's figures under suffix key.
func addWANFigures(f map[string]float64, key string, lr wan.LabResult) {
	for _, s := range lr.Result.Systems {
		p := "wan_" + s.System + "_"
		q, b := s.Requests, s.Blast
		f[p+"rr_p50_us_"+key] = q.P50 * 1000
		f[p+"rr_p99_us_"+key] = q.P99 * 1000
		f[p+"rr_per_sec_"+key] = q.PerSec
		f[p+"rr_errors_"+key] = float64(q.Errors)
		f[p+"ff_msgs_per_sec_"+key] = b.PerSec
		f[p+"ff_lost_"+key] = float64(b.Lost)
	}
	x := lr.Result.Ratios()
	f["wan_rr_p50_ratio_"+key] = lr.Result.P50Ratio()
	f["wan_rr_p99_ratio_"+key] = x.P99
	f["wan_rr_per_sec_ratio_"+key] = x.RequestSec
	f["wan_ff_ratio_"+key] = x.BlastSec
	f["wan_wire_lost_frames_"+key] = float64(lr.Wire.Lost)
}

// WriteTable writes the scenario's figures as a table, or one line saying
// why it was skipped.
func (w *WAN) WriteTable(out io.Writer) error {
	if w.Skipped != "" {
		_, err := fmt.Fprintf(out, "WAN scenario skipped: %s\n", w.Skipped)
		return err
	}
	fmt.Fprintf(out, "WAN: leaf node vs peerbridge across 40 ms RTT, %d requesters, %d B payloads\n", wan.DefaultRequesters, wan.DefaultSize)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "loss each way\tsystem\trr p50 ms\trr p99 ms\trr/s\trr errors\tf&f msg/s\tf&f lost\t")
	for i, lr := range w.Results {
		loss := fmt.Sprintf("%.0f%%", 2*wanRuns[i].linkLoss)
		for _, s := range lr.Result.Systems {
			q, b := s.Requests, s.Blast
			fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.0f\t%d\t%.0f\t%d\t\n", loss, s.System, q.P50, q.P99, q.PerSec, q.Errors, b.PerSec, b.Lost)
		}
		x := lr.Result.Ratios()
		fmt.Fprintf(tw, "%s\tbridge/leaf\t%.2f\t%.2f\t%.2f\t\t%.2f\t\t\n", loss, lr.Result.P50Ratio(), x.P99, x.RequestSec, x.BlastSec)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("bench: writing the WAN table: %w", err)
	}
	return nil
}
