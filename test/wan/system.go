package wan

import (
	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/bridge"
)

// Names of the two systems compared.
const (
	SystemLeaf   = "leaf"
	SystemBridge = "bridge"
)

// subjects are the subjects of one system: where A sends and where B's
// services listen.
type subjects struct {
	echo, blast, count string
}

// Leaf subjects are the same on both sides: the leaf link carries them as
// they are.
var leafSubjects = subjects{echo: "wan.echo", blast: "wan.blast", count: "wan.count"}

// bridgeServe are the subjects B's bridge delivers to; A sends to
// bridgeSend, naming B in a Peer-Node header.
func bridgeServe() subjects {
	p := bridge.DefaultPrefix + ".recv."
	return subjects{echo: p + "echo", blast: p + "blast", count: p + "count"}
}

func bridgeSend() subjects {
	return subjects{
		echo:  bridge.DefaultPrefix + ".request.echo",
		blast: bridge.DefaultPrefix + ".send.blast",
		count: bridge.DefaultPrefix + ".request.count",
	}
}

// system is one way from A to B: the NATS A's clients connect to, the
// subjects they send to and the headers every message carries.
type system struct {
	name   string
	url    string
	subj   subjects
	header nats.Header
}

// msg returns a message to subject with the system's headers.
func (s system) msg(subject string, data []byte) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = data
	for k, v := range s.header {
		m.Header[k] = v
	}
	return m
}
