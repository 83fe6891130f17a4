package sqlite_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/sqlite"
)

// TestRelease1Replays opens a copy of a database written by release 1 (its
// fingerprints are the JSON of the request, its answers the JSON of the
// result) and replays every request that wrote it: each must come back as
// a replay with the answer release 1 printed, although the key scopes and
// the fingerprint encoding have changed since. t-grant was frozen after
// its requests: a replay still answers, because the key is looked up
// before the rules are checked.
func TestRelease1Replays(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "testdata", "release1", "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ledger.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	svc := &allot.Service{Store: s}
	if r, err := s.TenantChanges(t.Context(), "tenant-1", 0); err != nil {
		t.Fatal(err)
	} else if i := indexOf(r.Resources, "t-grant"); i < 0 || r.Resources[i].Status != allot.StatusFrozen {
		t.Fatalf("the test data's t-grant is not frozen: %+v", r.Resources)
	}

	f, err := os.Open(filepath.Join("..", "testdata", "release1", "requests.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	n := 0
	for lines.Scan() {
		var rec struct {
			Name   string          `json:"name"`
			Args   []string        `json:"args"`
			Answer json.RawMessage `json:"answer"`
		}
		if err := json.Unmarshal(lines.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		n++
		out, err := replayRelease1(t, svc, rec.Args)
		if err != nil {
			t.Errorf("%s: %v", rec.Name, err)
			continue
		}
		if !out.Replayed {
			t.Errorf("%s: not a replay: %+v", rec.Name, out)
		}
		got, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := normalize(t, got), normalize(t, rec.Answer); !reflect.DeepEqual(a["resource"], b["resource"]) ||
			!reflect.DeepEqual(a["entries"], b["entries"]) || !reflect.DeepEqual(a["assignment"], b["assignment"]) {
			t.Errorf("%s: answer\n%s\nwant\n%s", rec.Name, got, rec.Answer)
		}
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 9 {
		t.Fatalf("%d requests in the test data, want 9", n)
	}
	// A release-1 key with another request is still a conflict.
	_, err = svc.Consume(t.Context(), admin, allot.ConsumeRequest{ProjectID: "tenant-1", ResourceID: "t-grant", Amount: units(2), IdempotencyKey: "c-1"})
	if allot.ErrorCodeOf(err) != allot.ECONFLICT {
		t.Fatalf("release-1 key with another amount: %v, want ECONFLICT", err)
	}
	if d := MustDrift(t, s); len(d) != 0 {
		t.Fatalf("drift after the replays: %+v", d)
	}
}

func indexOf(rs []allot.Resource, id string) int {
	for i, r := range rs {
		if r.ResourceID == id {
			return i
		}
	}
	return -1
}

// replayRelease1 runs one management command of the test data through the
// service as an admin. The body is decoded into the domain request, whose
// fields carry the management API's names; --project and --resource name
// the resource of reclaim, cancel and refund.
func replayRelease1(t *testing.T, svc *allot.Service, args []string) (allot.OpResult, error) {
	t.Helper()
	var ref allot.ResourceRef
	body := []byte(args[len(args)-1])
	for i := 0; i+1 < len(args)-1; i++ {
		switch args[i] {
		case "--project":
			ref.ProjectID = args[i+1]
		case "--resource":
			ref.ResourceID = args[i+1]
		}
	}
	decode := func(v any) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	ctx := t.Context()
	switch args[0] {
	case "package":
		var req allot.PackageRequest
		decode(&req)
		return svc.AddPackage(ctx, admin, req)
	case "allocate":
		var req allot.AllocateRequest
		decode(&req)
		return svc.Allocate(ctx, admin, req)
	case "consume":
		var req allot.ConsumeRequest
		decode(&req)
		return svc.Consume(ctx, admin, req)
	case "refund":
		req := allot.RefundRequest{ResourceRef: ref}
		decode(&req)
		req.ResourceRef = ref
		return svc.Refund(ctx, admin, req)
	case "reclaim", "cancel":
		req := allot.ReclaimRequest{ResourceRef: ref}
		decode(&req)
		req.ResourceRef, req.Cancel = ref, args[0] == "cancel"
		return svc.Reclaim(ctx, admin, req)
	}
	t.Fatalf("unknown command %v", args)
	return allot.OpResult{}, nil
}

func normalize(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
