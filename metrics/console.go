package metrics

import (
	"context"
	"time"

	"github.com/allot-dev/allot"
)

// Every console and portal page looks its session up, and the overview
// lists projects: both are on the request path, so both are timed.

func (t *timedStore) FindConsoleSession(ctx context.Context, hash []byte) (allot.ConsoleSession, error) {
	defer t.m.observeStore("find_console_session", time.Now())
	return t.Store.FindConsoleSession(ctx, hash)
}

func (t *timedStore) ListProjects(ctx context.Context, q allot.ProjectQuery) ([]allot.Project, int, error) {
	defer t.m.observeStore("list_projects", time.Now())
	return t.Store.ListProjects(ctx, q)
}
