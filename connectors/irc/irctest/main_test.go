package irctest

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// minParallel is how many tests run at once unless -parallel says otherwise.
const minParallel = 8

// TestMain raises the default of -parallel: the server tests spend their
// time waiting on child processes (InspIRCd registers clients only once a
// second), so on a 2-core machine the default, GOMAXPROCS, would run them
// almost one after the other. An explicit -parallel still wins, since the
// command line is parsed after this.
func TestMain(m *testing.M) {
	if f := flag.Lookup("test.parallel"); f != nil && runtime.GOMAXPROCS(0) < minParallel {
		_ = f.Value.Set(strconv.Itoa(minParallel))
	}
	os.Exit(m.Run())
}
