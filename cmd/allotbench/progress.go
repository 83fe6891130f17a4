package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// isTerminal reports whether f is a character device (a terminal), the only
// place a progress bar is drawn.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// progress draws a one-line bar on w, redrawn at most ten times a second.
// A nil w draws nothing.
type progress struct {
	w      io.Writer
	label  string
	total  int64
	start  time.Time
	drawn  time.Time
	n      int64
	active bool
}

func newProgress(w io.Writer, label string, total int64) *progress {
	return &progress{w: w, label: label, total: total, start: time.Now()}
}

func (p *progress) set(n int64) {
	p.n = n
	if p.w == nil {
		return
	}
	if now := time.Now(); now.Sub(p.drawn) >= 100*time.Millisecond || n == p.total {
		p.drawn = now
		p.draw()
	}
}

func (p *progress) draw() {
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = min(1, float64(p.n)/float64(p.total))
	}
	fill := int(frac * width)
	elapsed := time.Since(p.start)
	rate := float64(p.n) / max(elapsed.Seconds(), 1e-9)
	eta := ""
	if p.n > 0 && p.n < p.total {
		eta = fmt.Sprintf(" eta %v", time.Duration(float64(p.total-p.n)/rate*float64(time.Second)).Round(time.Second))
	}
	fmt.Fprintf(p.w, "\r%-12s [%s%s] %3.0f%% %d/%d %.0f/s %v%s\x1b[K",
		p.label, strings.Repeat("#", fill), strings.Repeat(".", width-fill), frac*100,
		p.n, p.total, rate, elapsed.Round(100*time.Millisecond), eta)
	p.active = true
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.w != nil && p.active {
		p.draw()
		fmt.Fprintln(p.w)
	}
}
