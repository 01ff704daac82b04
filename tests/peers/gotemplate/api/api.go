// Package api mirrors the template data structs Forklift passes to
// text/template (api.PVCNameTemplateData and friends), so that Go's error
// messages name the same types ferry's do.
package api

type PVCNameTemplateData struct {
	VmName         string
	TargetVmName   string
	PlanName       string
	VmId           string
	DiskIndex      int
	RootDiskIndex  int
	Shared         bool
	FileName       string
	WinDriveLetter string
	DiskId         string
}

type VolumeNameTemplateData struct {
	PVCName     string
	VolumeIndex int
}

type NetworkNameTemplateData struct {
	NetworkName      string
	NetworkNamespace string
	NetworkType      string
	NetworkIndex     int
}

// TemplateData is the "custom" kind of the conformance corpus: lists and
// a few more types than Forklift's structs have.
type TemplateData struct {
	Name  string
	Empty string
	Num   int
	Neg   int
	Flag  bool
	List  []string
	None  []string
}
