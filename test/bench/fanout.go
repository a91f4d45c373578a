package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
	"github.com/peerbridge/peerbridge/connector"
)

const (
	// fanoutType is the message type of the fan-out scenario.
	fanoutType = "fanout"
	// fanoutTimeout bounds one fan-out, from the request to the bridge's
	// answer.
	fanoutTimeout = 5 * time.Second
)

// fanout times one 128 B message sent through a bridge to one peer and to
// k peers (one Peer-Node header each), from a NATS client's request on
// peer.send.fanout to the bridge's answer, which comes once every peer has
// acknowledged. The peers are connectors of their own on loopback, pooled
// by the bridge's connector before timing starts. The two widths alternate
// so that both see the same conditions.
func (o ExtraOptions) fanout(ctx context.Context, progress func(string)) (map[string]float64, error) {
	a, err := startBridgeNode(ctx, "bench-fanout")
	if err != nil {
		return nil, err
	}
	defer a.close()
	peers, err := startSinks(ctx, o.FanoutPeers)
	defer closeAll(peers)
	if err != nil {
		return nil, fmt.Errorf("fan-out: %w", err)
	}
	nc, err := a.srv.Connect(ctx, "fanout-requester")
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	one, all := fanoutMsgs(a.conn, peers)
	if err := fanoutOnce(ctx, nc, all, len(peers)); err != nil { // dials every peer
		return nil, fmt.Errorf("fan-out: warm-up: %w", err)
	}
	s1, sk, err := o.timeFanout(ctx, nc, one, all, len(peers))
	if err != nil {
		return nil, err
	}
	k := len(peers)
	progress(fmt.Sprintf("fan-out: one peer p50 %.1fus, %d peers p50 %.1fus over %d messages each", s1.p50(), k, sk.p50(), sk.count()))
	return map[string]float64{
		"fanout1_p50_us":                    s1.p50(),
		fmt.Sprintf("fanout%d_p50_us", k):   sk.p50(),
		fmt.Sprintf("fanout%d_ratio", k):    sk.p50() / s1.p50(),
		fmt.Sprintf("fanout%d_messages", k): float64(sk.count()),
	}, nil
}

// timeFanout alternates sends to one peer and to all of them.
func (o ExtraOptions) timeFanout(ctx context.Context, nc *nats.Conn, one, all *nats.Msg, k int) (s1, sk *sampler, err error) {
	s1, sk = newSampler(), newSampler()
	for range 10 {
		_ = fanoutOnce(ctx, nc, one, 1) // warm-up; failures show below
	}
	deadline := time.Now().Add(o.Duration)
	for i := 0; i < o.FanoutSends && time.Now().Before(deadline); i++ {
		if err := s1.time(func() error { return fanoutOnce(ctx, nc, one, 1) }); err != nil {
			return nil, nil, fmt.Errorf("fan-out to one peer: %w", err)
		}
		if err := sk.time(func() error { return fanoutOnce(ctx, nc, all, k) }); err != nil {
			return nil, nil, fmt.Errorf("fan-out to %d peers: %w", k, err)
		}
	}
	return s1, sk, nil
}

// fanoutMsgs are the message to the first peer and the one to all of
// them, each peer named by node ID alone once c knows its endpoint.
func fanoutMsgs(c *connector.Connector, peers []*connector.Connector) (one, all *nats.Msg) {
	subject := bridge.DefaultPrefix + ".send." + fanoutType
	data := payload(128)
	hAll := nats.Header{}
	for _, p := range peers {
		t := targetOf(p)
		c.AddAddress(t.NodeID, t.Endpoint)
		hAll.Add(bridge.HeaderNode, t.NodeID.String())
	}
	hOne := nats.Header{bridge.HeaderNode: hAll.Values(bridge.HeaderNode)[:1]}
	return &nats.Msg{Subject: subject, Header: hOne, Data: data}, &nats.Msg{Subject: subject, Header: hAll, Data: data}
}

// fanoutOnce sends msg and checks the bridge's answer: every one of its k
// peers acknowledged.
func fanoutOnce(ctx context.Context, nc *nats.Conn, msg *nats.Msg, k int) error {
	rctx, cancel := context.WithTimeout(ctx, fanoutTimeout)
	defer cancel()
	reply, err := nc.RequestMsgWithContext(rctx, msg)
	if err != nil {
		return err
	}
	if code := reply.Header.Get(bridge.HeaderErrorCode); code != "" {
		return fmt.Errorf("bridge answered %s: %s", code, reply.Header.Get(bridge.HeaderError))
	}
	if k == 1 {
		return nil // {"ok":true}: a failure would have carried the error headers
	}
	var r bridge.SendReply
	if err := json.Unmarshal(reply.Data, &r); err != nil {
		return fmt.Errorf("bridge answer %q: %w", reply.Data, err)
	}
	if !r.OK || r.Sent != k {
		return fmt.Errorf("%d of %d peers acknowledged", r.Sent, k)
	}
	return nil
}

// startSinks starts n connectors that acknowledge everything. On error it
// returns those it started.
func startSinks(ctx context.Context, n int) ([]*connector.Connector, error) {
	var cs []*connector.Connector
	for range n {
		c, err := startConnector(ctx, ackHandler)
		if err != nil {
			return cs, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// closeAll closes every connector, joining their errors.
func closeAll(cs []*connector.Connector) error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
