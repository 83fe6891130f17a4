package allot

import (
	"context"
	"hash/maphash"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// StreamImporter is the store side of ImportStream.
type StreamImporter interface {
	// ImportStream writes every item of src in one transaction, all or
	// nothing, with Import's rules and messages that name the item's line.
	// The source is read more than once and never held whole: memory grows
	// with the number of projects and items (a few dozen bytes an item),
	// not with their size. A store implements Importer and calls
	// ImportStream over itself.
	ImportStream(ctx context.Context, src ImportSource) error
}

// ImportSource yields the items of an import in order and returns the
// first error yield returns, or its own (a line that does not decode).
// ImportStream calls it several times (a checking pass, the writing pass,
// again when the database asks for a retry): each call must yield the same
// items.
type ImportSource func(yield func(SourceItem) error) error

// SourceItem is one item of an ImportSource: exactly one of Project,
// Resource and Assignment, and its Line (a file's line, counting from 1)
// for messages. The pointers are read during yield only.
type SourceItem struct {
	Line       int64
	Project    *Project
	Resource   *Resource
	Assignment *Assignment
}

// importChunk is how many resources (or assignments) ImportStream hands a
// store at a time: large enough for bulk statements, small enough that the
// chunk's memory does not matter.
const importChunk = 4096

// ImportStream is Import over a source too large to hold: the same rules,
// the same rows and ledger entries, the same versions (one bump per
// project that gains rows) and seqs (in source order) as Import of the
// whole source as one batch. Messages name the line: "line 7: resource
// p/r: amount: ..." and "line 9: resource p/r is already on line 4".
//
// It reads src twice, plus once more to confirm a suspected repeat. The
// first pass, before any write, validates every item, refuses ids the
// source repeats (kept as 64-bit hashes with the line: a match is checked
// against the earlier line's item before it is reported), counts each
// project's new rows and keeps the projects. The second runs inside the
// store's one transaction: the projects (an SP before its customers), the
// version bumps in id order, then the resources with their OpImport
// entries and the assignments, importChunk at a time.
func ImportStream(ctx context.Context, s Importer, src ImportSource) error {
	c, err := checkSource(src)
	if err != nil {
		return err
	}
	projects, err := sortProjects(c.projects)
	if err != nil {
		return c.atProject(err)
	}
	touched := slices.Sorted(maps.Keys(c.counts))
	return s.BulkInsert(ctx, func(tx ImportTx) error {
		if len(projects) > 0 {
			if err := tx.InsertProjects(projects); err != nil {
				return err
			}
		}
		stamps := make(map[string]*ImportStamp, len(touched))
		// As in Import, a project's resources take the first of its new
		// seqs and its assignments the ones after, whatever the order of
		// the source.
		assignSeq := make(map[string]int64)
		for _, id := range touched {
			n := c.counts[id]
			st, err := tx.Reserve(id, n.rows, n.entries)
			if ErrorCodeOf(err) == ENOTFOUND {
				return Errorf(EINVALID, "line %d: %s: project %s does not exist", n.line, n.item, id)
			}
			if err != nil {
				return err
			}
			stamps[id] = &st
			assignSeq[id] = st.Seq + n.entries
		}
		at := tx.Now().UTC().Truncate(time.Second)
		rs := make([]Resource, 0, importChunk)
		es := make([]LedgerEntry, 0, importChunk)
		var as []Assignment
		flush := func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if len(rs) > 0 {
				if err := tx.InsertResources(rs); err != nil {
					return err
				}
				if err := tx.InsertLedger(es); err != nil {
					return err
				}
			}
			if len(as) > 0 {
				if err := tx.InsertAssignments(as); err != nil {
					return err
				}
			}
			rs, es, as = rs[:0], es[:0], as[:0]
			return nil
		}
		err := src(func(it SourceItem) error {
			switch {
			case it.Resource != nil:
				r := *it.Resource
				st := stamps[r.ProjectID]
				r.Version, r.Seq = st.Version, st.Seq
				st.Seq++
				rs = append(rs, r)
				es = append(es, LedgerEntry{ProjectID: r.ProjectID, Seq: st.LedgerSeq, ResourceID: r.ResourceID, At: at,
					Actor: "import", Op: OpImport, AmountDelta: r.Amount, UsageDelta: r.Usage})
				st.LedgerSeq++
			case it.Assignment != nil:
				a := *it.Assignment
				st := stamps[a.CustomerProjectID]
				if st.SPProjectID != a.SPProjectID {
					return Errorf(EINVALID, "line %d: assignment %s: customer_project_id: project %s is not a customer of %s",
						it.Line, a.RecordID, a.CustomerProjectID, a.SPProjectID)
				}
				a.Version, a.Seq = st.Version, assignSeq[a.CustomerProjectID]
				assignSeq[a.CustomerProjectID]++
				as = append(as, a)
			default:
				return nil
			}
			if len(rs) >= importChunk || len(as) >= importChunk {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		return flush()
	})
}

// sourceCheck is what the first pass learns.
type sourceCheck struct {
	projects     []Project
	projectLines map[string]int64
	counts       map[string]*sourceCount
}

// sourceCount is one project's new rows, and the first item that names it.
type sourceCount struct {
	rows, entries int64
	line          int64
	item          string // e.g. "resource p/r: project_id"
}

// atProject prefixes an error about a project (sortProjects names it
// first, "project ID: ...") with the project's line.
func (c *sourceCheck) atProject(err error) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	for id, line := range c.projectLines {
		if strings.HasPrefix(e.Message, "project "+id+":") {
			return &Error{Code: e.Code, Message: "line " + strconv.FormatInt(line, 10) + ": " + e.Message, Err: e.Err}
		}
	}
	return err
}

// checkSource is the first pass: every item valid, no id twice.
func checkSource(src ImportSource) (*sourceCheck, error) {
	c := &sourceCheck{projectLines: make(map[string]int64), counts: make(map[string]*sourceCount)}
	seed := maphash.MakeSeed()
	seen := make(map[uint64]int64) // hash of an item's key -> its line
	type suspect struct {
		line, earlier int64
		key           string
	}
	var suspects []suspect
	count := func(project string, entries int64, line int64, item string) {
		n := c.counts[project]
		if n == nil {
			n = &sourceCount{line: line, item: item}
			c.counts[project] = n
		}
		n.rows++
		n.entries += entries
	}
	err := src(func(it SourceItem) error {
		var key string
		switch {
		case it.Project != nil:
			p := it.Project
			if err := p.Validate(); err != nil {
				return itemError("line "+strconv.FormatInt(it.Line, 10)+": project "+p.ID, err)
			}
			if first, dup := c.projectLines[p.ID]; dup {
				return Errorf(ECONFLICT, "line %d: project %s is already on line %d", it.Line, p.ID, first)
			}
			c.projectLines[p.ID] = it.Line
			c.projects = append(c.projects, *p)
			return nil
		case it.Resource != nil:
			r := it.Resource
			key = "resource " + r.ProjectID + "/" + r.ResourceID
			if err := r.Validate(); err != nil {
				return itemError("line "+strconv.FormatInt(it.Line, 10)+": "+key, err)
			}
			count(r.ProjectID, 1, it.Line, key+": project_id")
		case it.Assignment != nil:
			a := it.Assignment
			key = "assignment " + a.RecordID
			if err := a.Validate(); err != nil {
				return itemError("line "+strconv.FormatInt(it.Line, 10)+": "+key, err)
			}
			count(a.CustomerProjectID, 0, it.Line, key+": customer_project_id")
		default:
			return Errorf(EINVALID, "line %d: holds no project, resource or assignment", it.Line)
		}
		h := maphash.String(seed, key)
		if earlier, ok := seen[h]; ok {
			suspects = append(suspects, suspect{it.Line, earlier, key})
			return nil
		}
		seen[h] = it.Line
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(suspects) == 0 {
		return c, nil
	}
	// A hash matched: read the earlier lines' keys and report the first
	// real repeat. Keys that only share a hash are distinct items.
	want := make(map[int64]string, len(suspects))
	for _, s := range suspects {
		want[s.earlier] = ""
	}
	err = src(func(it SourceItem) error {
		if _, ok := want[it.Line]; ok {
			switch {
			case it.Resource != nil:
				want[it.Line] = "resource " + it.Resource.ProjectID + "/" + it.Resource.ResourceID
			case it.Assignment != nil:
				want[it.Line] = "assignment " + it.Assignment.RecordID
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, s := range suspects {
		if want[s.earlier] != s.key {
			// Two distinct keys share a hash, which may hide a later
			// repeat behind the earlier key: check exactly.
			return c, exactRepeats(src)
		}
	}
	s := suspects[0]
	return nil, Errorf(ECONFLICT, "line %d: %s is already on line %d", s.line, s.key, s.earlier)
}

// exactRepeats finds the first repeated key of src with every key in
// memory: the rare case of a hash shared by two distinct keys.
func exactRepeats(src ImportSource) error {
	seen := make(map[string]int64)
	return src(func(it SourceItem) error {
		var key string
		switch {
		case it.Resource != nil:
			key = "resource " + it.Resource.ProjectID + "/" + it.Resource.ResourceID
		case it.Assignment != nil:
			key = "assignment " + it.Assignment.RecordID
		default:
			return nil
		}
		if first, dup := seen[key]; dup {
			return Errorf(ECONFLICT, "line %d: %s is already on line %d", it.Line, key, first)
		}
		seen[key] = it.Line
		return nil
	})
}
