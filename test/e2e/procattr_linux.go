package e2e

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel send SIGTERM to the script when the
// test binary dies (timeout panic, kill), so its trap still stops etcd,
// kube-apiserver and binding-apiserver.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
