// vcsim-ferry: govmomi's vCenter simulator (VPX model) for ferry's tests.
//
// Starts the simulator on 127.0.0.1 with TLS, writes its certificate (the
// CA to trust) and its URL to files, optionally checks a login password,
// optionally fills every VM's disk with a flat extent of real bytes, and
// writes the truth (what the simulator holds, read through govmomi's
// object model) as JSON, so tests never compare ferry with itself.
// Runs until it receives SIGTERM or SIGINT.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type truthDisk struct {
	Key       int32  `json:"key"`
	File      string `json:"file"`
	Capacity  int64  `json:"capacity"`
	FlatPath  string `json:"flatPath,omitempty"`
	Datastore string `json:"datastore"`
}

type truthVM struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	UUID       string      `json:"uuid"`
	CPU        int32       `json:"cpuCount"`
	MemoryMB   int32       `json:"memoryMB"`
	PowerState string      `json:"powerState"`
	Disks      []truthDisk `json:"disks"`
	NICs       int         `json:"nics"`
}

type truth struct {
	URL         string    `json:"url"`
	Datacenters int       `json:"datacenters"`
	Clusters    int       `json:"clusters"`
	Hosts       int       `json:"hosts"`
	Datastores  int       `json:"datastores"`
	Networks    int       `json:"networks"`
	VMs         []truthVM `json:"vms"`
}

func main() {
	dc := flag.Int("dc", 1, "datacenters")
	cluster := flag.Int("cluster", 1, "clusters per datacenter")
	host := flag.Int("host", 2, "hosts per cluster")
	standalone := flag.Int("standalone-host", 1, "standalone hosts per datacenter")
	vm := flag.Int("vm", 2, "VMs per resource pool (cluster or standalone host)")
	ds := flag.Int("ds", 1, "datastores")
	pg := flag.Int("pg", 1, "distributed port groups per datacenter")
	user := flag.String("user", "", "the only user that may log in (empty: any non-empty user and password)")
	pass := flag.String("pass", "", "its password")
	caFile := flag.String("cacert", "", "write the server certificate (PEM) here")
	urlFile := flag.String("url-file", "", "write the SDK URL here (else stdout)")
	truthFile := flag.String("truth", "", "write the simulator's inventory as JSON here")
	flatSize := flag.Int64("flat", 0, "bytes of real data written to each disk's -flat.vmdk extent (0: none)")
	powerOff := flag.Bool("power-off", false, "power every VM off (through the API) before writing the truth")
	maxObjects := flag.Int("max-objects", 0, "answer RetrievePropertiesEx in pages of at most this many objects, with ContinueRetrievePropertiesEx tokens (0: as the simulator does, one page)")
	idle := flag.Duration("session-idle", 0, "expire sessions idle this long (0: never)")
	diskSize := flag.Int64("disk-size", 0, "set every VM disk's capacity to this many bytes (0: the model's)")
	cbt := flag.Bool("cbt", false, "enable changed block tracking on every VM (change ids \"<uuid>/<sequence>\" on every disk)")
	testControl := flag.Bool("test-control", false, "serve the test-only endpoints POST /ferry-test/write?vm=ID&disk=KEY&offset=BYTES (a guest write) and POST /ferry-test/terminate-sessions")
	changeURL := flag.String("change", "", "client mode (tests): make one change through the SOAP API of the SDK at this URL, as a vSphere user would: the arguments are rename VM-ID NAME, power-off VM-ID, create NAME (prints the new VM's id), snapshot VM-ID NAME (prints the snapshot's id) or destroy VM-ID")
	collectURL := flag.String("collect", "", "client mode (bench): read the inventory of the SDK at this URL with govmomi's property collector, as Forklift does, and print the seconds it took")
	flag.Parse()
	simulator.SessionIdleTimeout = *idle
	if *changeURL != "" {
		changeClient(*changeURL, *user, *pass, *caFile, flag.Args())
		return
	}
	if *collectURL != "" {
		collectClient(*collectURL, *user, *pass, *caFile)
		return
	}

	model := simulator.VPX()
	model.Datacenter = *dc
	model.Cluster = *cluster
	model.ClusterHost = *host
	model.Host = *standalone
	model.Machine = *vm
	model.Datastore = *ds
	model.Portgroup = *pg
	if err := model.Create(); err != nil {
		log.Fatalf("vcsim-ferry: create model: %v", err)
	}
	defer model.Remove()
	if *maxObjects > 0 {
		installPaging(model, *maxObjects)
	}

	// Our own CA and leaf (ECDSA P-256): the simulator's built-in test
	// certificate has a 1024-bit RSA key, which OpenSSL 3 refuses.
	caPEM, leaf, err := makeCertificates()
	if err != nil {
		log.Fatalf("vcsim-ferry: certificates: %v", err)
	}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
	model.Service.Listen = &url.URL{Host: "127.0.0.1:0"}
	if *user != "" {
		model.Service.Listen.User = url.UserPassword(*user, *pass)
	}
	server := model.Service.NewServer()
	defer server.Close()
	if *cbt {
		enableCBT()
	}
	// Before any client connects: snapshots with delta disks,
	// QueryChangedDiskAreas, /folder authentication, test controls.
	server.Server.Config.Handler = warmHandler(server.Server.Config.Handler, server.URL, *testControl)

	if *caFile != "" {
		if err := ioutil.WriteFile(*caFile, caPEM, 0644); err != nil {
			log.Fatalf("vcsim-ferry: %v", err)
		}
	}

	if *powerOff {
		if err := powerOffAll(server.URL); err != nil {
			log.Fatalf("vcsim-ferry: power off: %v", err)
		}
	}
	u := *server.URL
	u.User = nil
	if *diskSize > 0 {
		resizeDisks(*diskSize)
	}
	t := collect(u.String(), *flatSize)
	if *truthFile != "" {
		b, _ := json.MarshalIndent(t, "", "  ")
		if err := ioutil.WriteFile(*truthFile, b, 0644); err != nil {
			log.Fatalf("vcsim-ferry: %v", err)
		}
	}
	// The URL file last: its presence means "ready".
	if *urlFile != "" {
		tmp := *urlFile + ".tmp"
		if err := ioutil.WriteFile(tmp, []byte(u.String()+"\n"), 0644); err != nil {
			log.Fatalf("vcsim-ferry: %v", err)
		}
		if err := os.Rename(tmp, *urlFile); err != nil {
			log.Fatalf("vcsim-ferry: %v", err)
		}
	} else {
		fmt.Println(u.String())
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}

// makeCertificates returns a fresh CA (PEM) and a server certificate it
// signed for 127.0.0.1, ::1 and localhost.
func makeCertificates() ([]byte, tls.Certificate, error) {
	var none tls.Certificate
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, none, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "vcsim-ferry test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, none, err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, none, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, none, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, none, err
	}
	leaf, err := tls.X509KeyPair(
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		return nil, none, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), leaf, nil
}

// pagingCollector adds paging to the simulator's PropertyCollector, which
// (govmomi 0.24) ignores RetrieveOptions.maxObjects and never returns a
// token.  Semantics as the API documents them: a result holds at most
// maxObjects objects (the server may choose fewer: pageCap); when more
// remain, the result carries a token, and ContinueRetrievePropertiesEx
// with that token returns the next page; an unknown token is an
// InvalidArgument fault.  The simulator makes one instance per session
// (reflect.New of this type), so tokens are per session, as in vCenter.
type pagingCollector struct {
	simulator.PropertyCollector
	pending map[string][]types.ObjectContent
	next    int
}

var pageCap int

func installPaging(model *simulator.Model, max int) {
	pageCap = max
	ref := model.ServiceContent.PropertyCollector
	orig := simulator.Map.Get(ref).(*simulator.PropertyCollector)
	simulator.Map.Put(&pagingCollector{PropertyCollector: *orig})
}

func (pc *pagingCollector) page(objects []types.ObjectContent, max int) *types.RetrieveResult {
	if max <= 0 || max > pageCap {
		max = pageCap
	}
	res := &types.RetrieveResult{}
	if len(objects) <= max {
		res.Objects = objects
		return res
	}
	res.Objects = objects[:max]
	if pc.pending == nil {
		pc.pending = make(map[string][]types.ObjectContent)
	}
	pc.next++
	res.Token = fmt.Sprintf("page-%d", pc.next)
	pc.pending[res.Token] = objects[max:]
	return res
}

func (pc *pagingCollector) RetrievePropertiesEx(ctx *simulator.Context, r *types.RetrievePropertiesEx) soap.HasFault {
	body := pc.PropertyCollector.RetrievePropertiesEx(ctx, r).(*methods.RetrievePropertiesExBody)
	if body.Res == nil || body.Res.Returnval == nil {
		return body
	}
	body.Res.Returnval = pc.page(body.Res.Returnval.Objects, int(r.Options.MaxObjects))
	return body
}

func (pc *pagingCollector) ContinueRetrievePropertiesEx(ctx *simulator.Context, r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	body := &methods.ContinueRetrievePropertiesExBody{}
	rest, ok := pc.pending[r.Token]
	if !ok {
		body.Fault_ = simulator.Fault("unknown token "+r.Token, &types.InvalidArgument{InvalidProperty: "token"})
		return body
	}
	delete(pc.pending, r.Token)
	body.Res = &types.ContinueRetrievePropertiesExResponse{Returnval: *pc.page(rest, pageCap)}
	return body
}

// soapClient is a SOAP client of the SDK URL, verifying TLS with caFile
// (none: not verified).
func soapClient(sdk, caFile string) *soap.Client {
	u, err := url.Parse(sdk)
	if err != nil {
		log.Fatalf("vcsim-ferry: %v", err)
	}
	sc := soap.NewClient(u, caFile == "")
	if caFile != "" {
		if err := sc.SetRootCAs(caFile); err != nil {
			log.Fatalf("vcsim-ferry: %v", err)
		}
	}
	return sc
}

// login makes a vim25 client over sc and logs in (the caller logs out).
func login(ctx context.Context, sc *soap.Client, user, pass string) *govmomi.Client {
	vc, err := vim25.NewClient(ctx, sc)
	if err != nil {
		log.Fatalf("vcsim-ferry: %v", err)
	}
	c := &govmomi.Client{Client: vc, SessionManager: session.NewManager(vc)}
	if err := c.Login(ctx, url.UserPassword(user, pass)); err != nil {
		log.Fatalf("vcsim-ferry: login: %v", err)
	}
	return c
}

// collectClient reads every kind ferry's inventory reads, with the same
// property paths, through ContainerViews and govmomi's property collector
// into govmomi's typed objects (Forklift's technique), and prints the time.
func collectClient(sdk, user, pass, caFile string) {
	ctx := context.Background()
	sc := soapClient(sdk, caFile)
	start := time.Now()
	c := login(ctx, sc, user, pass)
	vc := c.Client
	defer c.Logout(ctx)
	m := view.NewManager(vc)
	counts := map[string]int{}
	read := func(kind string, paths []string, dst interface{}, n func() int) {
		v, err := m.CreateContainerView(ctx, vc.ServiceContent.RootFolder, []string{kind}, true)
		if err != nil {
			log.Fatalf("vcsim-ferry: %v", err)
		}
		defer v.Destroy(ctx)
		if err := v.Retrieve(ctx, []string{kind}, paths, dst); err != nil {
			log.Fatalf("vcsim-ferry: retrieve %s: %v", kind, err)
		}
		counts[kind] = n()
	}
	var dcs []mo.Datacenter
	var folders []mo.Folder
	var clusters []mo.ClusterComputeResource
	var hosts []mo.HostSystem
	var dss []mo.Datastore
	var pgs []mo.DistributedVirtualPortgroup
	var nets []mo.Network
	var vms []mo.VirtualMachine
	read("Datacenter", []string{"name", "parent"}, &dcs, func() int { return len(dcs) })
	read("Folder", []string{"name", "parent"}, &folders, func() int { return len(folders) })
	read("ClusterComputeResource", []string{"name", "parent", "host", "datastore", "network", "configurationEx"}, &clusters, func() int { return len(clusters) })
	read("HostSystem", []string{"name", "parent", "runtime.inMaintenanceMode", "runtime.connectionState", "config.product", "summary.hardware", "datastore", "network", "config.network"}, &hosts, func() int { return len(hosts) })
	read("Datastore", []string{"name", "parent", "summary"}, &dss, func() int { return len(dss) })
	read("DistributedVirtualPortgroup", []string{"name", "parent", "config.distributedVirtualSwitch", "config.key"}, &pgs, func() int { return len(pgs) })
	read("Network", []string{"name", "parent"}, &nets, func() int { return len(nets) })
	read("VirtualMachine", []string{"name", "parent",
		"config.uuid", "config.instanceUuid", "config.firmware",
		"config.bootOptions", "config.template",
		"config.hardware.numCPU", "config.hardware.numCoresPerSocket",
		"config.hardware.memoryMB", "config.hardware.device",
		"config.guestId", "config.guestFullName", "config.changeTrackingEnabled",
		"config.cpuHotAddEnabled", "config.cpuHotRemoveEnabled",
		"config.memoryHotAddEnabled", "config.cpuAffinity",
		"config.files.vmPathName",
		"runtime.powerState", "runtime.connectionState", "runtime.host",
		"runtime.consolidationNeeded", "runtime.faultToleranceState",
		"snapshot", "guest.hostName", "guest.ipAddress", "guest.toolsRunningStatus",
		"summary.quickStats.balloonedMemory", "summary.storage.committed"}, &vms, func() int { return len(vms) })
	fmt.Printf("%.3f %d\n", time.Since(start).Seconds(), counts["VirtualMachine"])
}

// resizeDisks sets every VM disk's capacity (the model's disks are 1 MiB).
func resizeDisks(size int64) {
	for _, e := range simulator.Map.All("VirtualMachine") {
		v := e.(*simulator.VirtualMachine)
		for _, d := range v.Config.Hardware.Device {
			if disk, ok := d.(*types.VirtualDisk); ok {
				disk.CapacityInBytes = size
				disk.CapacityInKB = size / 1024
			}
		}
	}
}

// enableCBT turns changed block tracking on for every VM and gives every
// disk a change id, as vCenter does after a reconfigure with
// changeTrackingEnabled and the next power cycle.
func enableCBT() {
	for _, e := range simulator.Map.All("VirtualMachine") {
		v := e.(*simulator.VirtualMachine)
		v.Config.ChangeTrackingEnabled = types.NewBool(true)
		for _, d := range v.Config.Hardware.Device {
			if disk, ok := d.(*types.VirtualDisk); ok {
				if b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
					b.ChangeId = fmt.Sprintf("52 00 00 00 00 00 00 %02x-00 00 00 00 00 00 00 00/1", disk.Key&0xff)
				}
			}
		}
	}
}

func soapFault(w http.ResponseWriter, faultType, msg string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	var esc bytes.Buffer
	_ = xml.EscapeText(&esc, []byte(msg))
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`+
		`<soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>%s</faultstring>`+
		`<detail><%sFault xmlns="urn:vim25" xsi:type="%s"></%sFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
		esc.String(), faultType, faultType, faultType)
}

// authenticated asks the simulator whether the request's session is valid,
// with a CurrentTime call (which needs a session) carrying its cookie.
func authenticated(next http.Handler, r *http.Request) bool {
	probe := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<soapenv:Body><CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime></soapenv:Body></soapenv:Envelope>`
	req := httptest.NewRequest(http.MethodPost, "/sdk", strings.NewReader(probe))
	for _, c := range r.Cookies() {
		req.AddCookie(c)
	}
	req.Header.Set("Content-Type", "text/xml")
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK && !strings.Contains(rec.Body.String(), "NotAuthenticated")
}

// powerOffAll powers every VM off through the SOAP API, as a client would.
func powerOffAll(sdk *url.URL) error {
	ctx := context.Background()
	c, err := govmomi.NewClient(ctx, sdk, true)
	if err != nil {
		return err
	}
	defer c.Logout(ctx)
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm := object.NewVirtualMachine(c.Client, e.Reference())
		task, err := vm.PowerOff(ctx)
		if err != nil {
			return err
		}
		if err := task.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// collect reads the simulator's registry (govmomi's object model), and
// writes flat extents when asked.
func collect(sdk string, flatSize int64) truth {
	t := truth{URL: sdk}
	t.Datacenters = len(simulator.Map.All("Datacenter"))
	t.Clusters = len(simulator.Map.All("ClusterComputeResource"))
	t.Hosts = len(simulator.Map.All("HostSystem"))
	t.Datastores = len(simulator.Map.All("Datastore"))
	t.Networks = len(simulator.Map.All("Network")) + len(simulator.Map.All("DistributedVirtualPortgroup"))
	for _, e := range simulator.Map.All("VirtualMachine") {
		v := e.(*simulator.VirtualMachine)
		tv := truthVM{
			ID:         v.Self.Value,
			Name:       v.Name,
			UUID:       v.Config.Uuid,
			CPU:        v.Config.Hardware.NumCPU,
			MemoryMB:   v.Config.Hardware.MemoryMB,
			PowerState: string(v.Runtime.PowerState),
		}
		for _, d := range v.Config.Hardware.Device {
			switch dev := d.(type) {
			case *types.VirtualDisk:
				capacity := dev.CapacityInBytes
				if capacity == 0 {
					capacity = dev.CapacityInKB * 1024
				}
				td := truthDisk{Key: dev.Key, Capacity: capacity}
				if b, ok := dev.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
					td.File = b.FileName
					if b.Datastore != nil {
						ds := simulator.Map.Get(*b.Datastore).(*simulator.Datastore)
						td.Datastore = ds.Self.Value
						if flatSize > 0 {
							td.FlatPath = writeFlat(ds, b.FileName, capacity, flatSize, v.Self.Value)
						}
					}
				}
				tv.Disks = append(tv.Disks, td)
			case types.BaseVirtualEthernetCard:
				tv.NICs++
			}
		}
		t.VMs = append(t.VMs, tv)
	}
	return t
}

// writeFlat creates "<disk>-flat.vmdk" next to the descriptor, as big as
// the disk, with `data` bytes of a pattern derived from the VM id at its
// start and one more block in the middle (the rest is a hole).
func writeFlat(dsObj *simulator.Datastore, file string, capacity, data int64, seed string) string {
	var p object.DatastorePath
	if !p.FromString(file) {
		return ""
	}
	dir := dsObj.Info.GetDatastoreInfo().Url
	flat := path.Join(dir, strings.TrimSuffix(p.Path, ".vmdk")+"-flat.vmdk")
	_ = os.MkdirAll(path.Dir(flat), 0755)
	f, err := os.Create(flat)
	if err != nil {
		log.Fatalf("vcsim-ferry: %v", err)
	}
	defer f.Close()
	if data > capacity {
		data = capacity
	}
	buf := make([]byte, data)
	for i := range buf {
		buf[i] = byte(int(seed[len(seed)-1]) + i*7 + i/4096)
	}
	if _, err := f.WriteAt(buf, 0); err != nil {
		log.Fatalf("vcsim-ferry: %v", err)
	}
	if capacity/2 > data {
		if _, err := f.WriteAt(buf[:data/2+1], capacity/2); err != nil {
			log.Fatalf("vcsim-ferry: %v", err)
		}
	}
	if err := f.Truncate(capacity); err != nil {
		log.Fatalf("vcsim-ferry: %v", err)
	}
	return flat
}

// changeClient makes one inventory change through the API (govmomi's
// object model), so the simulator reports it to property collectors.
func changeClient(sdk, user, pass, caFile string, args []string) {
	ctx := context.Background()
	sc := soapClient(sdk, caFile)
	c := login(ctx, sc, user, pass)
	vc := c.Client
	defer c.Logout(ctx)
	if len(args) < 2 {
		log.Fatalf("vcsim-ferry: -change wants OP and arguments")
	}
	vmOf := func(id string) *object.VirtualMachine {
		return object.NewVirtualMachine(vc, types.ManagedObjectReference{Type: "VirtualMachine", Value: id})
	}
	wait := func(t *object.Task, err error) {
		if err == nil {
			err = t.Wait(ctx)
		}
		if err != nil {
			log.Fatalf("vcsim-ferry: %s: %v", args[0], err)
		}
	}
	switch {
	case args[0] == "rename" && len(args) == 3:
		wait(vmOf(args[1]).Rename(ctx, args[2]))
	case args[0] == "power-off" && len(args) == 2:
		wait(vmOf(args[1]).PowerOff(ctx))
	case args[0] == "snapshot" && len(args) == 3:
		t, err := vmOf(args[1]).CreateSnapshot(ctx, args[2], "", false, false)
		if err != nil {
			log.Fatalf("vcsim-ferry: snapshot: %v", err)
		}
		info, err := t.WaitForResult(ctx, nil)
		if err != nil {
			log.Fatalf("vcsim-ferry: snapshot: %v", err)
		}
		fmt.Println(info.Result.(types.ManagedObjectReference).Value)
	case args[0] == "destroy" && len(args) == 2:
		vm := vmOf(args[1])
		if st, err := vm.PowerState(ctx); err == nil && st != types.VirtualMachinePowerStatePoweredOff {
			wait(vm.PowerOff(ctx))
		}
		wait(vm.Destroy(ctx))
	case args[0] == "create" && len(args) == 2:
		finder := find.NewFinder(vc, false)
		dc, err := finder.DefaultDatacenter(ctx)
		if err != nil {
			log.Fatalf("vcsim-ferry: %v", err)
		}
		finder.SetDatacenter(dc)
		folders, err := dc.Folders(ctx)
		if err != nil {
			log.Fatalf("vcsim-ferry: %v", err)
		}
		pools, err := finder.ResourcePoolList(ctx, "*")
		if err != nil || len(pools) == 0 {
			log.Fatalf("vcsim-ferry: no resource pool: %v", err)
		}
		dss, err := finder.DatastoreList(ctx, "*")
		if err != nil || len(dss) == 0 {
			log.Fatalf("vcsim-ferry: no datastore: %v", err)
		}
		spec := types.VirtualMachineConfigSpec{
			Name:     args[1],
			GuestId:  string(types.VirtualMachineGuestOsIdentifierOtherGuest),
			NumCPUs:  1,
			MemoryMB: 64,
			Files:    &types.VirtualMachineFileInfo{VmPathName: "[" + dss[0].Name() + "]"},
		}
		t, err := folders.VmFolder.CreateVM(ctx, spec, pools[0], nil)
		if err != nil {
			log.Fatalf("vcsim-ferry: create: %v", err)
		}
		info, err := t.WaitForResult(ctx, nil)
		if err != nil {
			log.Fatalf("vcsim-ferry: create: %v", err)
		}
		fmt.Println(info.Result.(types.ManagedObjectReference).Value)
	default:
		log.Fatalf("vcsim-ferry: -change: unknown operation %q", strings.Join(args, " "))
	}
}
