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

// TestGroupKeys: operations that name a key of a group in flight wait for
// the next group rather than lead a second one, however many leaders are
// allowed; each is still applied once and answered only after its group
// ran. Operations on other keys still lead groups of their own in parallel.
func TestGroupKeys(t *testing.T) {
	var (
		mu       sync.Mutex
		inFlight int
		applied  = map[int]int{}
		finished = map[int]bool{}
	)
	g := &Group[int]{Max: 8, Leaders: 3, Keys: func(int) []string { return []string{"hot"} }}
	g.Run = func(ops []*GroupOp[int]) []*GroupOp[int] {
		mu.Lock()
		if inFlight++; inFlight > 1 {
			t.Errorf("%d groups of one key in flight at once", inFlight)
		}
		for _, op := range ops {
			applied[op.V]++
		}
		mu.Unlock()
		for _, op := range ops {
			op.Err = nil
			if op.V%5 == 0 {
				op.Err = fmt.Errorf("refused %d", op.V)
			}
		}
		mu.Lock()
		for _, op := range ops {
			finished[op.V] = true
		}
		inFlight--
		mu.Unlock()
		return nil
	}
	const n = 400
	var wg sync.WaitGroup
	for v := range n {
		wg.Go(func() {
			err := g.Do(v)
			mu.Lock()
			defer mu.Unlock()
			if !finished[v] {
				t.Errorf("op %d answered before its group ran", v)
			}
			if (err != nil) != (v%5 == 0) {
				t.Errorf("op %d: %v", v, err)
			}
		})
	}
	wg.Wait()
	for v := range n {
		if applied[v] != 1 {
			t.Errorf("op %d applied %d times", v, applied[v])
		}
	}
	if g.leaders != 0 || len(g.waiting) != 0 || len(g.busy) != 0 {
		t.Errorf("after the storm: %d leaders, %d waiting, %d keys busy", g.leaders, len(g.waiting), len(g.busy))
	}

	// Different keys: the first group runs until the second has started,
	// which it can only if the second leads a group of its own.
	started := make(chan struct{})
	g2 := &Group[string]{Max: 8, Leaders: 2, Keys: func(k string) []string { return []string{k} }}
	g2.Run = func(ops []*GroupOp[string]) []*GroupOp[string] {
		if ops[0].V == "a" {
			started <- struct{}{}
			<-started
		} else {
			<-started
			started <- struct{}{}
		}
		return nil
	}
	var wg2 sync.WaitGroup
	wg2.Go(func() { g2.Do("a") })
	wg2.Go(func() { g2.Do("b") })
	wg2.Wait()
}
