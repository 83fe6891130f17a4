package main

import (
	"archive/tar"
	"bufio"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The image's user and its default command; when serve gains --test-mode,
// it belongs in imageCmd (and the Containerfile) too.
const imageUser = "65532:65532"

var imageCmd = []string{"serve", "--addr", "0.0.0.0:8080", "--admin-addr", "0.0.0.0:8081", "--demo", "--ephemeral", "--test-mode"}

// requireTool returns the path of a program the image test needs. Without
// it the test is skipped, except under CI=true, where it fails: CI must
// install it (apt-get install podman).
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true: %v (apt-get install -y podman)", name, err)
	}
	t.Skipf("%s not found (%v): the container image test needs it (apt-get install -y podman)", name, err)
	return ""
}

// TestImage builds the container image the way `make image` does, with
// podman on the vfs driver in a store of its own, checks its configuration,
// exports its root file system and runs the image's own entrypoint and
// command from it (containers cannot run here): as the image's user, and,
// when the test runs as root, chrooted into that file system, so it has
// exactly what the container has: no /tmp, no /etc, nothing but /allot and /data.
func TestImage(t *testing.T) {
	podmanPath := requireTool(t, "podman")
	makePath := requireTool(t, "make")
	tarPath := requireTool(t, "tar")
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	podman := []string{podmanPath, "--root", filepath.Join(work, "storage"), "--runroot", filepath.Join(work, "run"), "--storage-driver", "vfs"}
	const tag, version = "localhost/allot-image-test:latest", "v0.0.0-imagetest"
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	run(makePath, "image",
		"PODMAN="+strings.Join(podman, " "),
		"IMAGE="+tag, "VERSION="+version, "IMAGE_ROOT="+filepath.Join(work, "context"))

	var inspected []struct {
		Config struct {
			User         string
			ExposedPorts map[string]struct{}
			Entrypoint   []string
			Cmd          []string
			Volumes      map[string]struct{}
			WorkingDir   string
			Env          []string
			Labels       map[string]string
		}
		Healthcheck *struct{ Test []string }
	}
	if err := json.Unmarshal([]byte(run(podman[0], append(podman[1:], "image", "inspect", tag)...)), &inspected); err != nil || len(inspected) != 1 {
		t.Fatalf("podman image inspect: %v (%d images)", err, len(inspected))
	}
	cfg := inspected[0].Config
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"entrypoint", cfg.Entrypoint, []string{"/allot"}},
		{"cmd", cfg.Cmd, imageCmd},
		{"user", cfg.User, imageUser},
		{"exposed ports", cfg.ExposedPorts, map[string]struct{}{"8080/tcp": {}, "8081/tcp": {}}},
		{"volumes", cfg.Volumes, map[string]struct{}{"/data": {}}},
		{"working dir", cfg.WorkingDir, "/data"},
		{"version label", cfg.Labels["org.opencontainers.image.version"], version},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("image %s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	if hc := inspected[0].Healthcheck; hc == nil || !slices.Equal(hc.Test, []string{"CMD", "/allot", "healthcheck"}) {
		t.Errorf("image healthcheck: got %+v, want CMD /allot healthcheck", hc)
	}
	// The healthcheck must survive in the archive docker loads, not only in
	// podman's own view (the OCI format has no place for it).
	archive := filepath.Join(work, "image.tar")
	run(podman[0], append(podman[1:], "image", "save", "--format", "docker-archive", "-o", archive, tag)...)
	if hc := savedHealthcheck(t, archive); !slices.Equal(hc, []string{"CMD", "/allot", "healthcheck"}) {
		t.Errorf("healthcheck in the saved docker archive: got %v", hc)
	}

	rootfs := filepath.Join(work, "rootfs")
	exported := filepath.Join(work, "rootfs.tar")
	run(podman[0], append(podman[1:], "create", "--name", "allot-image-test", tag)...)
	run(podman[0], append(podman[1:], "export", "-o", exported, "allot-image-test")...)
	run(podman[0], append(podman[1:], "rm", "allot-image-test")...)
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	run(tarPath, "-x", "-f", exported, "-C", rootfs)

	// Nothing but the binary and the data directory, which belongs to the
	// image's user; the binary is static (no ELF interpreter: CGO_ENABLED=0).
	if got := dirEntries(t, rootfs); !slices.Equal(got, []string{"allot", "data"}) {
		t.Errorf("root file system holds %v, want [allot data]", got)
	}
	if fi, err := os.Stat(filepath.Join(rootfs, "data")); err != nil {
		t.Fatal(err)
	} else if st := fi.Sys().(*syscall.Stat_t); os.Geteuid() == 0 && (st.Uid != 65532 || st.Gid != 65532) {
		t.Errorf("/data belongs to %d:%d, want %s", st.Uid, st.Gid, imageUser)
	}
	bin, err := elf.Open(filepath.Join(rootfs, "allot"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range bin.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("/allot is dynamically linked")
		}
	}
	bin.Close()

	c := containerLike{rootfs: rootfs, env: cfg.Env, chroot: os.Geteuid() == 0}
	if out, err := c.command("/allot", "version").CombinedOutput(); err != nil || !strings.Contains(string(out), "allot "+version+" ") {
		t.Fatalf("/allot version: %v %q, want version %s", err, out, version)
	}

	// The image's entrypoint and command, with the listeners moved to free
	// loopback ports (later flags win), as the container would run them.
	args := append(slices.Clone(cfg.Cmd), "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	srv := c.command(cfg.Entrypoint[0], append(cfg.Entrypoint[1:], args...)...)
	var stderr syncBuffer
	srv.Stderr = &stderr
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	text := make(chan string, 1)
	go func() {
		// Read until the demo's secret key line, then keep draining.
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if !sent && strings.Contains(sc.Text(), "secret key:") {
				text <- b.String()
				sent = true
			}
		}
		if !sent {
			text <- b.String()
		}
		exited <- srv.Wait()
	}()
	t.Cleanup(func() { srv.Process.Kill() }) // an error only says it has exited
	var out string
	select {
	case out = <-text:
	case <-time.After(2 * time.Minute): // a hang guard, not a timing assertion
		t.Fatalf("the image's command printed no demo credentials\n%s", stderr.String())
	}
	m := regexp.MustCompile(`(?m)^listening on (\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no listening line:\n%s\n%s", out, stderr.String())
	}
	addr := m[1]
	if got := readyz(t, addr); got != 200 {
		t.Fatalf("/readyz: %d", got)
	}
	// The default command runs test mode: its clock answers.
	if resp, err := http.Get("http://" + addr + "/_allot/clock"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != 200 {
		t.Fatalf("GET /_allot/clock from the image's default command: %d", resp.StatusCode)
	}
	ak, sk := printedCredential(t, out)
	if status, count := signedDemoList(t, addr, ak, sk); status != 200 || count != len(demoBatch(time.Now()).Resources) {
		t.Fatalf("signed demo list with the printed credential: %d, %d resources", status, count)
	}
	health := func() error {
		return c.command("/allot", "healthcheck", "--url", "http://"+addr+"/readyz").Run()
	}
	if err := health(); err != nil {
		t.Fatalf("/allot healthcheck against the running server: %v", err)
	}
	if c.chroot {
		// No /tmp in the image: the ephemeral store is in the working directory.
		if got := dirEntries(t, filepath.Join(rootfs, "data")); len(got) != 1 || !strings.HasPrefix(got[0], "allot-ephemeral-") {
			t.Errorf("/data holds %v while serving, want one allot-ephemeral-* directory", got)
		}
	}

	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, stderr.String())
	}
	if got := dirEntries(t, filepath.Join(rootfs, "data")); len(got) != 0 {
		t.Errorf("left behind in /data after exit: %v", got)
	}
	var exit *exec.ExitError
	if err := health(); !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("/allot healthcheck with the server stopped: %v, want exit status 1", err)
	}
}

// containerLike runs programs from an exported image root file system as
// the image's user, in its working directory, with its environment only.
// As root it chroots there too; otherwise it runs the files in place.
type containerLike struct {
	rootfs string
	env    []string
	chroot bool
}

func (c containerLike) command(name string, args ...string) *exec.Cmd {
	if !c.chroot {
		cmd := exec.Command(filepath.Join(c.rootfs, name), args...)
		cmd.Dir = filepath.Join(c.rootfs, "data")
		cmd.Env = c.env
		return cmd
	}
	cmd := exec.Command(name, args...)
	// The path is resolved inside the chroot: Go chroots, then changes to
	// Dir, then executes.
	cmd.Dir = "/data"
	cmd.Env = c.env
	// Credential also clears the supplementary groups, so none of root's remain.
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: c.rootfs, Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
	return cmd
}

// savedHealthcheck reads the healthcheck from the image configuration in a
// docker-archive tarball (manifest.json names the config file).
func savedHealthcheck(t *testing.T, archive string) []string {
	t.Helper()
	files := map[string][]byte{}
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(h.Name, ".json") {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = b
		}
	}
	var manifest []struct{ Config string }
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json: %v", err)
	}
	var config struct {
		Config struct{ Healthcheck struct{ Test []string } } `json:"config"`
	}
	if err := json.Unmarshal(files[manifest[0].Config], &config); err != nil {
		t.Fatalf("image config %s: %v", manifest[0].Config, err)
	}
	return config.Config.Healthcheck.Test
}
