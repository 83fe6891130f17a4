package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCatalogCommands: allot catalog import takes the shipped default
// catalog (JSON Lines) and a JSON array alike, refuses a bad file whole
// (exit 3, naming the line and the field), and catalog list --json prints
// what GET /admin/v1/catalog answers.
func TestCatalogCommands(t *testing.T) {
	tm := newTestMain(t)
	def := filepath.Join("..", "..", "docs", "catalog.jsonl")
	lines, err := os.ReadFile(def)
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(strings.TrimSpace(string(lines)), "\n") + 1
	if out := tm.mustRun(t, "", "catalog", "import", def); out != "catalog replaced: "+strconv.Itoa(n)+" specs\n" {
		t.Fatalf("import printed %q", out)
	}
	listed := tm.mustRun(t, "", "catalog", "list", "--json")
	var got struct {
		Specs []struct {
			SpecCode string `json:"spec_code"`
		} `json:"specs"`
		Count int `json:"count"`
	}
	if err := json.Unmarshal([]byte(listed), &got); err != nil || got.Count != n || len(got.Specs) != n {
		t.Fatalf("list --json printed %q (%v)", listed, err)
	}
	for i := 1; i < len(got.Specs); i++ {
		if got.Specs[i-1].SpecCode >= got.Specs[i].SpecCode {
			t.Fatalf("specs not ordered by code: %s before %s", got.Specs[i-1].SpecCode, got.Specs[i].SpecCode)
		}
	}

	// A bad second line: nothing is imported, the catalog stays.
	bad := strings.Replace(string(lines), `"unit":"NUM"`, `"unit":"YARD"`, 1)
	badFile := filepath.Join(tm.dir, "bad.jsonl")
	writeFile(t, badFile, bad)
	_, _, err = tm.run(t, "", "catalog", "import", badFile)
	if err == nil || exitCode(err) != 3 || !strings.Contains(errorText(err), "line 2: unit") {
		t.Fatalf("bad import: %v (exit %d)", err, exitCode(err))
	}
	if again := tm.mustRun(t, "", "catalog", "list", "--json"); again != listed {
		t.Fatalf("a refused import changed the catalog:\n%s", again)
	}

	// The management API answers the same body; a JSON array from stdin
	// replaces the catalog with one spec.
	var key struct{ Key string }
	if err := json.Unmarshal([]byte(tm.mustRun(t, "", "admin-key", "create", "--name", "ops", "--json")), &key); err != nil {
		t.Fatal(err)
	}
	admin := tm.serveAdmin(t)
	req, _ := http.NewRequest("GET", "http://"+admin+"/admin/v1/catalog", nil)
	req.Header.Set("Authorization", "Bearer "+key.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body)+"\n" != listed {
		t.Fatalf("GET /admin/v1/catalog answered %d\n%s\nthe CLI printed\n%s", resp.StatusCode, body, listed)
	}
	one := `[{"spec_code":"hws.resource.type.metastudio.only","business_type":"VIDEO_2D","resource_type":"VIDEO_2D_MIN","unit":"MIN","amount":"12.5","validity_days":30}]`
	if out := tm.mustRun(t, one, "catalog", "import", "-"); out != "catalog replaced: 1 specs\n" {
		t.Fatalf("import - printed %q", out)
	}
	table := tm.mustRun(t, "", "catalog", "list")
	if !strings.Contains(table, "hws.resource.type.metastudio.only") || !strings.Contains(table, "12.5 MIN") || !strings.Contains(table, "30d") ||
		strings.Contains(table, "avatarlive") {
		t.Fatalf("list printed\n%s", table)
	}
}
