package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func (m *Main) version(args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("version takes no arguments")}
	}
	revision := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				revision = " " + s.Value
			}
		}
	}
	_, err := fmt.Fprintf(m.Stdout, "allot %s%s %s\n", version, revision, runtime.Version())
	return err
}

// configPrint shows serve's effective settings after the config file, the
// environment and the flags given, with secrets masked.
func (m *Main) configPrint(_ context.Context, args []string) error {
	var c common
	fs, _ := m.serveFlags(&c)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	out := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { out[f.Name] = f.Value.String() })
	out["db"] = redactDSN(c.db)
	delete(out, "demo")
	out["master_key"] = "from --master-key-file"
	if m.Getenv("ALLOT_MASTER_KEY") != "" {
		out["master_key"] = "from ALLOT_MASTER_KEY (set, not shown)"
	}
	if m.Getenv("ALLOT_MASTER_KEY_OLD") != "" {
		out["master_key_old"] = "from ALLOT_MASTER_KEY_OLD (set, not shown)"
	}
	if ak := m.Getenv("ALLOT_DEMO_AK"); ak != "" {
		out["demo_access_key"] = ak
	}
	if m.Getenv("ALLOT_DEMO_SK") != "" {
		out["demo_secret_key"] = "from ALLOT_DEMO_SK (set, not shown)"
	}
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
