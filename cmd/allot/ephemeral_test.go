package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/sign"
	"github.com/allot-dev/allot/sqlite"
)

// running is an `allot serve` started by startServe.
type running struct {
	addr string
	out  *syncBuffer
	logs *syncBuffer
	stop func() error
}

// startServe runs `allot serve` on free ports until the returned stop is
// called (or the test ends); unlike tm.serve, the test decides when it
// stops, to look at what it left behind.
func (tm *testMain) startServe(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{out: &syncBuffer{}, logs: &syncBuffer{}}
	ready := make(chan string, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: r.out, Stderr: r.logs, Getenv: func(k string) string { return tm.env[k] },
		Ready: func(a, _ string) { ready <- a }}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, args...))
	}()
	select {
	case r.addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve exited: %v\n%s", err, r.logs.String())
	}
	stopped, result := false, error(nil)
	r.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			result = <-done
		}
		return result
	}
	t.Cleanup(func() { r.stop() })
	return r
}

// serveFails runs `allot serve` that is expected not to start and returns
// its error; if it does start, it is stopped and the test fails rather
// than hangs.
func (tm *testMain) serveFails(t *testing.T, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := false
	m := &Main{Stdin: strings.NewReader(""), Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, Getenv: func(k string) string { return tm.env[k] },
		Ready: func(string, string) { started = true; cancel() }}
	err := m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "off"}, args...))
	if started {
		t.Fatalf("allot serve %s started", strings.Join(args, " "))
	}
	return err
}

// printedCredential is the AK/SK serve --demo printed.
func printedCredential(t *testing.T, out string) (ak, sk string) {
	t.Helper()
	a := regexp.MustCompile(`access key:\s+(\S+)`).FindStringSubmatch(out)
	s := regexp.MustCompile(`secret key:\s+(\S+)`).FindStringSubmatch(out)
	if a == nil || s == nil {
		t.Fatalf("no demo credential printed:\n%s", out)
	}
	return a[1], s[1]
}

// signedDemoList lists the demo tenant's resources with an AK/SK-signed
// request and returns the status and the number of resources.
func signedDemoList(t *testing.T, addr, ak, sk string) (status, count int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/"+demoProject+"/tenants/resources?resource_source=PURCHASED,SP_ALLOCATED,ADMIN_ALLOCATED", nil)
	if err := sign.Sign(req, nil, ak, []byte(sk), time.Now()); err != nil {
		t.Fatal(err)
	}
	var got listResponse
	status = getJSON(t, req.URL.String(), req.Header, &got)
	return status, got.Count
}

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// ephemeralMain is a testMain with no --db or key file configured, its
// temporary directories in a TMPDIR of its own, and the test's working
// directory moved to an empty directory, so both can be checked for leftovers.
func ephemeralMain(t *testing.T) (tm *testMain, tmp, work string) {
	tm = newTestMain(t)
	delete(tm.env, "ALLOT_DB")
	delete(tm.env, "ALLOT_MASTER_KEY_FILE")
	tmp, work = t.TempDir(), t.TempDir()
	tm.env["TMPDIR"] = tmp
	t.Chdir(work)
	return tm, tmp, work
}

// TestServeEphemeral: serve --demo --ephemeral keeps its database and master
// key file in one new directory under TMPDIR, serves the demo tenant from
// it, and removes it at exit; nothing is written in the working directory.
func TestServeEphemeral(t *testing.T) {
	tm, tmp, work := ephemeralMain(t)
	r := tm.startServe(t, "--demo", "--ephemeral")
	if got := readyz(t, r.addr); got != 200 {
		t.Fatalf("/readyz: %d", got)
	}
	ak, sk := printedCredential(t, r.out.String())
	if status, count := signedDemoList(t, r.addr, ak, sk); status != 200 || count != len(demoBatch(time.Now()).Resources) {
		t.Fatalf("signed demo list: %d, %d resources", status, count)
	}
	dirs := dirEntries(t, tmp)
	if len(dirs) != 1 || !strings.HasPrefix(dirs[0], "allot-ephemeral-") {
		t.Fatalf("TMPDIR holds %v, want one allot-ephemeral-* directory", dirs)
	}
	inside := strings.Join(dirEntries(t, filepath.Join(tmp, dirs[0])), " ")
	if !strings.Contains(inside, "allot.db") || !strings.Contains(inside, "allot.key") {
		t.Fatalf("the ephemeral directory holds %q, want the database and the key file", inside)
	}
	if strings.Contains(r.logs.String(), "created master key file") {
		t.Fatalf("a temporary key file is announced as one to keep safe:\n%s", r.logs.String())
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if left := dirEntries(t, tmp); len(left) != 0 {
		t.Fatalf("left behind in TMPDIR: %v", left)
	}
	if left := dirEntries(t, work); len(left) != 0 {
		t.Fatalf("written in the working directory: %v", left)
	}
}

// TestServeEphemeralMasterKeyFromEnv: with ALLOT_MASTER_KEY no key file is
// written at all.
func TestServeEphemeralMasterKeyFromEnv(t *testing.T) {
	tm, tmp, _ := ephemeralMain(t)
	tm.env["ALLOT_MASTER_KEY"] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	r := tm.startServe(t, "--demo", "--ephemeral")
	dirs := dirEntries(t, tmp)
	if len(dirs) != 1 {
		t.Fatalf("TMPDIR holds %v", dirs)
	}
	if inside := dirEntries(t, filepath.Join(tmp, dirs[0])); strings.Contains(strings.Join(inside, " "), ".key") {
		t.Fatalf("a key file was written although ALLOT_MASTER_KEY is set: %v", inside)
	}
	ak, sk := printedCredential(t, r.out.String())
	if status, _ := signedDemoList(t, r.addr, ak, sk); status != 200 {
		t.Fatalf("signed demo list: %d", status)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if left := dirEntries(t, tmp); len(left) != 0 {
		t.Fatalf("left behind in TMPDIR: %v", left)
	}
}

// TestServeEphemeralFailedStart: when start-up fails after the directory was
// made (here the port is taken), the directory is removed all the same.
func TestServeEphemeralFailedStart(t *testing.T) {
	tm, tmp, work := ephemeralMain(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	err = tm.serveFails(t, "--ephemeral", "--demo", "--addr", taken.Addr().String())
	if err == nil {
		t.Fatal("serve started on a taken port")
	}
	if left := dirEntries(t, tmp); len(left) != 0 {
		t.Fatalf("a failed start left behind in TMPDIR: %v", left)
	}
	if left := dirEntries(t, work); len(left) != 0 {
		t.Fatalf("a failed start wrote in the working directory: %v", left)
	}
}

// TestServeEphemeralRefusesDB: --ephemeral with a database or key file named
// anywhere (flag, environment, config file) is a usage error that names the
// setting and says why, and creates nothing.
func TestServeEphemeralRefusesDB(t *testing.T) {
	tm, tmp, work := ephemeralMain(t)
	config := filepath.Join(t.TempDir(), "allot.json")
	writeFile(t, config, `{"db": "from-config.db"}`)
	cases := []struct {
		name, want string
		env        map[string]string
		args       []string
	}{
		{"flag", "--db", nil, []string{"--db", "mine.db"}},
		{"env", "ALLOT_DB", map[string]string{"ALLOT_DB": "mine.db"}, nil},
		{"config", "db in config file " + config, nil, []string{"--config", config}},
		{"key file", "--master-key-file", nil, []string{"--master-key-file", "mine.key"}},
		{"key file env", "ALLOT_MASTER_KEY_FILE", map[string]string{"ALLOT_MASTER_KEY_FILE": "mine.key"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				tm.env[k] = v
				defer delete(tm.env, k)
			}
			err := tm.serveFails(t, append([]string{"--ephemeral"}, c.args...)...)
			if err == nil {
				t.Fatal("serve --ephemeral accepted it")
			}
			if got := exitCode(err); got != 2 {
				t.Fatalf("exit code %d, want 2 (usage)", got)
			}
			msg := errorText(err)
			if !strings.Contains(msg, "--ephemeral cannot be combined with "+c.want+":") || !strings.Contains(msg, "temporary") {
				t.Fatalf("message %q does not name %s and say why", msg, c.want)
			}
			if left := append(dirEntries(t, tmp), dirEntries(t, work)...); len(left) != 0 {
				t.Fatalf("a refused start created %v", left)
			}
		})
	}
}

// TestDemoFixedCredential: with ALLOT_DEMO_AK/ALLOT_DEMO_SK the demo tenant
// gets exactly that credential, which signs requests; a restart over the
// same database reuses it, and a restart of an ephemeral server makes it
// again, so a hard-coded credential keeps working.
func TestDemoFixedCredential(t *testing.T) {
	const ak, sk = "DEMOACCESSKEY0000001", "demoSecretKey0000000000000000000000000001"
	want := len(demoBatch(time.Now()).Resources)
	for _, ephemeral := range []bool{false, true} {
		name := "persistent"
		var tm *testMain
		args := []string{"--demo"}
		if ephemeral {
			name = "ephemeral"
			tm, _, _ = ephemeralMain(t)
			args = append(args, "--ephemeral")
		} else {
			tm = newTestMain(t)
		}
		t.Run(name, func(t *testing.T) {
			tm.env["ALLOT_DEMO_AK"], tm.env["ALLOT_DEMO_SK"] = ak, sk
			for run := 1; run <= 2; run++ {
				r := tm.startServe(t, args...)
				gotAK, gotSK := printedCredential(t, r.out.String())
				if gotAK != ak || gotSK != sk {
					t.Fatalf("run %d printed %s/%s, want the fixed %s/%s", run, gotAK, gotSK, ak, sk)
				}
				if status, count := signedDemoList(t, r.addr, ak, sk); status != 200 || count != want {
					t.Fatalf("run %d: signed demo list: %d, %d resources", run, status, count)
				}
				if err := r.stop(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestDemoFixedCredentialClash: a fixed access key that exists with another
// secret, or for another project, stops serve with a message saying which;
// half a pair is a usage error.
func TestDemoFixedCredentialClash(t *testing.T) {
	const ak, sk = "DEMOACCESSKEY0000002", "demoSecretKey0000000000000000000000000002"
	tm := newTestMain(t)
	tm.env["ALLOT_DEMO_AK"], tm.env["ALLOT_DEMO_SK"] = ak, sk
	tm.startServe(t, "--demo").stop()

	tm.env["ALLOT_DEMO_SK"] = sk + "-other"
	err := tm.serveFails(t, "--demo")
	if err == nil || !strings.Contains(errorText(err), "access key "+ak+" already exists for project "+demoProject+" with another secret key") {
		t.Fatalf("another secret for the demo access key: %v", err)
	}

	// The same access key held by another project.
	other := newTestMain(t)
	other.mustRun(t, "", "project", "create", "--id", "p1", "--name", "P1", "--region", "r")
	ctx := context.Background()
	store, err := sqlite.Open(ctx, other.env["ALLOT_DB"])
	if err != nil {
		t.Fatal(err)
	}
	keyring, _, err := app.LoadKeyring(ctx, store, app.KeySource{File: other.env["ALLOT_MASTER_KEY_FILE"]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.EnsureCredential(ctx, store, keyring, "p1", ak, sk); err != nil {
		t.Fatal(err)
	}
	store.Close()
	other.env["ALLOT_DEMO_AK"], other.env["ALLOT_DEMO_SK"] = ak, sk
	err = other.serveFails(t, "--demo")
	if err == nil || !strings.Contains(errorText(err), "access key "+ak+" already belongs to project p1, not "+demoProject) {
		t.Fatalf("the demo access key held by another project: %v", err)
	}

	for _, half := range []map[string]string{{"ALLOT_DEMO_AK": ak}, {"ALLOT_DEMO_SK": sk}} {
		tm := newTestMain(t)
		for k, v := range half {
			tm.env[k] = v
		}
		err := tm.serveFails(t, "--demo")
		if err == nil || exitCode(err) != 2 || !strings.Contains(errorText(err), "set both") {
			t.Fatalf("half a pair %v: %v", half, err)
		}
		if _, err := os.Stat(tm.env["ALLOT_DB"]); err == nil {
			t.Fatalf("half a pair %v: a database was created before refusing", half)
		}
	}
	for _, bad := range []struct{ ak, sk, want string }{
		{"has space", sk, "ALLOT_DEMO_AK: has a character outside"},
		{ak, "tab\tinside", "ALLOT_DEMO_SK: has a character that is not printable"},
		{ak, strings.Repeat("s", 129), "ALLOT_DEMO_SK: is longer than 128"},
	} {
		tm := newTestMain(t)
		tm.env["ALLOT_DEMO_AK"], tm.env["ALLOT_DEMO_SK"] = bad.ak, bad.sk
		err := tm.serveFails(t, "--demo")
		if err == nil || exitCode(err) != 2 || !strings.Contains(errorText(err), bad.want) {
			t.Fatalf("ALLOT_DEMO_AK=%q ALLOT_DEMO_SK=%q: %v, want %q", bad.ak, bad.sk, err, bad.want)
		}
	}
}

// TestConfigPrintDemoCredential: config print shows the fixed demo access
// key and that a secret is set, never the secret itself.
func TestConfigPrintDemoCredential(t *testing.T) {
	const ak, sk = "DEMOACCESSKEY0000003", "demoSecretKey0000000000000000000000000003"
	tm := newTestMain(t)
	tm.env["ALLOT_DEMO_AK"], tm.env["ALLOT_DEMO_SK"] = ak, sk
	var got map[string]string
	if err := json.Unmarshal([]byte(tm.mustRun(t, "", "config", "print", "--ephemeral")), &got); err != nil {
		t.Fatal(err)
	}
	if got["demo_access_key"] != ak || !strings.Contains(got["demo_secret_key"], "not shown") || got["ephemeral"] != "true" {
		t.Fatalf("config print: %v", got)
	}
	if out := tm.mustRun(t, "", "config", "print"); strings.Contains(out, sk) {
		t.Fatalf("config print shows the demo secret key:\n%s", out)
	}
}
