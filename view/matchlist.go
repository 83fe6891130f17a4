package view

import (
	"math/bits"
	"sync/atomic"

	"github.com/allot-dev/allot"
)

// matchList is the ordered set of the rows one filter selects, in one of
// two forms: a sparse one (the row indices) when few rows match, and a
// dense one (a bit per row, with a running count every rankWords words)
// when many do. A filter that selects all of a 100,000-row tenant then
// holds 13 KB instead of 400 KB, and building it allocates no more: a
// client that sends many distinct filters to a big tenant costs the
// garbage collector, and so every other tenant, little.
type matchList struct {
	f     *allot.ResourceFilter
	count int
	idx   []int32  // sparse form: the matching rows in order; nil when dense
	bits  []uint64 // dense form: bit i%64 of bits[i/64] set when row i matches
	rank  []int32  // dense form: matches in bits[:k*rankWords], for each k
	used  atomic.Int64
}

// rankWords is the stride of the running count: finding the first row of a
// deep page reads at most this many words past a binary search.
const rankWords = 16

// A list is kept dense when its sparse form (4 bytes a match) would take
// more than its dense form (1 bit a row, and the running counts).
func sparseCost(matches int) int64 { return int64(matches) * matchEntryBytes }

func denseCost(rows int) int64 {
	words := (rows + 63) / 64
	return int64(words)*8 + int64((words+rankWords-1)/rankWords)*4
}

func (m *matchList) cost() int64 {
	if m.idx != nil {
		return sparseCost(len(m.idx))
	}
	return int64(len(m.bits))*8 + int64(len(m.rank))*4
}

// newMatchList turns the bit set of a build over rows rows into a list in
// the smaller form.
func newMatchList(f *allot.ResourceFilter, set []uint64, count int) *matchList {
	m := &matchList{f: f, count: count}
	if sparseCost(count) <= denseCost(len(set)*64) {
		m.idx = make([]int32, 0, count)
		for w, word := range set {
			for word != 0 {
				m.idx = append(m.idx, int32(w*64+bits.TrailingZeros64(word)))
				word &= word - 1
			}
		}
		return m
	}
	m.bits = set
	m.rank = make([]int32, (len(set)+rankWords-1)/rankWords)
	n := 0
	for w, word := range set {
		if w%rankWords == 0 {
			m.rank[w/rankWords] = int32(n)
		}
		n += bits.OnesCount64(word)
	}
	return m
}

// window calls fn with the rows of matches from (inclusive) to to
// (exclusive), in order.
func (m *matchList) window(from, to int, fn func(row int32)) {
	if from >= to {
		return
	}
	if m.idx != nil {
		for _, i := range m.idx[from:to] {
			fn(i)
		}
		return
	}
	// The last block whose running count is at most from.
	lo, hi := 0, len(m.rank)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if int(m.rank[mid]) <= from {
			lo = mid
		} else {
			hi = mid
		}
	}
	seen := int(m.rank[lo])
	for w := lo * rankWords; w < len(m.bits) && seen < to; w++ {
		word := m.bits[w]
		n := bits.OnesCount64(word)
		if seen+n <= from {
			seen += n
			continue
		}
		for word != 0 && seen < to {
			if seen >= from {
				fn(int32(w*64 + bits.TrailingZeros64(word)))
			}
			seen++
			word &= word - 1
		}
	}
}

// all returns every match, in order.
func (m *matchList) all() []int32 {
	out := make([]int32, 0, m.count)
	m.window(0, m.count, func(i int32) { out = append(out, i) })
	return out
}
