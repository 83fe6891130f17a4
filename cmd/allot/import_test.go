package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// importLines is a file of two projects and n resources, the projects last
// (a resource may come before its project's line).
func importLines(n int) []string {
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf(`{"kind":"resource","project_id":"p%d","resource_id":"r%05d","resource_type":"T","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":%d.5,"unit":"MIN"}`, i%2, i, i))
	}
	return append(lines, `{"kind":"project","project_id":"p0","name":"P0","region_id":"r"}`, `{"kind":"project","project_id":"p1","name":"P1","region_id":"r"}`)
}

// TestImportStreamsAFile: a file of many blocks and chunks is checked
// whole before anything is written (a bad line or a repeat near its end
// writes nothing, with the line and exit status 3 or 5), then imported
// whole, from a file and from standard input.
func TestImportStreamsAFile(t *testing.T) {
	tm := newTestMain(t)
	const n = 10_000
	write := func(name string, lines []string) string {
		path := filepath.Join(tm.dir, name)
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	bad := importLines(n)
	bad[9_876] = strings.Replace(bad[9_876], `"amount":9876.5`, `"amount":-1`, 1)
	repeat := importLines(n)
	repeat[9_000] = strings.Replace(repeat[9_000], "r09000", "r00010", 1)
	for _, c := range []struct {
		file string
		code int
		want string
	}{
		{write("bad.jsonl", bad), 3, "nothing imported: line 9877: amount"},
		{write("repeat.jsonl", repeat), 5, "nothing imported: line 9001: resource p0/r00010 is already on line 11"},
	} {
		_, _, err := tm.run(t, "", "import", c.file)
		if err == nil || exitCode(err) != c.code || !strings.Contains(errorText(err), c.want) {
			t.Fatalf("import %s: %v (exit %d), want exit %d and %q", c.file, err, exitCode(err), c.code, c.want)
		}
	}
	// Nothing was written: the good file's projects do not exist yet.
	if out := tm.mustRun(t, "", "import", write("good.jsonl", importLines(n))); out != fmt.Sprintf("imported 2 projects, %d resources, 0 assignments\n", n) {
		t.Fatalf("import: %q", out)
	}
	// Standard input, spooled: the same lines again conflict with what is stored.
	_, _, err := tm.run(t, strings.Join(importLines(n)[:n], "\n"), "import", "-")
	if err == nil || exitCode(err) != 5 || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("import of stored resources from stdin: %v", err)
	}
	var more []string
	for i := range 3000 {
		more = append(more, fmt.Sprintf(`{"kind":"resource","project_id":"p1","resource_id":"s%05d","resource_type":"T","business_type":"VIDEO_2D","charging_mode":"ONE_TIME","resource_source":"PURCHASED","amount":1,"unit":"MIN"}`, i))
	}
	if out := tm.mustRun(t, strings.Join(more, "\n"), "import", "-"); out != "imported 0 projects, 3000 resources, 0 assignments\n" {
		t.Fatalf("import from stdin: %q", out)
	}
}
