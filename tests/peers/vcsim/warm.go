// Warm migration in the peer: snapshots with delta disks, changed block
// tracking with change ids, QueryChangedDiskAreas, and test controls.
//
// govmomi 0.24's simulator, on CreateSnapshot_Task, copies the VM's config
// into the snapshot by value (its device list still points at the VM's
// disks) and writes a .vmsn file; it makes no delta disks and never
// changes a disk backing.  RemoveSnapshot_Task drops the tree node and the
// .vmsn file and ignores consolidate.  ESXi instead freezes each disk at a
// snapshot and sends the guest's writes to a new delta disk
// (name-000001.vmdk, whose parent is the frozen disk); removing a snapshot
// merges the child delta into the snapshot's disk.  The peer adds that
// around the simulator's own tasks, for a linear snapshot chain:
//
//   - after CreateSnapshot_Task: the snapshot gets its own copy of the
//     device list, its disks' backings name the frozen disk and carry the
//     change id of that moment; the VM's disks move to a new delta
//     (backing.parent = the frozen disk), whose bytes the peer keeps as a
//     raw sparse file name-00000N-delta.vmdk (on ESXi a VMFS sparse or
//     SEsparse file: clients cannot read it as a raw image either);
//   - after RemoveSnapshot_Task: the child of the snapshot's disk (the next
//     snapshot's disk, or the running delta) is merged into it and the
//     child's owner now uses the merged disk (consolidate is always done);
//     removeChildren merges every later level.
//
// Changed block tracking, per disk: a change id is "<uuid>/<sequence>";
// every guest write (POST /ferry-test/write) records its area with the
// next sequence number.  A snapshot records the sequence of its moment.
// QueryChangedDiskAreas(snapshot S, changeId "<uuid>/k") returns the areas
// written after k and up to S; "*" returns every allocated area of the disk
// as of S (the data map of the chain up to S's disk).  A change id that is
// not "<uuid>/<number>" is an InvalidArgument fault (changeId); one of
// another uuid (tracking reset) or newer than the snapshot is a FileFault
// naming the disk file, as vSphere answers for change ids it cannot use.
//
// Test-only endpoints (with -test-control; no real server has them):
//   POST /ferry-test/write?vm=ID&disk=KEY&offset=BYTES  the body is written
//        into the disk's running top at offset, as a guest would, and
//        recorded for changed block tracking;
//   POST /ferry-test/cbt?vm=ID&enabled=true|false  config.changeTrackingEnabled;
//   POST /ferry-test/terminate-sessions  SessionManager.TerminateSession for
//        every session seen so far (an administrator ending them).
package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

type diskLevel struct {
	desc string // datastore path of the descriptor, "[ds] dir/name-000001.vmdk"
	data string // local file with the level's bytes (raw, sparse)
	snap string // the snapshot whose disk this is; "" for the running top
	seq  int64  // the change sequence at that snapshot
	// The areas written into this level (a delta's allocated grains; for
	// the base, what was merged or written into it after the start).
	written [][2]int64
}

type diskWrite struct {
	seq, off, length int64 // bytes
}

type warmDisk struct {
	uuid     string
	seq      int64 // of the last write
	capacity int64 // bytes
	base     types.VirtualDiskFlatVer2BackingInfo
	levels   []*diskLevel // [0] the base disk ... last: the running top
	writes   []diskWrite
	deltas   int // delta disks made so far: names are never reused
}

// warmMu guards warmDisks and every warmDisk.
var (
	warmMu     sync.Mutex
	warmDisks  = map[string]*warmDisk{} // "vm-N/key"
	sessionsMu sync.Mutex
	sessions   = map[string]bool{} // session keys seen in cookies
)

func localPath(b *types.VirtualDiskFlatVer2BackingInfo, suffix string) string {
	var p object.DatastorePath
	if b.Datastore == nil || !p.FromString(b.FileName) {
		return ""
	}
	ds := simulator.Map.Get(*b.Datastore).(*simulator.Datastore)
	return path.Join(ds.Info.GetDatastoreInfo().Url, strings.TrimSuffix(p.Path, ".vmdk")+suffix)
}

func vmDisks(vm *simulator.VirtualMachine) []*types.VirtualDisk {
	var disks []*types.VirtualDisk
	for _, d := range vm.Config.Hardware.Device {
		if disk, ok := d.(*types.VirtualDisk); ok {
			disks = append(disks, disk)
		}
	}
	return disks
}

// warmDiskOf returns the state of one disk, made on first use from the
// VM's configuration.  warmMu held.
func warmDiskOf(vm *simulator.VirtualMachine, disk *types.VirtualDisk) *warmDisk {
	id := fmt.Sprintf("%s/%d", vm.Self.Value, disk.Key)
	if d, ok := warmDisks[id]; ok {
		return d
	}
	b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
	if !ok {
		return nil
	}
	d := &warmDisk{
		uuid:     fmt.Sprintf("52 00 00 00 00 00 00 %02x-00 00 00 00 00 00 00 00", disk.Key&0xff),
		seq:      1,
		capacity: disk.CapacityInBytes,
		base:     *b,
	}
	if d.capacity == 0 {
		d.capacity = disk.CapacityInKB * 1024
	}
	d.base.Parent = nil
	d.levels = []*diskLevel{{desc: b.FileName, data: localPath(b, "-flat.vmdk")}}
	warmDisks[id] = d
	return d
}

func (d *warmDisk) changeID(seq int64) string {
	return fmt.Sprintf("%s/%d", d.uuid, seq)
}

// backing returns the backing of level i: its file, the levels below as
// parents, and the change id given.
func (d *warmDisk) backing(i int, changeID string) *types.VirtualDiskFlatVer2BackingInfo {
	var b *types.VirtualDiskFlatVer2BackingInfo
	for k := 0; k <= i; k++ {
		nb := d.base
		nb.FileName = d.levels[k].desc
		nb.Parent = b
		nb.ChangeId = ""
		b = &nb
	}
	b.ChangeId = changeID
	return b
}

// apply sets the VM's and every snapshot's disk backings from the levels.
// warmMu held.
func (d *warmDisk) apply(vm *simulator.VirtualMachine, key int32) {
	top := len(d.levels) - 1
	for _, disk := range vmDisks(vm) {
		if disk.Key == key {
			disk.Backing = d.backing(top, d.changeID(d.seq))
		}
	}
	for i, l := range d.levels {
		if l.snap == "" {
			continue
		}
		s, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "VirtualMachineSnapshot", Value: l.snap}).(*simulator.VirtualMachineSnapshot)
		if !ok {
			continue
		}
		for _, dev := range s.Config.Hardware.Device {
			if disk, ok := dev.(*types.VirtualDisk); ok && disk.Key == key {
				disk.Backing = d.backing(i, d.changeID(l.seq))
			}
		}
	}
}

// snapshotCreated freezes every disk of vm at snapshot snap.
func snapshotCreated(vm *simulator.VirtualMachine, snap types.ManagedObjectReference) {
	s, ok := simulator.Map.Get(snap).(*simulator.VirtualMachineSnapshot)
	if !ok {
		return
	}
	warmMu.Lock()
	defer warmMu.Unlock()
	simulator.Map.WithLock(vm, func() {
		// The snapshot's own copy of the devices (the simulator's shares them).
		devs := make([]types.BaseVirtualDevice, 0, len(s.Config.Hardware.Device))
		for _, dev := range s.Config.Hardware.Device {
			if disk, ok := dev.(*types.VirtualDisk); ok {
				c := *disk
				devs = append(devs, &c)
			} else {
				devs = append(devs, dev)
			}
		}
		s.Config.Hardware.Device = devs
		for _, disk := range vmDisks(vm) {
			d := warmDiskOf(vm, disk)
			if d == nil {
				continue
			}
			top := d.levels[len(d.levels)-1]
			top.snap = snap.Value
			top.seq = d.seq
			d.deltas++
			base := strings.TrimSuffix(d.levels[0].desc, ".vmdk")
			nl := &diskLevel{desc: fmt.Sprintf("%s-%06d.vmdk", base, d.deltas)}
			nb := d.base
			nb.FileName = nl.desc
			nl.data = localPath(&nb, "-delta.vmdk")
			if nl.data != "" {
				if f, err := os.OpenFile(nl.data, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0644); err == nil {
					_ = f.Truncate(d.capacity)
					f.Close()
				}
				_ = ioutil.WriteFile(localPath(&nb, ".vmdk"), []byte("# delta disk (ferry's vcsim peer)\n"), 0644)
			}
			d.levels = append(d.levels, nl)
			d.apply(vm, disk.Key)
		}
	})
}

// dataMap returns the allocated areas of a local file (SEEK_DATA/SEEK_HOLE).
func dataMap(file string, size int64) [][2]int64 {
	var areas [][2]int64
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	for off := int64(0); off < size; {
		data, err := f.Seek(off, 3) // SEEK_DATA
		if err != nil || data >= size {
			break
		}
		hole, err := f.Seek(data, 4) // SEEK_HOLE
		if err != nil {
			break
		}
		if hole > size {
			hole = size
		}
		areas = append(areas, [2]int64{data, hole})
		off = hole
	}
	return areas
}

// allocated returns the areas level i holds: a delta's written areas; the
// base's data map (which the flat file was made with) and its writes.
func (d *warmDisk) allocated(i int) [][2]int64 {
	l := d.levels[i]
	a := append([][2]int64{}, l.written...)
	if i == 0 {
		a = append(a, dataMap(l.data, d.capacity)...)
	}
	return mergeAreas(a)
}

// merge copies the allocated areas of level i+1 into level i, which takes
// over its owner; the child's files are removed.  warmMu held.
func (d *warmDisk) merge(i int) {
	parent, child := d.levels[i], d.levels[i+1]
	if child.data != "" && parent.data != "" {
		src, err1 := os.Open(child.data)
		dst, err2 := os.OpenFile(parent.data, os.O_RDWR|os.O_CREATE, 0644)
		if err1 == nil && err2 == nil {
			for _, a := range child.written {
				buf := make([]byte, a[1]-a[0])
				if _, err := src.ReadAt(buf, a[0]); err == nil || err == io.EOF {
					_, _ = dst.WriteAt(buf, a[0])
				}
			}
		}
		if src != nil {
			src.Close()
		}
		if dst != nil {
			dst.Close()
		}
		_ = os.Remove(child.data)
		nb := d.base
		nb.FileName = child.desc
		_ = os.Remove(localPath(&nb, ".vmdk"))
	}
	parent.written = mergeAreas(append(parent.written, child.written...))
	parent.snap = child.snap
	parent.seq = child.seq
	d.levels = append(d.levels[:i+1], d.levels[i+2:]...)
}

// snapshotRemoved consolidates the disks of vm after snapshot snap was
// removed (with its children when removeChildren).
func snapshotRemoved(vm *simulator.VirtualMachine, snap string, removeChildren bool) {
	warmMu.Lock()
	defer warmMu.Unlock()
	simulator.Map.WithLock(vm, func() {
		for _, disk := range vmDisks(vm) {
			d := warmDiskOf(vm, disk)
			if d == nil {
				continue
			}
			for i, l := range d.levels {
				if l.snap != snap {
					continue
				}
				d.merge(i)
				for removeChildren && i+1 < len(d.levels) {
					d.merge(i)
				}
				break
			}
			d.apply(vm, disk.Key)
		}
	})
}

// guestWrite writes data into the running top of a disk, as the guest
// would, and records the area for changed block tracking.
func guestWrite(vmID string, key int32, off int64, data []byte) error {
	vm, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: vmID}).(*simulator.VirtualMachine)
	if !ok {
		return fmt.Errorf("no VM %s", vmID)
	}
	warmMu.Lock()
	defer warmMu.Unlock()
	var err error
	simulator.Map.WithLock(vm, func() {
		for _, disk := range vmDisks(vm) {
			if disk.Key != key {
				continue
			}
			d := warmDiskOf(vm, disk)
			if d == nil {
				err = fmt.Errorf("disk %d of %s has no flat backing", key, vmID)
				return
			}
			if off < 0 || off+int64(len(data)) > d.capacity || len(data) == 0 {
				err = fmt.Errorf("write of %d bytes at %d is outside disk %d (%d bytes)", len(data), off, key, d.capacity)
				return
			}
			top := d.levels[len(d.levels)-1]
			f, e := os.OpenFile(top.data, os.O_RDWR|os.O_CREATE, 0644)
			if e != nil {
				err = e
				return
			}
			_, e = f.WriteAt(data, off)
			f.Close()
			if e != nil {
				err = e
				return
			}
			d.seq++
			d.writes = append(d.writes, diskWrite{d.seq, off, int64(len(data))})
			top.written = mergeAreas(append(top.written, [2]int64{off, off + int64(len(data))}))
			d.apply(vm, key)
			return
		}
		err = fmt.Errorf("no disk %d on %s", key, vmID)
	})
	return err
}

// mergeAreas sorts areas and joins overlapping or adjacent ones.
func mergeAreas(a [][2]int64) [][2]int64 {
	sort.Slice(a, func(i, j int) bool { return a[i][0] < a[j][0] })
	var out [][2]int64
	for _, x := range a {
		if n := len(out); n > 0 && x[0] <= out[n-1][1] {
			if x[1] > out[n-1][1] {
				out[n-1][1] = x[1]
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

type qcdaRequest struct {
	This        string `xml:"Body>QueryChangedDiskAreas>_this"`
	Snapshot    string `xml:"Body>QueryChangedDiskAreas>snapshot"`
	DeviceKey   int32  `xml:"Body>QueryChangedDiskAreas>deviceKey"`
	StartOffset int64  `xml:"Body>QueryChangedDiskAreas>startOffset"`
	ChangeID    string `xml:"Body>QueryChangedDiskAreas>changeId"`
}

// cbtChunk bounds the bytes one QueryChangedDiskAreas answer covers, so
// clients must loop on startOffset as the API requires (vCenter also
// answers for a part of the disk at a time).
const cbtChunk = 2 << 20

// queryChangedDiskAreas serves VirtualMachine.QueryChangedDiskAreas as the
// API documents it: a session is required (checked by the caller); CBT
// must be on (FileFault); without a snapshot the VM must be powered off
// (InvalidState); the snapshot must be one of this VM's; the answer covers
// [startOffset, startOffset+length) with the areas inside it, sorted.
func queryChangedDiskAreas(w http.ResponseWriter, r *http.Request, body []byte) {
	var req qcdaRequest
	if err := xml.Unmarshal(body, &req); err != nil {
		soapFault(w, "InvalidRequest", err.Error())
		return
	}
	vm, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: req.This}).(*simulator.VirtualMachine)
	if !ok {
		soapFault(w, "ManagedObjectNotFound", "no VM "+req.This)
		return
	}
	if vm.Config.ChangeTrackingEnabled == nil || !*vm.Config.ChangeTrackingEnabled {
		soapFault(w, "FileFault", "changed block tracking is not enabled on "+vm.Name)
		return
	}
	if req.Snapshot == "" && vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
		soapFault(w, "InvalidState", "without a snapshot the VM must be powered off")
		return
	}
	if req.Snapshot != "" {
		s, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "VirtualMachineSnapshot", Value: req.Snapshot}).(*simulator.VirtualMachineSnapshot)
		if !ok {
			soapFault(w, "ManagedObjectNotFound", "no snapshot "+req.Snapshot)
			return
		}
		if s.Vm.Value != vm.Self.Value {
			soapFault(w, "InvalidArgument", "snapshot "+req.Snapshot+" is not a snapshot of "+vm.Name)
			return
		}
	}
	warmMu.Lock()
	defer warmMu.Unlock()
	var d *warmDisk
	for _, disk := range vmDisks(vm) {
		if disk.Key == req.DeviceKey {
			d = warmDiskOf(vm, disk)
		}
	}
	if d == nil {
		soapFault(w, "InvalidArgument", fmt.Sprintf("deviceKey %d: no such disk on %s", req.DeviceKey, vm.Name))
		return
	}
	// The state asked about: the snapshot's level, or the running top.
	upto, seq := len(d.levels)-1, d.seq
	if req.Snapshot != "" {
		upto = -1
		for i, l := range d.levels {
			if l.snap == req.Snapshot {
				upto, seq = i, l.seq
			}
		}
		if upto < 0 {
			soapFault(w, "InvalidArgument", "snapshot "+req.Snapshot+" has no disk "+strconv.Itoa(int(req.DeviceKey)))
			return
		}
	}
	if req.StartOffset < 0 || req.StartOffset >= d.capacity {
		soapFault(w, "InvalidArgument", "startOffset beyond the disk")
		return
	}
	var all [][2]int64
	if req.ChangeID == "*" {
		for i := 0; i <= upto; i++ {
			all = append(all, d.allocated(i)...)
		}
	} else {
		slash := strings.LastIndexByte(req.ChangeID, '/')
		since, err := int64(0), error(nil)
		if slash > 0 {
			since, err = strconv.ParseInt(req.ChangeID[slash+1:], 10, 64)
		}
		if slash <= 0 || err != nil || since < 0 {
			soapFault(w, "InvalidArgument", "A specified parameter was not correct: changeId")
			return
		}
		if req.ChangeID[:slash] != d.uuid || since > seq {
			soapFault(w, "FileFault", "Error caused by file "+d.levels[upto].desc+": change id "+req.ChangeID+" is not known for this disk")
			return
		}
		for _, wr := range d.writes {
			if wr.seq > since && wr.seq <= seq {
				all = append(all, [2]int64{wr.off, wr.off + wr.length})
			}
		}
	}
	if req.StartOffset == 0 {
		log.Printf("QueryChangedDiskAreas %s disk %d snapshot %q (level %d, seq %d) since %q: %d areas, %d writes, seq %d",
			vm.Self.Value, req.DeviceKey, req.Snapshot, upto, seq, req.ChangeID, len(all), len(d.writes), d.seq)
	}
	length := d.capacity - req.StartOffset
	if length > cbtChunk {
		length = cbtChunk
	}
	end := req.StartOffset + length
	var areas bytes.Buffer
	for _, a := range mergeAreas(all) {
		s, e := a[0], a[1]
		if s < req.StartOffset {
			s = req.StartOffset
		}
		if e > end {
			e = end
		}
		if s < e {
			fmt.Fprintf(&areas, "<changedArea><start>%d</start><length>%d</length></changedArea>", s, e-s)
		}
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`+
		`<soapenv:Body><QueryChangedDiskAreasResponse xmlns="urn:vim25"><returnval>`+
		`<startOffset>%d</startOffset><length>%d</length>%s</returnval></QueryChangedDiskAreasResponse></soapenv:Body></soapenv:Envelope>`,
		req.StartOffset, length, areas.String())
}


// thisOf returns the _this and removeChildren of a SOAP request.
func thisOf(body []byte) (string, bool) {
	var env struct {
		Body struct {
			Inner struct {
				This           string `xml:"_this"`
				RemoveChildren bool   `xml:"removeChildren"`
			} `xml:",any"`
		}
	}
	if err := xml.Unmarshal(body, &env); err != nil {
		return "", false
	}
	return env.Body.Inner.This, env.Body.Inner.RemoveChildren
}

// taskSucceeded reads the task moref from a recorded answer and tells
// whether that (synchronous) task succeeded.
func taskSucceeded(rec *httptest.ResponseRecorder) bool {
	var env struct {
		Body struct {
			Inner struct {
				Returnval string `xml:"returnval"`
			} `xml:",any"`
		}
	}
	if rec.Code != http.StatusOK || xml.Unmarshal(rec.Body.Bytes(), &env) != nil {
		return false
	}
	t, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "Task", Value: env.Body.Inner.Returnval}).(*simulator.Task)
	return ok && t.Info.State == types.TaskInfoStateSuccess
}

func replay(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// warmHandler wraps the simulator's handler: snapshots with delta disks,
// QueryChangedDiskAreas, authentication on /folder (as vCenter requires),
// and, with testControl, the test-only endpoints under /ferry-test/.
func warmHandler(next http.Handler, sdk *url.URL, testControl bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("vmware_soap_session"); err == nil {
			sessionsMu.Lock()
			sessions[c.Value] = true
			sessionsMu.Unlock()
		}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/sdk":
			body, err := ioutil.ReadAll(r.Body)
			if err != nil {
				soapFault(w, "InvalidRequest", err.Error())
				return
			}
			r.Body = ioutil.NopCloser(bytes.NewReader(body))
			switch {
			case bytes.Contains(body, []byte("<QueryChangedDiskAreas")):
				if !authenticated(next, r) {
					soapFault(w, "NotAuthenticated", "")
					return
				}
				queryChangedDiskAreas(w, r, body)
			case bytes.Contains(body, []byte("<CreateSnapshot_Task")):
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				this, _ := thisOf(body)
				if vm, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: this}).(*simulator.VirtualMachine); ok && taskSucceeded(rec) && vm.Snapshot != nil && vm.Snapshot.CurrentSnapshot != nil {
					snapshotCreated(vm, *vm.Snapshot.CurrentSnapshot)
				}
				replay(w, rec)
			case bytes.Contains(body, []byte("<RemoveSnapshot_Task")):
				this, children := thisOf(body)
				var vm *simulator.VirtualMachine
				if s, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "VirtualMachineSnapshot", Value: this}).(*simulator.VirtualMachineSnapshot); ok {
					vm, _ = simulator.Map.Get(s.Vm).(*simulator.VirtualMachine)
				}
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				if vm != nil && taskSucceeded(rec) {
					snapshotRemoved(vm, this, children)
				}
				replay(w, rec)
			default:
				next.ServeHTTP(w, r)
			}
		case strings.HasPrefix(r.URL.Path, "/folder/"):
			if !authenticated(next, r) {
				http.Error(w, "not authenticated", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		case testControl && r.URL.Path == "/ferry-test/write" && r.Method == http.MethodPost:
			q := r.URL.Query()
			key, err1 := strconv.Atoi(q.Get("disk"))
			off, err2 := strconv.ParseInt(q.Get("offset"), 10, 64)
			data, err3 := ioutil.ReadAll(r.Body)
			if err1 != nil || err2 != nil || err3 != nil {
				http.Error(w, "want ?vm=ID&disk=KEY&offset=BYTES and the bytes as the body", http.StatusBadRequest)
				return
			}
			if err := guestWrite(q.Get("vm"), int32(key), off, data); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case testControl && r.URL.Path == "/ferry-test/cbt" && r.Method == http.MethodPost:
			q := r.URL.Query()
			vm, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: q.Get("vm")}).(*simulator.VirtualMachine)
			if !ok {
				http.Error(w, "no VM "+q.Get("vm"), http.StatusBadRequest)
				return
			}
			on := q.Get("enabled") == "true"
			simulator.Map.WithLock(vm, func() {
				vm.Config.ChangeTrackingEnabled = types.NewBool(on)
			})
			w.WriteHeader(http.StatusNoContent)
		case testControl && r.URL.Path == "/ferry-test/terminate-sessions" && r.Method == http.MethodPost:
			n, err := terminateSessions(sdk)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprintf(w, "%d\n", n)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// terminateSessions ends every session seen so far with
// SessionManager.TerminateSession, as an administrator would.
func terminateSessions(sdk *url.URL) (int, error) {
	ctx := context.Background()
	c, err := govmomi.NewClient(ctx, sdk, true)
	if err != nil {
		return 0, err
	}
	defer c.Logout(ctx)
	own, err := c.SessionManager.UserSession(ctx)
	if err != nil {
		return 0, err
	}
	sessionsMu.Lock()
	var keys []string
	for k := range sessions {
		if k != own.Key {
			keys = append(keys, k)
		}
		delete(sessions, k)
	}
	sessionsMu.Unlock()
	n := 0
	for _, k := range keys {
		req := types.TerminateSession{This: *c.ServiceContent.SessionManager, SessionId: []string{k}}
		if _, err := methods.TerminateSession(ctx, c.Client, &req); err == nil {
			n++
		}
	}
	return n, nil
}
