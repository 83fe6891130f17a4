package allot

import "testing"

// FuzzParseQuantity: the plain-decimal fast path gives what big.Rat gives
// for every string it takes.
func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"0", "12", "0.5", "1.000001", "2147483647", "2147483647.000001", "2147483648", "9999999999.999999",
		"007", "1.", ".5", "1.0000001", "1e3", "-1", "12345678901"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, ok := parsePlainQuantity(s)
		if !ok {
			return
		}
		want, err := parseQuantityRat(s)
		if err != nil || q != want {
			t.Fatalf("%q: fast path %d, big.Rat %d (%v)", s, q, want, err)
		}
	})
}
