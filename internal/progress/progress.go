// Package progress draws a one-line progress bar for long commands (import,
// the benchmark's seeding) on a terminal, and nothing in a pipe or a log.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Terminal returns f when it is a terminal (a character device) and nil
// otherwise, so that a Bar drawn to the result stays quiet in pipes.
func Terminal(f *os.File) io.Writer {
	info, err := f.Stat()
	if err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return f
}

// Bar is a progress bar redrawn at most ten times a second. A Bar with a nil
// writer draws nothing.
type Bar struct {
	w      io.Writer
	label  string
	total  int64
	start  time.Time
	drawn  time.Time
	n      int64
	active bool
}

// New returns a bar counting up to total on w.
func New(w io.Writer, label string, total int64) *Bar {
	return &Bar{w: w, label: label, total: total, start: time.Now()}
}

// Set moves the bar to n.
func (p *Bar) Set(n int64) {
	p.n = n
	if p.w == nil {
		return
	}
	if now := time.Now(); now.Sub(p.drawn) >= 100*time.Millisecond || n == p.total {
		p.drawn = now
		p.draw()
	}
}

func (p *Bar) draw() {
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

// Finish draws the last state and ends the bar's line.
func (p *Bar) Finish() {
	if p.w != nil && p.active {
		p.draw()
		fmt.Fprintln(p.w)
	}
}
