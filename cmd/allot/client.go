package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/allot-dev/allot/api"
	"github.com/allot-dev/allot/sign"
)

// The client commands call a running allot (or MetaStudio) over HTTP,
// signing with allot's own signer, which the tests prove agrees with the
// official SDK's.

// profile is the client's connection settings, from a JSON profile file and
// the environment (ALLOT_ENDPOINT, ALLOT_PROJECT, ALLOT_AK, ALLOT_SK), the
// environment winning, then flags.
type profile struct {
	Endpoint  string `json:"endpoint"`
	ProjectID string `json:"project_id"`
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

type client struct {
	profile
	http *http.Client
}

func (m *Main) clientFlags(name string) (*clientSetup, *flagSet) {
	fs := newFlagSet(m, name)
	cs := &clientSetup{}
	fs.StringVar(&cs.profileFile, "profile", m.Getenv("ALLOT_PROFILE"), `JSON file {"endpoint","project_id","access_key","secret_key"} (env ALLOT_PROFILE)`)
	fs.StringVar(&cs.endpoint, "endpoint", "", "base URL of the API, e.g. http://127.0.0.1:8080 (env ALLOT_ENDPOINT)")
	fs.StringVar(&cs.project, "project", "", "project id (env ALLOT_PROJECT)")
	fs.BoolVar(&cs.json, "json", false, "print JSON instead of a table")
	fs.BoolVar(&cs.all, "all", false, "follow every page")
	return cs, fs
}

type clientSetup struct {
	profileFile, endpoint, project string
	json, all                      bool
}

func (m *Main) newClient(cs *clientSetup) (*client, error) {
	var p profile
	if cs.profileFile != "" {
		b, err := os.ReadFile(cs.profileFile)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("profile %s: %v", cs.profileFile, err)
		}
	}
	for _, o := range []struct {
		dst  *string
		env  string
		flag string
	}{{&p.Endpoint, "ALLOT_ENDPOINT", cs.endpoint}, {&p.ProjectID, "ALLOT_PROJECT", cs.project}, {&p.AccessKey, "ALLOT_AK", ""}, {&p.SecretKey, "ALLOT_SK", ""}} {
		if v := m.Getenv(o.env); v != "" {
			*o.dst = v
		}
		if o.flag != "" {
			*o.dst = o.flag
		}
	}
	switch {
	case p.Endpoint == "":
		return nil, usageError{errors.New("no endpoint: give --endpoint, ALLOT_ENDPOINT or a profile")}
	case p.ProjectID == "":
		return nil, usageError{errors.New("no project: give --project, ALLOT_PROJECT or a profile")}
	case p.AccessKey == "" || p.SecretKey == "":
		return nil, usageError{errors.New("no credentials: set ALLOT_AK and ALLOT_SK or use a profile")}
	}
	p.Endpoint = strings.TrimRight(p.Endpoint, "/")
	return &client{profile: p, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// get sends a signed GET and decodes a 200 answer into out.
func (c *client) get(ctx context.Context, path string, q url.Values, out any) error {
	u := c.Endpoint + path
	if len(q) > 0 {
		u += "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Project-Id", c.ProjectID)
	if err := sign.Sign(req, nil, c.AccessKey, []byte(c.SecretKey), time.Now()); err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code string `json:"error_code"`
			Msg  string `json:"error_msg"`
		}
		json.Unmarshal(body, &e)
		return fmt.Errorf("%s %s (request %s)", resp.Status, strings.TrimSpace(e.Code+" "+e.Msg), resp.Header.Get("X-Request-Id"))
	}
	return json.Unmarshal(body, out)
}

// resourcesList is `allot resources list`.
func (m *Main) resourcesList(ctx context.Context, args []string) error {
	cs, fs := m.clientFlags("resources list")
	q := url.Values{}
	filters := map[string]string{
		"source": "resource_source", "business": "business", "resource": "resource", "resource-id": "resource_id",
		"order-id": "order_id", "charging-mode": "charging_mode", "expire-start": "resource_expire_start_time",
		"expire-end": "resource_expire_end_time", "sub-resource": "sub_resource", "status": "status", "limit": "limit", "offset": "offset",
	}
	for flagName, param := range filters {
		fs.Func(flagName, "filter "+param, func(v string) error { q.Set(param, v); return nil })
	}
	if err := fs.parse(args); err != nil {
		return err
	}
	if q.Get("resource_source") == "" {
		q.Set("resource_source", "PURCHASED,SP_ALLOCATED,ADMIN_ALLOCATED")
	}
	c, err := m.newClient(cs)
	if err != nil {
		return err
	}
	var all []api.ResourceItem
	count := 0
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit == 0 {
		limit = 10
		if cs.all {
			limit = 100
			q.Set("limit", "100")
		}
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	for {
		var page api.ListResourcesResponse
		q.Set("offset", strconv.Itoa(offset))
		if err := c.get(ctx, "/v1/"+c.ProjectID+"/tenants/resources", q, &page); err != nil {
			return err
		}
		all, count = append(all, page.Resources...), page.Count
		offset += len(page.Resources)
		if !cs.all || len(page.Resources) < limit || offset >= count {
			break
		}
	}
	if cs.json {
		return writeJSON(m.Stdout, map[string]any{"count": count, "resources": all})
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE ID\tTYPE\tBUSINESS\tSOURCE\tCHARGING\tAMOUNT\tUSAGE\tUNIT\tSTATUS\tEXPIRES")
	for _, r := range all {
		status := "normal"
		if r.Status == 1 {
			status = "frozen"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ResourceID, r.ResourceType, r.BusinessType, r.ResourceSource,
			r.ChargingMode, r.Amount, r.Usage, r.Unit, status, orDash(r.ResourceExpireTime))
	}
	fmt.Fprintf(tw, "(%d of %d)\n", len(all), count)
	return tw.Flush()
}

// assignmentsShow is `allot assignments show`.
func (m *Main) assignmentsShow(ctx context.Context, args []string) error {
	cs, fs := m.clientFlags("assignments show")
	limit := fs.Int("limit", 10, "records per page (1..100)")
	offset := fs.Int("offset", 0, "first record")
	if err := fs.parse(args); err != nil {
		return err
	}
	c, err := m.newClient(cs)
	if err != nil {
		return err
	}
	var report api.AssignRecordResponse
	if cs.all {
		*limit = 100
	}
	for off := *offset; ; {
		page := report
		q := url.Values{"limit": {strconv.Itoa(*limit)}, "offset": {strconv.Itoa(off)}}
		if err := c.get(ctx, "/v1/"+c.ProjectID+"/tenants/resource/assignrecourd", q, &page); err != nil {
			return err
		}
		records := append(report.Resources, page.Resources...)
		report = page
		report.Resources = records
		off += len(page.Resources)
		if !cs.all || len(page.Resources) < *limit || off >= page.ResourceCount {
			break
		}
	}
	if cs.json {
		return writeJSON(m.Stdout, report)
	}
	fmt.Fprintf(m.Stdout, "%s (%s), region %s: %d allocation records\n\n", report.CustomerName, report.CustomerProjectID, report.RegionID, report.ResourceCount)
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SPEC\tALLOCATED\tUSED\tREMAINING")
	for _, o := range report.ResourcesOverview {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", o.ResourceSpecCode, o.ResourceNum, o.ResourceUsedNum, o.ResourceRemindQuota)
	}
	fmt.Fprintln(tw, "\nRECORD\tSPEC\tCHARGING\tNUM\tUSED\tALLOCATED AT\tEXPIRES")
	for _, r := range report.Resources {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.AssignmentRecordID, r.ResourceSpecCode, r.ChargingMode, r.ResourceNum, r.ResourceUsedNum,
			time.Unix(r.ResourceAllocateTime, 0).UTC().Format(time.RFC3339), time.Unix(r.ResourceExpireTime, 0).UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// flagSet is a command's flags without the config-file and environment
// layers: the client commands read their few settings from the environment
// themselves (newClient), and their filters must not come from ALLOT_*.
type flagSet struct{ *flag.FlagSet }

func newFlagSet(m *Main, name string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	return &flagSet{fs}
}

func (f *flagSet) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if f.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", f.Name(), f.Arg(0))}
	}
	return nil
}
