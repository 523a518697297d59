//go:build unix

package irctest

import (
	"os/exec"
	"syscall"
	"testing"
)

// signalGroup sends sig to the server's process group (Start puts every
// server in a group of its own), so helpers it may fork go too.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process == nil {
		return
	}
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
		_ = cmd.Process.Signal(sig)
	}
}

// fileLimitHeadroom is what a server and the test process need beyond one
// descriptor per client: listeners, logs, the runtime's own.
const fileLimitHeadroom = 256

// raiseFileLimit makes room for maxClients connections, in the test process
// (whose clients hold one end) and in the servers it starts (the other).
//
// Go raises its own soft RLIMIT_NOFILE at start-up but hands children the
// soft limit it started with (often 1024) unless the program calls
// Setrlimit itself; so this always calls it, raising the hard limit too
// when it must and may (root).
func raiseFileLimit(t testing.TB, maxClients uint64) {
	need := maxClients + fileLimitHeadroom
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Logf("irctest: read the open-file limit: %v", err)
		return
	}
	want := lim
	if want.Max < need {
		want.Max = need
	}
	want.Cur = want.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		want = lim
		want.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			t.Logf("irctest: set the open-file limit: %v", err)
			return
		}
	}
	if want.Cur < need {
		t.Logf("irctest: open-file limit %d is below the %d that %d clients need; raise `ulimit -n`", want.Cur, need, maxClients)
	}
}
