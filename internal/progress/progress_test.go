package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestBarDrawsOnlyToAWriter(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "rows", 10)
	b.Set(5)
	b.Set(10)
	b.Finish()
	out := buf.String()
	if !strings.Contains(out, "rows") || !strings.Contains(out, "100%") || !strings.HasSuffix(out, "\n") {
		t.Fatalf("bar output %q", out)
	}
	quiet := New(nil, "rows", 10)
	quiet.Set(10)
	quiet.Finish() // must not panic or write anywhere
}

func TestTerminalIsNilForFiles(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if Terminal(f) != nil {
		t.Fatal("a regular file was taken for a terminal")
	}
}
