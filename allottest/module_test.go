package allottest_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/internal/docsnippet"
)

// TestUserModule is what a user does: a module of their own requiring
// allot (through a replace to this checkout, as nothing is published
// here) and the SDK at the version allot pins, docs/testing.md's test as
// its test, go mod tidy, go test. No cgo: it builds and passes with
// CGO_ENABLED=0, and its go.sum names no cgo SQLite driver.
func TestUserModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module of its own: not in -short")
	}
	checkout, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	ours, err := os.ReadFile(filepath.Join(checkout, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github.com/huaweicloud/huaweicloud-sdk-go-v3 (v\S+)`).FindSubmatch(ours)
	if m == nil {
		t.Fatal("go.mod does not pin the Huawei Cloud Go SDK")
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(ours)

	dir := t.TempDir()
	gomod := "module example.com/quota\n\ngo " + string(goVersion[1]) + "\n\n" +
		"require (\n\tgithub.com/allot-dev/allot v0.0.0\n\tgithub.com/huaweicloud/huaweicloud-sdk-go-v3 " + string(m[1]) + "\n)\n\n" +
		"replace github.com/allot-dev/allot => " + checkout + "\n"
	write(t, filepath.Join(dir, "go.mod"), gomod)
	snippet := docsnippet.Find(t, filepath.Join(checkout, "docs", "testing.md"), "quota_test.go")
	if n := strings.Count(strings.TrimSpace(snippet[strings.Index(snippet, "func TestQuota"):]), "\n") + 1; n > 12 {
		t.Errorf("the docs' test is %d lines; the promise is about ten", n)
	}
	write(t, filepath.Join(dir, "quota_test.go"), snippet)

	// The module cache and the build cache are the usual ones: go mod tidy
	// finds allot's dependencies there, and the module proxy the rest.
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = dir, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	run("mod", "tidy")
	out := run("test", "-count=1", "-v", "./...")
	if !strings.Contains(out, "--- PASS: TestQuota") {
		t.Fatalf("the user's test did not pass:\n%s", out)
	}
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cgo := range []string{"github.com/mattn/go-sqlite3", "crawshaw.io/sqlite", "github.com/gwenn/gosqlite"} {
		if bytes.Contains(sum, []byte(cgo+" ")) {
			t.Errorf("go.sum requires %s, a cgo module", cgo)
		}
	}
	if !bytes.Contains(sum, []byte("modernc.org/sqlite ")) {
		t.Errorf("go.sum lacks modernc.org/sqlite: is this the module's store at all?\n%s", sum)
	}
}

// TestDocsSeedIsTheDefault: the seed docs/testing.md gives the other SDKs
// is allottest's default, so every snippet's credentials are one set.
func TestDocsSeedIsTheDefault(t *testing.T) {
	got := docsnippet.Find(t, filepath.Join("..", "docs", "testing.md"), "seed.jsonl")
	if want := string(allottest.DefaultSeed()); got != want {
		t.Fatalf("docs/testing.md seed:\n%s\nallottest/default.jsonl:\n%s", got, want)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
