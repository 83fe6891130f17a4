package allot

import (
	"slices"
	"sync"
)

// Group makes concurrent writers share transactions (group commit). A
// writer puts its operation in the queue with Do; a writer that leads takes
// what is waiting, and Run applies it in one transaction that is committed
// once. Only then does Do return, to every writer of the group: no answer
// leaves before the transaction that holds it is durable.
//
// There is no timer and no batching delay: while a group commits (and
// fsyncs), the next writers queue, and the next leader takes them all. A
// lone writer commits alone and at once. Writers are served first come,
// first served: the queue is a FIFO, and a leader hands the lead to the
// oldest waiter when its own operation is done, so no caller keeps leading
// for others after its own answer is ready.
type Group[T any] struct {
	// Max bounds the operations of one group, so a group's transaction and
	// its latency stay bounded however long the queue grows.
	Max int
	// Leaders bounds the groups in flight at once (at least 1). A store
	// with one writer connection has one; a store whose transactions on
	// different rows run in parallel may have more.
	Leaders int
	// Run applies ops in order, in one transaction, and sets each one's
	// Err. It returns the operations it did not apply (a store may put off
	// one that cannot join the transaction); they keep their place at the
	// head of the queue. It must apply the first operation of every group
	// it is given, so the queue always moves.
	Run func(ops []*GroupOp[T]) (deferred []*GroupOp[T])
	// Keys, when set, names what an operation locks (a store's rows). An
	// operation that names a key of a group in flight queues for the next
	// group even when fewer than Leaders groups run: a second group would
	// only wait for the first one's locks, and paying a transaction's
	// serial time once for more operations is what a group is for.
	Keys func(v T) []string

	mu      sync.Mutex
	waiting []*GroupOp[T]
	leaders int
	busy    map[string]int // the Keys of the groups in flight, counted
}

// GroupOp is one operation waiting in a Group.
type GroupOp[T any] struct {
	V   T
	Err error
	// done receives false when the operation has its answer, or true when
	// its writer is to lead the next group, starting with it.
	done chan bool
}

// Do queues v, waits until a group holding it has been committed (or has
// failed) and returns its error.
func (g *Group[T]) Do(v T) error {
	op := &GroupOp[T]{V: v, done: make(chan bool, 1)}
	g.mu.Lock()
	if g.leaders < max(g.Leaders, 1) && !g.isBusy(v) {
		g.leaders++
		g.mark([]*GroupOp[T]{op}, 1)
	} else {
		g.waiting = append(g.waiting, op)
		g.mu.Unlock()
		if lead := <-op.done; !lead {
			return op.Err
		}
		// Promoted: the leader before took op out of the queue for us.
		g.mu.Lock()
	}
	// This writer leads until its own operation has run. first is the
	// operation its group starts with, out of the queue already and its
	// keys marked in flight (by whoever took it out).
	first := op
	for {
		n := min(len(g.waiting), max(g.Max, 1)-1)
		ops := append([]*GroupOp[T]{first}, g.waiting[:n]...)
		g.mark(g.waiting[:n], 1)
		g.waiting = slices.Delete(g.waiting, 0, n)
		g.mu.Unlock()

		deferred := g.Run(ops)
		for _, o := range ops {
			if o != op && !slices.Contains(deferred, o) {
				o.done <- false
			}
		}

		g.mu.Lock()
		g.mark(ops, -1)
		if !slices.Contains(deferred, op) {
			g.waiting = append(deferred, g.waiting...)
			if len(g.waiting) > 0 {
				next := g.waiting[0]
				g.waiting = slices.Delete(g.waiting, 0, 1)
				// Its keys are in flight from now: no writer arriving
				// before it takes the lead may start a group on them.
				g.mark([]*GroupOp[T]{next}, 1)
				g.mu.Unlock()
				next.done <- true
			} else {
				g.leaders--
				g.mu.Unlock()
			}
			return op.Err
		}
		first = deferred[0]
		g.mark([]*GroupOp[T]{first}, 1)
		g.waiting = append(deferred[1:], g.waiting...)
	}
}

// isBusy reports whether v names a key of a group in flight. g.mu is held.
func (g *Group[T]) isBusy(v T) bool {
	if g.Keys == nil {
		return false
	}
	for _, k := range g.Keys(v) {
		if g.busy[k] > 0 {
			return true
		}
	}
	return false
}

// mark counts the keys of ops in (d 1) or out (d -1) of flight. g.mu is
// held.
func (g *Group[T]) mark(ops []*GroupOp[T], d int) {
	if g.Keys == nil {
		return
	}
	if g.busy == nil {
		g.busy = map[string]int{}
	}
	for _, o := range ops {
		for _, k := range g.Keys(o.V) {
			if g.busy[k] += d; g.busy[k] == 0 {
				delete(g.busy, k)
			}
		}
	}
}
