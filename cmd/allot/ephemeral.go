package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ephemeralDir makes the directory an --ephemeral server keeps its database
// (and master key file) in; the caller removes it at exit. It is made in
// $TMPDIR when set, else in /tmp, else in the working directory: a scratch
// container image has no /tmp, and its working directory is the one place
// the image makes writable for its user.
func (m *Main) ephemeralDir() (string, error) {
	base := m.Getenv("TMPDIR")
	if base == "" {
		base = "/tmp"
		if fi, err := os.Stat(base); err != nil || !fi.IsDir() {
			base = "."
		}
	}
	dir, err := os.MkdirTemp(base, "allot-ephemeral-")
	if err != nil {
		return "", fmt.Errorf("--ephemeral: making a temporary directory: %w (set TMPDIR to a writable directory)", err)
	}
	// Absolute, so the log says where it is whatever the working directory.
	return filepath.Abs(dir)
}

// refuseWithEphemeral returns a usage error if the setting name (a flag of
// fs) was given at all: on the command line, as ALLOT_* or in the config
// file. --ephemeral chooses these itself; honouring one would write outside
// the temporary directory, and ignoring it would surprise whoever set it.
func (m *Main) refuseWithEphemeral(fs *flag.FlagSet, c *common, name, why string) error {
	key := strings.ReplaceAll(name, "-", "_")
	env := "ALLOT_" + strings.ToUpper(key)
	from := ""
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			from = "--" + name
		}
	})
	if from == "" && m.Getenv(env) != "" {
		from = env
	}
	if from == "" && c.config != "" {
		file, err := readConfigFile(c.config)
		if err != nil {
			return err
		}
		if _, ok := file[key]; ok {
			from = fmt.Sprintf("%s in config file %s", key, c.config)
		}
	}
	if from == "" {
		return nil
	}
	return usageError{fmt.Errorf("--ephemeral cannot be combined with %s: %s; drop one of them", from, why)}
}
