package allot

import (
	"slices"
	"strings"
)

// The enumerations below are exactly those of the MetaStudio reference and of
// the official SDK's model package. Nothing else is stored or emitted.

// BusinessType is the service a resource belongs to.
type BusinessType string

// BusinessTypes lists every documented BusinessType.
var BusinessTypes = []BusinessType{
	"VOICE_CLONE", "SYNTHETICS_SOUND", "ASSET_MANAGER", "MODELING_2D", "LIVE_2D",
	"VIDEO_2D", "CHAT_2D", "BUSINESS_CARD_2D", "PICTURE_2D", "MODELING_3D",
	"VDS_3D", "TTSA_3D", "FLEXUS_2D",
}

// ResourceSource says how a tenant came to hold a resource.
type ResourceSource string

const (
	SourcePurchased      ResourceSource = "PURCHASED"
	SourceSPAllocated    ResourceSource = "SP_ALLOCATED"
	SourceAdminAllocated ResourceSource = "ADMIN_ALLOCATED"
)

// ResourceSources lists every documented ResourceSource.
var ResourceSources = []ResourceSource{SourcePurchased, SourceSPAllocated, SourceAdminAllocated}

// ChargingMode is a billing mode.
type ChargingMode string

// ChargingModes lists every documented ChargingMode.
var ChargingModes = []ChargingMode{"PERIODIC", "ONE_TIME", "ON_DEMAND"}

// SubResourceType is the kind of a Flexus sub-resource.
type SubResourceType string

// SubResourceTypes lists every documented SubResourceType.
var SubResourceTypes = []SubResourceType{
	"voice_clone_flexus", "modeling_count_2d_model_flexus", "video_time_flexus_2d_model",
}

// Unit is the unit a resource's amount and usage are counted in.
type Unit string

// Units lists every documented Unit.
var Units = []Unit{"NUM", "MIN", "HOUR", "CHANNEL", "GB", "MILLION_WORDS", "TEN_THOUSAND_WORDS", "TIME"}

// ResourceStatus is 0 (normal) or 1 (frozen).
type ResourceStatus int32

const (
	StatusNormal ResourceStatus = 0
	StatusFrozen ResourceStatus = 1
)

// Valid reports whether v is one of the documented values.
func (v BusinessType) Valid() bool    { return slices.Contains(BusinessTypes, v) }
func (v ResourceSource) Valid() bool  { return slices.Contains(ResourceSources, v) }
func (v ChargingMode) Valid() bool    { return slices.Contains(ChargingModes, v) }
func (v SubResourceType) Valid() bool { return slices.Contains(SubResourceTypes, v) }
func (v Unit) Valid() bool            { return slices.Contains(Units, v) }
func (v ResourceStatus) Valid() bool  { return v == StatusNormal || v == StatusFrozen }

// enumList joins the values of an enumeration for error messages.
func enumList[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// ParseEnum checks that s is one of values, naming param and the allowed
// values in the error otherwise.
func ParseEnum[T ~string](param, s string, values []T) (T, error) {
	if slices.Contains(values, T(s)) {
		return T(s), nil
	}
	return "", Invalid(param, "%q is not one of %s", s, enumList(values))
}
