package allot

import (
	"bytes"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Quantity is an exact amount of a resource in millionths of its unit
// (fixed-point with six decimal places). Amounts and usage are money-like:
// they are summed and compared, so they are never stored as binary floats.
type Quantity int64

// QuantityScale is the number of Quantity steps in one unit.
const QuantityScale = 1_000_000

// QuantityDecimals is the number of decimal places a Quantity keeps.
const QuantityDecimals = 6

// MaxQuantity bounds every quantity allot accepts: 2147483647 units, the
// upper end of the documented range of resource_num.
const MaxQuantity = Quantity(2147483647 * QuantityScale)

// Units returns q as a whole number of units and true when q has no fraction.
func (q Quantity) Units() (int64, bool) { return int64(q) / QuantityScale, int64(q)%QuantityScale == 0 }

// ParseQuantity parses a decimal number such as "12", "0.5" or "1e3" exactly.
// It rejects negative numbers, more than six decimal places and values above
// MaxQuantity.
func ParseQuantity(s string) (Quantity, error) {
	if q, ok := parsePlainQuantity(s); ok {
		return q, nil
	}
	return parseQuantityRat(s)
}

// parsePlainQuantity reads the common form, up to ten digits with up to six
// decimal places ("12", "0.5"), without big.Rat; false for anything else,
// including values above MaxQuantity, which parseQuantityRat then refuses.
func parsePlainQuantity(s string) (Quantity, bool) {
	var v int64
	i, n := 0, len(s)
	for i < n && '0' <= s[i] && s[i] <= '9' {
		v = v*10 + int64(s[i]-'0')
		i++
	}
	if i == 0 || i > 10 {
		return 0, false
	}
	decimals := 0
	if i < n && s[i] == '.' {
		i++
		for i < n && '0' <= s[i] && s[i] <= '9' && decimals < QuantityDecimals {
			v = v*10 + int64(s[i]-'0')
			i++
			decimals++
		}
		if decimals == 0 {
			return 0, false
		}
	}
	if i != n {
		return 0, false
	}
	for ; decimals < QuantityDecimals; decimals++ {
		v *= 10
	}
	if v > int64(MaxQuantity) {
		return 0, false
	}
	return Quantity(v), true
}

// parseQuantityRat is ParseQuantity for every decimal form, with big.Rat.
func parseQuantityRat(s string) (Quantity, error) {
	// Only the decimal forms of a JSON number: big.Rat alone would also take
	// fractions ("1/2") and hexadecimal.
	if s == "" || len(s) > 64 || strings.Trim(s, "0123456789.eE+-") != "" {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	if r.Sign() < 0 {
		return 0, fmt.Errorf("%s is negative", s)
	}
	r.Mul(r, big.NewRat(QuantityScale, 1))
	if !r.IsInt() {
		return 0, fmt.Errorf("%s has more than %d decimal places", s, QuantityDecimals)
	}
	n := r.Num()
	if !n.IsInt64() || n.Int64() > int64(MaxQuantity) {
		return 0, fmt.Errorf("%s is above the maximum 2147483647", s)
	}
	return Quantity(n.Int64()), nil
}

// String formats q as the shortest exact decimal: "3", "2.5", "0.000001".
func (q Quantity) String() string { return string(q.AppendDecimal(nil)) }

// AppendDecimal appends the shortest exact decimal form of q to b.
func (q Quantity) AppendDecimal(b []byte) []byte {
	v := int64(q)
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/QuantityScale, 10)
	frac := v % QuantityScale
	if frac == 0 {
		return b
	}
	var digits [QuantityDecimals]byte
	for i := QuantityDecimals - 1; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	end := QuantityDecimals
	for end > 0 && digits[end-1] == '0' {
		end--
	}
	b = append(b, '.')
	return append(b, digits[:end]...)
}

// MarshalJSON writes q as a JSON number with no exponent and no trailing zeros.
func (q Quantity) MarshalJSON() ([]byte, error) { return q.AppendDecimal(nil), nil }

// UnmarshalJSON reads a JSON number (or a decimal in a JSON string) exactly.
// Unlike ParseQuantity it accepts a sign: ledger deltas are negative.
// Request amounts are checked for sign and range where they are used.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	neg := strings.HasPrefix(s, "-")
	v, err := ParseQuantity(strings.TrimPrefix(s, "-"))
	if err != nil {
		return err
	}
	if neg {
		v = -v
	}
	*q = v
	return nil
}
