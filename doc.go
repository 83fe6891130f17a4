// Package allot is the domain of a tenant resource ledger that speaks the
// Huawei Cloud MetaStudio Tenant Management API.
//
// A Project is a tenant (a Huawei Cloud project id). A project owns Resources:
// packages of voice cloning, avatar modelling, livestream channels, video
// minutes and so on, each with an amount, a usage, an expiry, a source
// (purchased, allocated by a service provider, allocated by an administrator),
// a billing mode and a status. A service provider (SP) is a project that other
// projects name as their SP; what it allocated to a customer is kept as
// Assignment records.
//
// This package holds the types, their validation, the error type with its
// stable codes, and the interfaces that storage (sqlite, postgres) and
// transport (api) implement or consume. It imports nothing of allot's own and
// only the standard library, so every other package can depend on it.
//
// Invariants every implementation keeps:
//   - quantities are exact fixed-point (Quantity), never binary floats;
//   - every read of tenant data is scoped by project id in the store query
//     itself, so no code path can read another project's rows;
//   - only the enumerated values defined here are ever stored or emitted.
package allot
