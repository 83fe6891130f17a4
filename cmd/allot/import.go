package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/progress"
)

// maxImportLine bounds one JSON line.
const maxImportLine = 1 << 20

func (m *Main) importFile(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("import", &c)
	if err := m.parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("import: give exactly one FILE ('-' for standard input)")}
	}
	in := m.Stdin
	var size int64
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		if info, err := f.Stat(); err == nil {
			size = info.Size()
		}
		in = f
	}
	var bar *progress.Bar
	if f, ok := m.Stderr.(*os.File); ok && size > 0 {
		bar = progress.New(progress.Terminal(f), "reading", size)
		in = &countingReader{r: in, bar: bar}
	}
	batch, err := readImport(in)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Import(ctx, batch); err != nil {
		return fmt.Errorf("nothing imported: %w", err)
	}
	fmt.Fprintf(m.Stdout, "imported %d projects, %d resources, %d assignments\n",
		len(batch.Projects), len(batch.Resources), len(batch.Assignments))
	return nil
}

// countingReader moves a progress bar by the bytes read through it.
type countingReader struct {
	r   io.Reader
	n   int64
	bar *progress.Bar
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.bar.Set(c.n)
	return n, err
}

// importLine holds every field any kind of line may carry; kind decides
// which are read. Unknown fields are refused so a typo is not silently lost.
type importLine struct {
	Kind string `json:"kind"`

	// project
	ProjectID   string `json:"project_id"`
	Name        string `json:"name"`
	RegionID    string `json:"region_id"`
	SPProjectID string `json:"sp_project_id"`

	// resource (ResourceItemInfo names)
	ResourceID      string                `json:"resource_id"`
	OrderID         string                `json:"order_id"`
	BoundAsset      *allot.BoundAsset     `json:"bound_asset"`
	ExpireTime      json.RawMessage       `json:"resource_expire_time"`
	ResourceType    string                `json:"resource_type"`
	BusinessType    allot.BusinessType    `json:"business_type"`
	SubResourceType allot.SubResourceType `json:"sub_resource_type"`
	IsSubResource   bool                  `json:"is_sub_resource"`
	ChargingMode    allot.ChargingMode    `json:"charging_mode"`
	ResourceSource  allot.ResourceSource  `json:"resource_source"`
	Amount          json.Number           `json:"amount"`
	Usage           json.Number           `json:"usage"`
	Status          allot.ResourceStatus  `json:"status"`
	Unit            allot.Unit            `json:"unit"`

	// assignment (AllocateSpResourceInfo names)
	CustomerProjectID string      `json:"customer_project_id"`
	RecordID          string      `json:"assignment_record_id"`
	ResourceSpecCode  string      `json:"resource_spec_code"`
	ResourceNum       json.Number `json:"resource_num"`
	ResourceUsedNum   json.Number `json:"resource_used_num"`
	AllocateTime      *int64      `json:"resource_allocate_time"`
}

// readImport parses and validates every line, so that a bad line is reported
// with its number before anything is written.
func readImport(in io.Reader) (allot.ImportBatch, error) {
	var b allot.ImportBatch
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxImportLine)
	now := time.Now().UTC().Truncate(time.Second)
	seen := make(map[string]int) // entity key -> line, for duplicates within the file
	n := 0
	for sc.Scan() {
		n++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		key, err := addLine(&b, raw, now)
		if err != nil {
			return b, fmt.Errorf("line %d: %s", n, errorText(err))
		}
		if first, dup := seen[key]; dup {
			return b, fmt.Errorf("line %d: %s is already on line %d", n, key, first)
		}
		seen[key] = n
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return b, fmt.Errorf("line %d: longer than %d bytes", n+1, maxImportLine)
		}
		return b, err
	}
	return b, nil
}

func addLine(b *allot.ImportBatch, raw []byte, now time.Time) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var l importLine
	if err := dec.Decode(&l); err != nil {
		return "", fmt.Errorf("not a valid import object: %v", err)
	}
	if dec.More() {
		return "", errors.New("more than one JSON value on the line")
	}
	switch l.Kind {
	case "project":
		p := allot.Project{ID: l.ProjectID, Name: l.Name, RegionID: l.RegionID, SPProjectID: l.SPProjectID, CreatedAt: now}
		if err := p.Validate(); err != nil {
			return "", err
		}
		b.Projects = append(b.Projects, p)
		return "project " + p.ID, nil
	case "resource":
		r := allot.Resource{
			ProjectID: l.ProjectID, ResourceID: l.ResourceID, OrderID: l.OrderID, BoundAsset: l.BoundAsset,
			ResourceType: l.ResourceType, BusinessType: l.BusinessType, SubResourceType: l.SubResourceType,
			IsSubResource: l.IsSubResource, ChargingMode: l.ChargingMode, Source: l.ResourceSource,
			Status: l.Status, Unit: l.Unit,
		}
		var err error
		if r.Amount, err = quantity("amount", l.Amount, true); err != nil {
			return "", err
		}
		if r.Usage, err = quantity("usage", l.Usage, false); err != nil {
			return "", err
		}
		if len(l.ExpireTime) > 0 && string(l.ExpireTime) != "null" {
			var s string
			if err := json.Unmarshal(l.ExpireTime, &s); err != nil {
				return "", allot.Invalid("resource_expire_time", "must be an RFC 3339 string")
			}
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return "", allot.Invalid("resource_expire_time", "%q is not an RFC 3339 time", s)
			}
			r.ExpireTime = t.UTC().Truncate(time.Second)
		}
		if err := r.Validate(); err != nil {
			return "", err
		}
		b.Resources = append(b.Resources, r)
		return "resource " + r.ProjectID + "/" + r.ResourceID, nil
	case "assignment":
		a := allot.Assignment{
			RecordID: l.RecordID, SPProjectID: l.SPProjectID, CustomerProjectID: l.CustomerProjectID,
			ResourceSpecCode: l.ResourceSpecCode, ChargingMode: l.ChargingMode,
		}
		var err error
		if a.ResourceNum, err = quantity("resource_num", l.ResourceNum, true); err != nil {
			return "", err
		}
		if a.ResourceUsedNum, err = quantity("resource_used_num", l.ResourceUsedNum, false); err != nil {
			return "", err
		}
		if l.AllocateTime == nil {
			return "", allot.Invalid("resource_allocate_time", "is required (Unix seconds)")
		}
		a.AllocateTime = time.Unix(*l.AllocateTime, 0).UTC()
		var expire int64
		if err := json.Unmarshal(l.ExpireTime, &expire); err != nil {
			return "", allot.Invalid("resource_expire_time", "is required for an assignment, as Unix seconds")
		}
		a.ExpireTime = time.Unix(expire, 0).UTC()
		if err := a.Validate(); err != nil {
			return "", err
		}
		b.Assignments = append(b.Assignments, a)
		return "assignment " + a.RecordID, nil
	case "":
		return "", allot.Invalid("kind", "is required: project, resource or assignment")
	}
	return "", allot.Invalid("kind", "%q is not one of project, resource, assignment", l.Kind)
}

// quantity parses a JSON number exactly, naming param in any error.
func quantity(param string, n json.Number, required bool) (allot.Quantity, error) {
	if n == "" {
		if required {
			return 0, allot.Invalid(param, "is required")
		}
		return 0, nil
	}
	q, err := allot.ParseQuantity(string(n))
	if err != nil {
		return 0, allot.Invalid(param, "%v", err)
	}
	return q, nil
}
