package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/allot-dev/allot"
)

// importLayout is issue 14's import file: 10,000 tenants of 100 resources
// and one of 100,000 (1,100,000 resources), one project line each:
// 1,110,001 lines.
var importLayout = layout{Projects: 10_001, Resources: 1_100_000, Big: 100_000, Small: 100}

// writeImportFile writes l as an allot import file (JSON Lines): every
// project, then every project's resources (resource() of seed.go), in
// project order. It writes path.partial and renames it when complete.
func writeImportFile(path string, l layout) (lines int, err error) {
	f, err := os.Create(path + ".partial")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path + ".partial")
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	var b []byte
	for i := range l.Projects {
		b = fmt.Appendf(b[:0], `{"kind":"project","project_id":%q,"name":"bench tenant %d","region_id":"cn-north-4"}`+"\n", projectID(i), i)
		if _, err := w.Write(b); err != nil {
			return 0, err
		}
		lines++
	}
	for i := range l.Projects {
		pid := projectID(i)
		for j := range l.count(i) {
			b = appendResourceLine(b[:0], resource(pid, j))
			if _, err := w.Write(b); err != nil {
				return 0, err
			}
			lines++
		}
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	return lines, os.Rename(path+".partial", path)
}

// appendResourceLine appends r as one import line.
func appendResourceLine(b []byte, r allot.Resource) []byte {
	b = append(b, `{"kind":"resource","project_id":`...)
	b = strconv.AppendQuote(b, r.ProjectID)
	b = append(b, `,"resource_id":`...)
	b = strconv.AppendQuote(b, r.ResourceID)
	if r.OrderID != "" {
		b = append(b, `,"order_id":`...)
		b = strconv.AppendQuote(b, r.OrderID)
	}
	b = append(b, `,"resource_type":`...)
	b = strconv.AppendQuote(b, r.ResourceType)
	b = append(b, `,"business_type":`...)
	b = strconv.AppendQuote(b, string(r.BusinessType))
	b = append(b, `,"charging_mode":`...)
	b = strconv.AppendQuote(b, string(r.ChargingMode))
	b = append(b, `,"resource_source":`...)
	b = strconv.AppendQuote(b, string(r.Source))
	b = append(b, `,"amount":`...)
	b = r.Amount.AppendDecimal(b)
	b = append(b, `,"usage":`...)
	b = r.Usage.AppendDecimal(b)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"unit":`...)
	b = strconv.AppendQuote(b, string(r.Unit))
	if !r.ExpireTime.IsZero() {
		b = append(b, `,"resource_expire_time":"`...)
		b = r.ExpireTime.UTC().AppendFormat(b, time.RFC3339)
		b = append(b, '"')
	}
	return append(b, "}\n"...)
}
