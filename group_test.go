package allot

import (
	"fmt"
	"sync"
	"testing"
)

// TestGroup: every operation is applied exactly once, gets its own error,
// and is answered only after the group that applied it has run; operations
// a store puts off are applied in a later group; groups stay within Max and
// never start with an operation they put off; several leaders at once keep
// all of it true.
func TestGroup(t *testing.T) {
	for _, leaders := range []int{1, 3} {
		t.Run(fmt.Sprint("leaders=", leaders), func(t *testing.T) {
			var (
				mu       sync.Mutex
				applied  = map[int]int{}
				finished = map[int]bool{} // the group that applied the op has returned
				putOff   = map[int]bool{}
			)
			g := &Group[int]{Max: 5, Leaders: leaders}
			g.Run = func(ops []*GroupOp[int]) (deferred []*GroupOp[int]) {
				if len(ops) > g.Max {
					t.Errorf("a group of %d, more than Max %d", len(ops), g.Max)
				}
				var mine []int
				for i, op := range ops {
					mu.Lock()
					// Every third operation is put off once, unless it leads.
					if op.V%3 == 0 && !putOff[op.V] && i > 0 {
						putOff[op.V] = true
						mu.Unlock()
						deferred = append(deferred, op)
						continue
					}
					applied[op.V]++
					mu.Unlock()
					mine = append(mine, op.V)
					if op.V%4 == 0 {
						op.Err = fmt.Errorf("refused %d", op.V)
					} else {
						op.Err = nil
					}
				}
				mu.Lock()
				for _, v := range mine {
					finished[v] = true
				}
				mu.Unlock()
				return deferred
			}
			const n = 500
			var wg sync.WaitGroup
			for v := range n {
				wg.Go(func() {
					err := g.Do(v)
					mu.Lock()
					defer mu.Unlock()
					if !finished[v] {
						t.Errorf("op %d answered before its group ran", v)
					}
					want := error(nil)
					if v%4 == 0 {
						want = fmt.Errorf("refused %d", v)
					}
					if (err == nil) != (want == nil) || err != nil && err.Error() != want.Error() {
						t.Errorf("op %d: %v, want %v", v, err, want)
					}
				})
			}
			wg.Wait()
			for v := range n {
				if applied[v] != 1 {
					t.Errorf("op %d applied %d times", v, applied[v])
				}
			}
			if g.leaders != 0 || len(g.waiting) != 0 {
				t.Errorf("after the storm: %d leaders, %d waiting", g.leaders, len(g.waiting))
			}
		})
	}
}
