package allot

import _ "embed"

// DefaultCatalog is the spec catalog allot ships (docs/catalog.jsonl, one
// spec per line, in the form `allot catalog import` takes). `allot serve
// --demo` loads it into an empty catalog, so that CreateMetaStudioOrders and
// the Terraform provider's order lifecycle work against a fresh demo server
// without an import first. Its amounts are examples: operators import their
// own.
//
//go:embed docs/catalog.jsonl
var DefaultCatalog []byte
