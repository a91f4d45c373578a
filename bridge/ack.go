package bridge

import (
	"encoding/json"
	"fmt"

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
	// Results has one entry per distinct target, in the order of the
	// headers: a node named twice is sent the message once.
	Results []SendResult `json:"results"`
}

// SendResult is one peer's part of a SendReply.
type SendResult struct {
	// Node names the target as it was given. Endpoint is the address
	// that carried the message if it was delivered (a pooled connection is
	// used whatever endpoint the headers hinted at), else the endpoint
	// given.
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

// ackMsg answers a message sent to targets, whose outcomes are res.
func (b *Bridge) ackMsg(targets []connector.Target, res []connector.Result) answer {
	if len(targets) == 1 {
		if res[0].Err != nil {
			return errorMsg(res[0].Err)
		}
		return answer{data: b.ackOne}
	}
	r := sendReply(targets, res)
	data, err := json.Marshal(r)
	if err != nil {
		return errorMsg(fmt.Errorf("bridge: encoding send reply: %w", err))
	}
	m := answer{data: data}
	if r.Sent == 0 {
		first := r.Results[0]
		m.header = errorHeader(first.Code, fmt.Sprintf("all %d peers failed; first: %s", r.Failed, first.Error))
	}
	return m
}

func sendReply(targets []connector.Target, results []connector.Result) SendReply {
	r := SendReply{Results: make([]SendResult, len(targets))}
	for i, t := range targets {
		err := results[i].Err
		res := SendResult{Node: t.NodeID.String(), Endpoint: t.Endpoint, OK: err == nil}
		if err != nil {
			res.Code, res.Error = codeOf(err)
			r.Failed++
		} else {
			r.Sent++
			if remote := results[i].Remote; remote.IsValid() {
				res.Endpoint = remote.String()
			}
		}
		r.Results[i] = res
	}
	r.OK = r.Failed == 0
	return r
}
