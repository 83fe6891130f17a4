package app

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres"
	"github.com/allot-dev/allot/sqlite"
)

// IsPostgres reports whether dsn names a PostgreSQL database rather than a
// SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// ErrUnsupportedDSN is returned for a --db value with an unknown scheme.
type ErrUnsupportedDSN struct{ DSN string }

func (e ErrUnsupportedDSN) Error() string {
	return fmt.Sprintf("--db %q: unsupported scheme; use a SQLite path, sqlite:PATH or postgres://", RedactDSN(e.DSN))
}

// OpenStore opens the store a --db value names (a SQLite path, sqlite:PATH,
// or a postgres:// URL) and brings its schema up to date. The store stamps
// and checks times with clock (the wall clock if nil): give it the clock
// the App runs on.
func OpenStore(ctx context.Context, dsn string, clock allot.Clock) (allot.Store, error) {
	if clock == nil {
		clock = allot.WallClock{}
	}
	path := dsn
	switch {
	case IsPostgres(dsn):
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, err
		}
		s.Now = clock.Now
		return s, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		path = strings.TrimPrefix(dsn, "sqlite:")
	case strings.Contains(dsn, "://"):
		return nil, ErrUnsupportedDSN{dsn}
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	s.Now = clock.Now
	return s, nil
}

// secretParam matches a password given as a key=value setting, in a URL's
// query (?password=...) or in libpq's keyword form (password=... ).
var secretParam = regexp.MustCompile(`(?i)\b(password|sslpassword)=('(?:[^'\\]|\\.)*'|[^&\s]*)`)

// RedactDSN hides every password in a DSN: the URL's user info and any
// password parameter, so a DSN can be printed and logged.
func RedactDSN(dsn string) string {
	out := dsn
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			out = u.String()
		}
	}
	return secretParam.ReplaceAllString(out, "${1}=xxxxx")
}
