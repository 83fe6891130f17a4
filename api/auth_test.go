package api

import (
	"strings"
	"testing"
)

func TestCheckAccessKey(t *testing.T) {
	for _, ak := range []string{"AKCONTRACT", "A", strings.Repeat("Z", maxAccessKeyLen), "ak-1_x.y"} {
		if err := checkAccessKey(ak); err != nil {
			t.Errorf("%q refused: %v", ak, err)
		}
	}
	for _, ak := range []string{"\xff\xfe", "AK\x00", "AK\x01X", "AK\x7f", "AK\u00e4", "AK\u2028", strings.Repeat("Z", maxAccessKeyLen+1)} {
		if err := checkAccessKey(ak); err == nil || !strings.Contains(err.Error(), "Access") {
			t.Errorf("%q: %v, want a malformed Access", ak, err)
		}
	}
}
