// Package docsnippet finds the code blocks of the docs that tests run, so a
// snippet a reader copies is the one a test ran. A runnable block is
// preceded by a line `<!-- test: NAME (...) -->`.
package docsnippet

import (
	"os"
	"strings"
	"testing"
)

// Find returns the body of the fenced code block after the marker
// `<!-- test: name` in the Markdown file at path, failing tb if there is none.
func Find(tb testing.TB, path, name string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "<!-- test: "+name+" ")
	if i < 0 {
		tb.Fatalf("%s has no snippet marked %q", path, name)
	}
	rest := text[i:]
	open := strings.Index(rest, "\n```")
	if open < 0 {
		tb.Fatalf("%s: no code block after the marker %q", path, name)
	}
	rest = rest[open+4:]
	body := rest[strings.IndexByte(rest, '\n')+1:]
	end := strings.Index(body, "\n```")
	if end < 0 {
		tb.Fatalf("%s: the code block of %q does not end", path, name)
	}
	return body[:end+1]
}
