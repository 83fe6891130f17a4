package allot

import (
	"slices"
	"sync"
)

// Group makes concurrent writers share transactions (group commit). A
// writer puts its operation in the queue with Do; one writer at a time, the
// leader, takes what is waiting, and Run applies it in one transaction that
// is committed once. Only then does Do return, to every writer of the group:
// no answer leaves before the transaction that holds it is durable.
//
// There is no timer and no batching delay: while a group commits (and
// fsyncs), the next writers queue, and the next leader takes them all. A
// lone writer commits alone and at once. Writers are served first come,
// first served: the queue is a FIFO, and the leader hands the lead to the
// oldest waiter when its own operation is done, so no caller keeps leading
// for others after its own answer is ready.
type Group[T any] struct {
	// Max bounds the operations of one group, so a group's transaction and
	// its latency stay bounded however long the queue grows.
	Max int
	// Run applies ops in order, in one transaction, and sets each one's
	// Err. It returns the operations it did not apply (a store may put off
	// one that cannot join the transaction); they keep their place at the
	// head of the queue. Every group it is given starts with an operation
	// it must apply, so the queue always moves. Run is called by one
	// goroutine at a time.
	Run func(ops []*GroupOp[T]) (deferred []*GroupOp[T])

	mu      sync.Mutex
	waiting []*GroupOp[T]
	leading bool
}

// GroupOp is one operation waiting in a Group.
type GroupOp[T any] struct {
	V   T
	Err error
	// done receives false when the operation has its answer, or true when
	// its writer is to lead the next group.
	done chan bool
}

// Do queues v, waits until a group holding it has been committed (or has
// failed) and returns its error.
func (g *Group[T]) Do(v T) error {
	op := &GroupOp[T]{V: v, done: make(chan bool, 1)}
	g.mu.Lock()
	g.waiting = append(g.waiting, op)
	if g.leading {
		g.mu.Unlock()
		if lead := <-op.done; !lead {
			return op.Err
		}
		g.mu.Lock()
	} else {
		g.leading = true
	}
	// This writer leads until its own operation has run; op is in the
	// queue, so it is in the next group or deferred to the one after.
	for {
		n := min(len(g.waiting), max(g.Max, 1))
		ops := slices.Clone(g.waiting[:n])
		g.waiting = slices.Delete(g.waiting, 0, n)
		g.mu.Unlock()

		deferred := g.Run(ops)
		mine := true
		for _, o := range ops {
			switch {
			case slices.Contains(deferred, o):
				mine = mine && o != op
			case o != op:
				o.done <- false
			}
		}

		g.mu.Lock()
		g.waiting = append(deferred, g.waiting...)
		if mine {
			if len(g.waiting) > 0 {
				g.waiting[0].done <- true
			} else {
				g.leading = false
			}
			g.mu.Unlock()
			return op.Err
		}
	}
}
