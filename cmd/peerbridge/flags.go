package main

import (
	"fmt"
	"strings"

	"github.com/peerbridge/peerbridge/connector"
)

// targetsFlag is a repeatable NODEID@host:port flag.
type targetsFlag struct {
	targets    []connector.Target
	needBoth   bool
	exampleArg string
}

func (f *targetsFlag) String() string {
	parts := make([]string, len(f.targets))
	for i, t := range f.targets {
		parts[i] = t.String()
	}
	return strings.Join(parts, ",")
}

func (f *targetsFlag) Set(s string) error {
	t, err := connector.ParseTarget(s)
	if err != nil {
		return fmt.Errorf("want NODEID@host:port: %w", err)
	}
	if f.needBoth && (t.NodeID == "" || t.Endpoint == "") {
		return fmt.Errorf("want NODEID@host:port, got %q", s)
	}
	f.targets = append(f.targets, t)
	return nil
}

// serveFlag is a repeatable TYPE=SUBJECT flag.
type serveFlag map[string]string

func (f serveFlag) String() string {
	parts := make([]string, 0, len(f))
	for k, v := range f {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (f serveFlag) Set(s string) error {
	typ, subj, ok := strings.Cut(s, "=")
	if !ok || typ == "" || subj == "" || strings.ContainsAny(s, " \t") {
		return fmt.Errorf("want TYPE=SUBJECT, got %q", s)
	}
	f[typ] = subj
	return nil
}
