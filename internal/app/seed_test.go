package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadSeed(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b.jsonl"), []byte(`{"kind":"credential","project_id":"p","access_key":"AK1","secret_key":"secret-key-1"}`+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte("# projects first\n\n"+`{"kind":"project","project_id":"p","name":"P","region_id":"r"}`+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a seed"), 0o600)
	seed, err := LoadSeed(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(seed.Items) != 2 || seed.Items[0].Project == nil || seed.Items[1].Credential == nil {
		t.Fatalf("items %+v, want a.jsonl's project then b.jsonl's credential", seed.Items)
	}

	dup := filepath.Join(dir, "dup.jsonl")
	os.WriteFile(dup, []byte(`{"kind":"project","project_id":"p","name":"P","region_id":"r"}`+"\n"+`{"kind":"project","project_id":"p","name":"Q","region_id":"r"}`+"\n"), 0o600)
	if _, err := LoadSeed(dup, time.Now()); err == nil || !strings.Contains(err.Error(), "dup.jsonl:2: project p is given twice") {
		t.Errorf("a duplicate: %v", err)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"kind":"token","project_id":"p","token":"x"}`+"\n"), 0o600)
	if _, err := LoadSeed(bad, time.Now()); err == nil || !strings.Contains(err.Error(), "bad.jsonl:1: token") {
		t.Errorf("a short token: %v", err)
	}
	if _, err := LoadSeed(t.TempDir(), time.Now()); err == nil || !strings.Contains(err.Error(), "no *.jsonl") {
		t.Errorf("an empty directory: %v", err)
	}
}
