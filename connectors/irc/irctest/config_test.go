package irctest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNgircdConfigtestAcceptsConfig has ngIRCd validate and dump the
// configuration Start writes, and checks the settings it read back.
func TestNgircdConfigtestAcceptsConfig(t *testing.T) {
	t.Parallel()
	binary, err := findBinary(ngircdFlavor.binary)
	if err != nil {
		reportMissing(t, ngircdFlavor, err)
	}
	for _, fakelag := range []bool{false, true} {
		opts, err := Options{Kind: Ngircd, Fakelag: fakelag, MaxClients: 42, OperName: "admin", OperPassword: "pw"}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if _, err := configureNgircd(dir, 16667, opts); err != nil {
			t.Fatal(err)
		}
		conf := filepath.Join(dir, "ngircd.conf")
		out, err := exec.Command(binary, "--configtest", "--config", conf).CombinedOutput()
		if err != nil {
			t.Fatalf("ngircd --configtest: %v\n%s", err, out)
		}
		penalty := "MaxPenaltyTime = 0"
		if fakelag {
			penalty = "MaxPenaltyTime = -1"
		}
		for _, want := range []string{
			"Name = irc.test", "Listen = 127.0.0.1", "Ports = 16667",
			"MaxConnections = 42", "MaxConnectionsIP = 42", "MaxNickLength = 30", penalty,
			"DNS = no", "PAM = no", "IncludeDir = " + dir + "/conf.d",
			"Name = admin",
		} {
			if !strings.Contains(string(out), "  "+want+"\n") {
				t.Errorf("fakelag=%v: ngircd --configtest does not show %q:\n%s", fakelag, want, out)
			}
		}
	}
}
