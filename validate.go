package allot

// validateKey checks an idempotency key.
func validateKey(key string) error {
	if key == "" {
		return Invalid("idempotency_key", "is required")
	}
	if len(key) > 128 {
		return Invalid("idempotency_key", "is longer than 128 characters")
	}
	return nil
}

func validateReason(reason string, required bool) error {
	if required && reason == "" {
		return Invalid("reason", "is required")
	}
	if len(reason) > MaxReasonLen {
		return Invalid("reason", "is longer than %d bytes", MaxReasonLen)
	}
	return nil
}

func validatePositive(param string, q Quantity) error {
	if q <= 0 {
		return Invalid(param, "must be greater than 0")
	}
	if q > MaxQuantity {
		return Invalid(param, "is above the maximum 2147483647")
	}
	return nil
}
