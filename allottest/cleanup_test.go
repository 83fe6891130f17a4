package allottest_test

import (
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/allottest"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"
)

// goroutines returns the stacks of every goroutine by goroutine id.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if m := goroutineID.FindStringSubmatch(g); m != nil {
			out[m[1]] = g
		}
	}
	return out
}

var goroutineID = regexp.MustCompile(`^goroutine (\d+) `)

// newGoroutines returns the stacks of goroutines that did not exist in before.
func newGoroutines(before map[string]string) []string {
	var extra []string
	for id, stack := range goroutines() {
		if _, ok := before[id]; !ok {
			extra = append(extra, stack)
		}
	}
	return extra
}

func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// TestNothingOutlivesTheTest: after a test that ran a server and made SDK
// calls ends, no goroutine of it is left, and it wrote nothing outside its
// temporary directory: not in TMPDIR, HOME or the working directory.
func TestNothingOutlivesTheTest(t *testing.T) {
	tmp, home := t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("HOME", home)
	cwd := listTree(t, ".")
	before := goroutines()

	t.Run("server", func(t *testing.T) {
		srv := allottest.Run(t)
		if _, err := srv.Admin().Purchase(allot.PackageRequest{ResourceType: "VIDEO_2D_MIN", BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC", Unit: "MIN", Amount: allottest.Units(3)}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := srv.Client().ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED"}); err != nil {
				t.Fatal(err)
			}
		}
		srv.Reset()
		if len(goroutines()) <= len(before) {
			t.Fatal("a running server shows no goroutine of its own: the leak check below would prove nothing")
		}
	})

	// Goroutines end asynchronously after the listeners and connections
	// close; wait for them, boundedly, and report any that stay.
	var extra []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if extra = newGoroutines(before); len(extra) == 0 {
			break
		}
	}
	if len(extra) > 0 {
		t.Fatalf("%d goroutines outlived the test:\n\n%s", len(extra), strings.Join(extra, "\n\n"))
	}
	if got := listTree(t, tmp); len(got) != 0 {
		t.Errorf("left in TMPDIR: %v", got)
	}
	if got := listTree(t, home); len(got) != 0 {
		t.Errorf("written to HOME: %v", got)
	}
	if got := listTree(t, "."); !slices.Equal(got, cwd) {
		t.Errorf("the working directory changed: %v, was %v", got, cwd)
	}
}
