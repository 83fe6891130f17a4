package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// wire returns the bytes net/http's client puts on the wire for r (with
// compression disabled): request line, Host, User-Agent, r's headers.
func wire(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	if err := r.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// rawConn is a minimal HTTP/1.1 keep-alive client connection: it writes a
// request's pre-serialized bytes and reads one response (Content-Length or
// chunked body). Its per-request cost is a fraction of net/http's client,
// so one load-generator CPU can saturate a one-CPU server.
type rawConn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
	// keepBody makes each response's body readable in body until the next
	// request (a reservation's answer names its id).
	keepBody bool
	body     []byte
}

func (rc *rawConn) close() {
	if rc.c != nil {
		rc.c.Close()
		rc.c = nil
	}
}

// do sends req and reads the response, returning its status and body size.
// On any error the connection is closed; the next call dials again.
func (rc *rawConn) do(req []byte, timeout time.Duration) (status int, n int64, err error) {
	if rc.c == nil {
		c, err := net.DialTimeout("tcp", rc.addr, timeout)
		if err != nil {
			return 0, 0, err
		}
		rc.c = c
		if rc.r == nil {
			rc.r = bufio.NewReaderSize(c, 64<<10)
		} else {
			rc.r.Reset(c)
		}
	}
	rc.c.SetDeadline(time.Now().Add(timeout))
	status, n, keep, err := rc.roundTrip(req)
	if err != nil || !keep {
		rc.close()
	}
	return status, n, err
}

var (
	errMalformed = errors.New("malformed response")
	crlf         = []byte("\r\n")
)

func (rc *rawConn) roundTrip(req []byte) (status int, n int64, keep bool, err error) {
	if _, err := rc.c.Write(req); err != nil {
		return 0, 0, false, err
	}
	line, err := rc.r.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, 0, false, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, false, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	length, chunked, keep := int64(-1), false, true
	for {
		line, err = rc.r.ReadSlice('\n')
		if err != nil {
			return status, 0, false, err
		}
		if bytes.Equal(line, crlf) {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return status, 0, false, fmt.Errorf("%w: header %q", errMalformed, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil {
				return status, 0, false, fmt.Errorf("%w: Content-Length %q", errMalformed, value)
			}
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = asciiEqualFold(value, "chunked")
		case asciiEqualFold(name, "Connection"):
			keep = !asciiEqualFold(value, "close")
		}
	}
	rc.body = rc.body[:0]
	switch {
	case chunked:
		n, err = rc.readChunked()
	case length >= 0:
		var d int
		d, err = rc.discard(int(length))
		n = int64(d)
	default:
		return status, 0, false, fmt.Errorf("%w: neither Content-Length nor chunked", errMalformed)
	}
	return status, n, keep, err
}

func (rc *rawConn) readChunked() (int64, error) {
	var total int64
	for {
		line, err := rc.r.ReadSlice('\n')
		if err != nil {
			return total, err
		}
		hexSize, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte(";"))
		size, err := strconv.ParseInt(string(hexSize), 16, 64)
		if err != nil || size < 0 {
			return total, fmt.Errorf("%w: chunk size %q", errMalformed, line)
		}
		if size == 0 {
			// Trailers, then the final CRLF.
			for {
				line, err := rc.r.ReadSlice('\n')
				if err != nil {
					return total, err
				}
				if bytes.Equal(line, crlf) {
					return total, nil
				}
			}
		}
		if _, err := rc.discard(int(size)); err != nil {
			return total, err
		}
		total += size
		end, err := rc.r.ReadSlice('\n')
		if err != nil {
			return total, err
		}
		if !bytes.Equal(end, crlf) {
			return total, fmt.Errorf("%w: chunk not followed by CRLF", errMalformed)
		}
	}
}

// discard skips n bytes of body, or appends them to rc.body with keepBody.
func (rc *rawConn) discard(n int) (int, error) {
	if !rc.keepBody {
		return rc.r.Discard(n)
	}
	at := len(rc.body)
	rc.body = slices.Grow(rc.body, n)[:at+n]
	return io.ReadFull(rc.r, rc.body[at:])
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
