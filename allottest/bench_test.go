package allottest

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"
)

// BenchmarkStartAndFirstCall measures what a test pays for allottest: a
// server started on a new SQLite file and seeded, an SDK client, the first
// signed ListTenantResources, and the stop. Beside it, the same SDK call
// against a plain httptest server answering a canned empty list, the least
// a fake can cost; ratio is allottest's time over that one.
func BenchmarkStartAndFirstCall(b *testing.B) {
	req := &model.ListTenantResourcesRequest{ResourceSource: "PURCHASED"}
	var plain, full time.Duration
	for b.Loop() {
		t0 := time.Now()
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
			w.Write([]byte(`{"resources":[],"count":0}`))
		}))
		tr := &http.Transport{}
		c, err := newClient(hs.URL, AccessKey, SecretKey, ProjectID, tr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.ListTenantResources(req); err != nil {
			b.Fatal(err)
		}
		tr.CloseIdleConnections()
		hs.Close()
		t1 := time.Now()

		s, err := start(b, b.TempDir(), options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Client().ListTenantResources(req); err != nil {
			b.Fatal(err)
		}
		s.close()
		t2 := time.Now()
		plain += t1.Sub(t0)
		full += t2.Sub(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(plain.Nanoseconds())/n, "httptest-ns/op")
	b.ReportMetric(float64(full.Nanoseconds())/n, "allottest-ns/op")
	b.ReportMetric(float64(full)/float64(plain), "ratio")
}
