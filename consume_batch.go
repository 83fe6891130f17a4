package allot

import (
	"context"
	"sync"
)

// MaxConsumeBatch is the most events one ConsumeBatch takes.
const MaxConsumeBatch = 1000

// consumeBatchWorkers is how many of a batch's events are in flight at once.
// They are submitted concurrently so that the store's group commit puts them
// in a few shared transactions instead of one commit (and fsync) each.
const consumeBatchWorkers = 64

// ConsumeEvent is one event of a batch: a consume, or the reason its line of
// the batch could not be read (Refused), which refuses that event alone.
type ConsumeEvent struct {
	Request ConsumeRequest
	Refused error
}

// ConsumeOutcome is what became of one event: Err is its refusal; without
// one, Result is its answer, and Result.Replayed tells a replay from a
// consume applied now.
type ConsumeOutcome struct {
	Result OpResult
	Err    error
}

// ConsumeBatch meters many usages at once: each event is a Consume with its
// own idempotency key and its own outcome, in the events' order. An event
// that is refused refuses nothing else, and an event whose key was seen
// before (in an earlier batch, or earlier in this one) counts once: a later
// event with the same project and key is run after the first one's answer
// and so replays it (or, as another request under a used key, is refused).
// Events with distinct keys are independent: when several draw on a package
// that cannot cover them all, which of them are refused is not promised to
// follow their order in the batch.
//
// The batch as a whole is refused (EINVALID, nothing run) when it is empty
// or holds more than MaxConsumeBatch events; EFORBIDDEN unless actor is an
// administrator.
func (s *Service) ConsumeBatch(ctx context.Context, actor Actor, events []ConsumeEvent) ([]ConsumeOutcome, error) {
	if err := actor.requireAdmin(); err != nil {
		return nil, err
	}
	switch {
	case len(events) == 0:
		return nil, Invalid("events", "is empty; give at least one event")
	case len(events) > MaxConsumeBatch:
		return nil, Invalid("events", "has %d events, more than the %d of one batch", len(events), MaxConsumeBatch)
	}
	// Waves: the n-th event with a given project and key runs in wave n,
	// after every event of the waves before it has its answer.
	type scope struct{ project, key string }
	seen := make(map[scope]int, len(events))
	var waves [][]int
	for i, e := range events {
		if e.Refused != nil {
			continue
		}
		k := scope{e.Request.ProjectID, e.Request.IdempotencyKey}
		n := seen[k]
		seen[k] = n + 1
		if n == len(waves) {
			waves = append(waves, nil)
		}
		waves[n] = append(waves[n], i)
	}
	out := make([]ConsumeOutcome, len(events))
	for i, e := range events {
		if e.Refused != nil {
			out[i].Err = e.Refused
		}
	}
	for _, wave := range waves {
		work := make(chan int)
		var wg sync.WaitGroup
		for range min(consumeBatchWorkers, len(wave)) {
			wg.Go(func() {
				for i := range work {
					out[i].Result, out[i].Err = s.Consume(ctx, actor, events[i].Request)
				}
			})
		}
		for _, i := range wave {
			work <- i
		}
		close(work)
		wg.Wait()
	}
	return out, nil
}
