//go:build unix && !linux

package irctest

import "syscall"

// childProcAttr puts the server in a process group of its own.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
