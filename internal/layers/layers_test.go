// Package layers holds the tests that keep allot's import direction as
// docs/design.md draws it: dependencies point inward, towards the domain.
// The domain, the signer and the sealer import nothing of ours; the stores
// import only the domain and the tenant pack codec, which imports only the
// domain; the read model imports only the domain; the HTTP layer does not know
// which store it runs on; nothing imports a command. The compiler cannot
// see these rules, so a test reads the import lists from `go list` and
// names every import that breaks one.
package layers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/allot-dev/allot"

// pkg is what the tests need of one entry of `go list -json`.
type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string // of the package's own _test.go files
	XTestImports []string // of its external test package (package x_test)
}

// rel returns p's path inside the module: "" for the root, "sqlite", ...
func rel(p string) string {
	if p == module {
		return ""
	}
	return strings.TrimPrefix(p, module+"/")
}

// ours reports whether an import path is a package of this module.
func ours(p string) bool { return p == module || strings.HasPrefix(p, module+"/") }

// under reports whether p (relative) is dir or a package below it.
func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// goList runs the go command in the module's root directory.
func goList(t *testing.T, args ...string) []byte {
	t.Helper()
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// packages returns every package of the module with its import lists.
func packages(t *testing.T) []pkg {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(goList(t, "-json=ImportPath,Imports,TestImports,XTestImports", "./...")))
	var ps []pkg
	for {
		var p pkg
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decoding go list: %v", err)
		}
		ps = append(ps, p)
	}
	// A sanity check, so that a go list that lists nothing cannot pass.
	for _, want := range []string{"", "sign", "secret", "sqlite", "postgres", "view", "api", "cmd/allot"} {
		if !slices.ContainsFunc(ps, func(p pkg) bool { return rel(p.ImportPath) == want }) {
			t.Fatalf("go list ./... does not list package %q", module+"/"+want)
		}
	}
	return ps
}

// rule is one constraint on the imports of the packages it applies to.
type rule struct {
	name    string
	applies func(p string) bool
	// tests: whether the rule also binds the package's test files.
	tests bool
	// allowed reports whether package p may import the module's package imp
	// (both relative); test tells whether the import is in a test file.
	allowed func(p, imp string, test bool) bool
}

var rules = []rule{
	{
		name:    "the domain, sign and secret import nothing of this module",
		applies: func(p string) bool { return p == "" || p == "sign" || p == "secret" },
		// Their in-package tests are part of them; an external test
		// package (x_test) may use the package it tests.
		tests:   true,
		allowed: func(p, imp string, test bool) bool { return test && imp == p },
	},
	{
		name:    "nothing imports a command",
		applies: func(string) bool { return true },
		tests:   true,
		// A command's own external tests run it.
		allowed: func(p, imp string, test bool) bool { return !under(imp, "cmd") || test && imp == p },
	},
	{
		name:    "a store imports only the domain and its own packages",
		applies: func(p string) bool { return under(p, "sqlite") || under(p, "postgres") },
		tests:   true,
		allowed: func(p, imp string, test bool) bool {
			store := strings.SplitN(p, "/", 2)[0]
			return imp == "" || under(imp, store) || imp == "internal/tenantpack" || test && imp == "storetest"
		},
	},
	{
		// The tenant pack codec both stores use sits beside them: it
		// knows the domain's types only.
		name:    "the tenant pack codec imports only the domain",
		applies: func(p string) bool { return p == "internal/tenantpack" },
		tests:   true,
		allowed: func(p, imp string, test bool) bool { return imp == "" },
	},
	{
		name:    "the read model imports only the domain",
		applies: func(p string) bool { return under(p, "view") },
		tests:   true,
		// Its tests read real stores: there are no mocks.
		allowed: func(p, imp string, test bool) bool {
			return imp == "" || under(imp, "view") ||
				test && (imp == "storetest" || under(imp, "sqlite") || under(imp, "postgres"))
		},
	},
	{
		name:    "the HTTP layer does not import a store",
		applies: func(p string) bool { return under(p, "api") },
		// Its tests need some real store to serve from.
		tests:   false,
		allowed: func(p, imp string, test bool) bool { return !under(imp, "sqlite") && !under(imp, "postgres") },
	},
	{
		name:    "the console and the portal are a transport over the domain: they import only the domain and the API's decoders",
		applies: func(p string) bool { return under(p, "console") },
		tests:   true,
		// Its tests run the real wiring over real stores.
		allowed: func(p, imp string, test bool) bool {
			return imp == "" || imp == "api" || under(imp, "console") ||
				test && (imp == "internal/app" || imp == "secret" || imp == "storetest" || under(imp, "sqlite") || under(imp, "postgres"))
		},
	},
}

// TestImportDirection checks every import of the module's packages against
// the rules and names each that breaks one.
func TestImportDirection(t *testing.T) {
	for _, p := range packages(t) {
		from := rel(p.ImportPath)
		for _, r := range rules {
			if !r.applies(from) {
				continue
			}
			lists := []struct {
				file    string
				imports []string
				test    bool
			}{{"", p.Imports, false}, {" (test)", p.TestImports, true}, {" (external test)", p.XTestImports, true}}
			for _, l := range lists {
				if l.test && !r.tests {
					continue
				}
				for _, imp := range l.imports {
					if ours(imp) && !r.allowed(from, rel(imp), l.test) {
						t.Errorf("%s%s imports %s: %s", p.ImportPath, l.file, imp, r.name)
					}
				}
			}
		}
	}
}

// TestRulesCatchViolations runs the rules on imports that break them, so
// that a rule that can never fail is caught.
func TestRulesCatchViolations(t *testing.T) {
	for _, c := range []struct {
		from, imp string
		test      bool
	}{
		{"", "sqlite", false},
		{"", "storetest", true},
		{"sign", "", false},
		{"secret", "sign", false},
		{"api", "cmd/allot", false},
		{"internal/apitest", "cmd/allot", true},
		{"sqlite", "view", false},
		{"sqlite", "postgres", true},
		{"postgres/pgtest", "sqlite", false},
		{"view", "api", false},
		{"view", "sqlite", false},
		{"api", "sqlite", false},
		{"api", "postgres/pgtest", false},
		{"console", "sqlite", false},
		{"console", "internal/app", false},
		{"console", "view", false},
	} {
		broken := false
		for _, r := range rules {
			if r.applies(c.from) && (r.tests || !c.test) && !r.allowed(c.from, c.imp, c.test) {
				broken = true
			}
		}
		if !broken {
			t.Errorf("%q importing %q (test %v) breaks no rule", c.from, c.imp, c.test)
		}
	}
}

// TestBinaryLinksNoTestPackages: the production binary must not carry the
// test support of net/http. The management commands once ran the HTTP
// handlers through httptest inside allot; they call the domain instead.
func TestBinaryLinksNoTestPackages(t *testing.T) {
	for _, dep := range strings.Fields(string(goList(t, "-deps", "./cmd/allot"))) {
		if dep == "net/http/httptest" || ours(dep) && (under(rel(dep), "storetest") || strings.HasSuffix(dep, "test")) {
			t.Errorf("go list -deps ./cmd/allot lists %s: the allot binary links a test package", dep)
		}
	}
}
