//go:build linux

package irctest

import "syscall"

// childProcAttr puts the server in a process group of its own and asks the
// kernel to kill it should the test process die without cleaning up (a
// panic or a timeout in go test). Linux clears that request when a process
// changes its user id, so it does not cover ngIRCd started as root, which
// switches to "nobody".
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
