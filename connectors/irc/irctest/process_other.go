//go:build !unix

package irctest

import (
	"os/exec"
	"syscall"
	"testing"
)

// The test servers are Unix programs; elsewhere these only keep the package
// compiling, and Start skips for want of a binary.

func childProcAttr() *syscall.SysProcAttr { return nil }

func signalGroup(cmd *exec.Cmd, _ syscall.Signal) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

func raiseFileLimit(testing.TB, uint64) {}
