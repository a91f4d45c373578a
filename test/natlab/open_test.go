package natlab_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/peerbridge/peerbridge/test/natlab"
)

// TestOpenClose: a lab made without a testing.TB builds hosts and NATs,
// and Close deletes every namespace it made; a second Close does nothing.
func TestOpenClose(t *testing.T) {
	lab, err := natlab.Open()
	if errors.Is(err, natlab.ErrUnsupported) {
		t.Skipf("%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lab.CreatePublicHost("a", 1); err != nil {
		t.Error(err)
	}
	if _, err := lab.CreatePublicHost("a", 1); err == nil {
		t.Error("a second host named a was accepted")
	}
	if n, err := lab.CreateNAT("home", natlab.PortRestricted); err != nil {
		t.Error(err)
	} else if _, err := n.CreateHost("b"); err != nil {
		t.Error(err)
	}
	if err := lab.Close(); err != nil {
		t.Fatal(err)
	}
	if err := lab.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), lab.ID()) {
		t.Fatalf("namespaces of lab %s left after Close:\n%s", lab.ID(), out)
	}
}
