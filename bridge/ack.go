package bridge

import (
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/peerbridge/peerbridge/connector"
)

// SendReply is the answer to a message sent to several peers, once each has
// acknowledged it or failed. A message to one peer is answered {"ok":true},
// or with the error headers and no payload.
//
//	{"ok":false,"sent":1,"failed":1,"results":[
//	  {"node":"…","ok":true},
//	  {"node":"…","endpoint":"10.0.0.2:4242","ok":false,"code":503,"error":"…"}]}
//
// If every peer failed, the error headers are set too, with the first
// failure's code.
type SendReply struct {
	// OK is true if every peer acknowledged the message.
	OK bool `json:"ok"`
	// Sent and Failed count the peers that acknowledged it and that did not.
	Sent   int `json:"sent"`
	Failed int `json:"failed"`
	// Results has one entry per target, in the order of the headers.
	Results []SendResult `json:"results"`
}

// SendResult is one peer's part of a SendReply.
type SendResult struct {
	// Node and Endpoint name the target as it was given.
	Node     string `json:"node,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	// OK is true if the peer acknowledged the message.
	OK bool `json:"ok"`
	// Code and Error say why not.
	Code  int    `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
}

// ackOne is the answer to a message one peer acknowledged.
const ackOne = `{"ok":true}`

// ackMsg answers a message sent to targets, whose outcomes are errs.
func ackMsg(targets []connector.Target, errs []error) *nats.Msg {
	if len(targets) == 1 {
		if errs[0] != nil {
			return errorMsg(errs[0])
		}
		return &nats.Msg{Data: []byte(ackOne)}
	}
	r := sendReply(targets, errs)
	data, err := json.Marshal(r)
	if err != nil {
		return errorMsg(fmt.Errorf("bridge: encoding send reply: %w", err))
	}
	m := &nats.Msg{Data: data}
	if r.Sent == 0 {
		first := r.Results[0]
		m.Header = errorHeader(first.Code, fmt.Sprintf("all %d peers failed; first: %s", r.Failed, first.Error))
	}
	return m
}

func sendReply(targets []connector.Target, errs []error) SendReply {
	r := SendReply{Results: make([]SendResult, len(targets))}
	for i, t := range targets {
		res := SendResult{Node: t.NodeID.String(), Endpoint: t.Endpoint, OK: errs[i] == nil}
		if errs[i] != nil {
			res.Code, res.Error = codeOf(errs[i])
			r.Failed++
		} else {
			r.Sent++
		}
		r.Results[i] = res
	}
	r.OK = r.Failed == 0
	return r
}
