package console

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/allot-dev/allot"
)

// Lists page on the server: a page holds this many rows.
const (
	pageSize   = 20
	ledgerSize = 50
)

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"frozen": func(r *allot.Resource) bool { return r.Status == allot.StatusFrozen },
}

// pager is one page of a list paged on the server.
type pager struct {
	Param      string // the query parameter that carries the page number
	Page, Last int    // 1-based
	Count      int
	Prev, Next string // links, "" at either end
}

// checkPages refuses a page number that is not a whole number from 1, naming
// its parameter. pageOf reads the numbers after it.
func checkPages(r *http.Request, params ...string) error {
	for _, p := range params {
		v := r.URL.Query().Get(p)
		if v == "" {
			continue
		}
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 1_000_000 {
			return allot.Invalid(p, "must be a page number from 1 to 1000000")
		}
	}
	return nil
}

// pageOf reads the 1-based page number of list param (1 if absent).
func pageOf(r *http.Request, param string, size int) allot.Page {
	n, err := strconv.Atoi(r.URL.Query().Get(param))
	if err != nil || n < 1 || n > 1_000_000 {
		n = 1
	}
	return allot.Page{Limit: size, Offset: (n - 1) * size}
}

func newPager(r *http.Request, param string, p allot.Page, count int) pager {
	pg := pager{Param: param, Page: p.Offset/p.Limit + 1, Last: max(1, (count+p.Limit-1)/p.Limit), Count: count}
	link := func(n int) string {
		q := r.URL.Query()
		q.Set(param, strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
	if pg.Page > 1 {
		pg.Prev = link(pg.Page - 1)
	}
	if pg.Page < pg.Last {
		pg.Next = link(pg.Page + 1)
	}
	return pg
}

// bar is a package's usage bar: used, held and free as shares of the amount.
type bar struct {
	Amount, Used, Held, Free allot.Quantity
	// The widths of the three segments, in percent of the bar.
	UsedPct, HeldPct, FreePct string
	// UsedX and HeldX are where the used and held segments start.
	HeldX, FreeX string
	Low          bool // less than a tenth is free
}

func newBar(amount, used, held allot.Quantity) bar {
	b := bar{Amount: amount, Used: used, Held: held, Free: max(amount-used-held, 0)}
	pct := func(q allot.Quantity) float64 {
		if amount <= 0 {
			return 0
		}
		return float64(q) / float64(amount) * 100
	}
	u, h := pct(used), pct(held)
	f := max(100-u-h, 0)
	if amount <= 0 {
		f = 0
	}
	b.UsedPct, b.HeldPct, b.FreePct = fmt.Sprintf("%.2f%%", u), fmt.Sprintf("%.2f%%", h), fmt.Sprintf("%.2f%%", f)
	b.HeldX, b.FreeX = fmt.Sprintf("%.2f%%", u), fmt.Sprintf("%.2f%%", u+h)
	b.Low = amount > 0 && b.Free*10 < amount
	return b
}

// pkg is a package row.
type pkg struct {
	*allot.Resource
	Bar bar
}

func packages(rs []*allot.Resource) []pkg {
	out := make([]pkg, len(rs))
	for i, r := range rs {
		out[i] = pkg{Resource: r, Bar: newBar(r.Amount, r.Usage, r.Held)}
	}
	return out
}

// mark is one package on an expiry timeline.
type mark struct {
	*allot.Resource
	Days int    // whole days left
	X    string // position on the axis, in percent
}

// timelineDays is the span of the expiry timeline.
const timelineDays = 90

// timeline places the packages that expire within timelineDays on an axis
// from now, soonest first.
func timeline(rs []*allot.Resource, now time.Time) []mark {
	var ms []mark
	for _, r := range rs {
		if r.ExpireTime.IsZero() {
			continue
		}
		left := r.ExpireTime.Sub(now)
		if left < 0 || left > timelineDays*24*time.Hour {
			continue
		}
		ms = append(ms, mark{Resource: r, Days: int(left.Hours() / 24), X: fmt.Sprintf("%.2f%%", left.Hours()/24/timelineDays*100)})
	}
	slices.SortStableFunc(ms, func(a, b mark) int { return a.ExpireTime.Compare(b.ExpireTime) })
	return ms
}

// allSources selects every package a tenant holds.
func allSources() *allot.ResourceFilter {
	return &allot.ResourceFilter{Sources: []allot.ResourceSource{allot.SourcePurchased, allot.SourceSPAllocated, allot.SourceAdminAllocated}}
}

// expiringFilter selects the packages that expire from now to days ahead.
// The window starts at the hour, not the second: the read model keeps a
// match list per distinct filter, and one that changed every second would
// build a new list for every page view.
func expiringFilter(now time.Time, days int) *allot.ResourceFilter {
	f := allSources()
	start := now.UTC().Truncate(time.Hour)
	end := start.Add(time.Duration(days) * 24 * time.Hour)
	f.ExpireStart, f.ExpireEnd = &start, &end
	return f
}

func pathEscape(s string) string { return url.PathEscape(s) }

// soonest returns up to pageSize of a project's packages that expire within
// timelineDays, soonest first, and the count of all of them. The read model
// lists matches in insertion order, so the page is filled from a few
// widening windows (a week, a month, timelineDays), each read a page at
// most: it holds the soonest packages to within those windows, without
// reading every match of a big tenant.
func soonest(ctx context.Context, reader allot.TenantReader, projectID string, now time.Time) ([]mark, int, error) {
	var (
		picked []*allot.Resource
		seen   = map[string]bool{}
		count  int
	)
	for _, days := range []int{7, 30, timelineDays} {
		page, err := reader.ListResources(ctx, projectID, expiringFilter(now, days), allot.Page{Limit: pageSize})
		if err != nil {
			return nil, 0, err
		}
		for _, r := range page.Resources {
			if len(picked) < pageSize && !seen[r.ResourceID] {
				picked, seen[r.ResourceID] = append(picked, r), true
			}
		}
		count = page.Count // the last window's: all of them
	}
	return timeline(picked, now), count, nil
}
