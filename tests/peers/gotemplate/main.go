// gotemplate: the reference side of ferry's template conformance test and
// benchmark.  Evaluates every template of a corpus with Go's text/template
// and Sprig, on the fixed data set the C driver (tests/template-eval) uses,
// and prints one result per template in the same format.
//
//	gotemplate corpus FILE
//	gotemplate bench N TEMPLATE
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig"

	"gotemplate/api"
)

func data(kind string) interface{} {
	switch kind {
	case "volume":
		return api.VolumeNameTemplateData{PVCName: "plan-vm-disk-0", VolumeIndex: 3}
	case "network":
		return api.NetworkNameTemplateData{NetworkName: "ovn-net", NetworkNamespace: "default", NetworkType: "multus", NetworkIndex: 1}
	case "custom":
		return api.TemplateData{Name: "Hello, World", Empty: "", Num: 42, Neg: -7, Flag: false,
			List: []string{"a", "B", "c d"}, None: []string{}}
	}
	return api.PVCNameTemplateData{VmName: "My.VM_01 Ünïcode", TargetVmName: "my-vm-01",
		PlanName: "migration-plan-production-east", VmId: "vm-1234", DiskIndex: 2,
		RootDiskIndex: 0, Shared: true, FileName: "[datastore1] my vm/my vm_1.vmdk",
		WinDriveLetter: "c", DiskId: "6000C29a-1b2c-3d4e"}
}

// escape: printable ASCII as is, backslash doubled, other bytes \xHH.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString("\\\\")
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "\\x%02x", c)
		}
	}
	return b.String()
}

func eval(kind, text string) string {
	t, err := template.New(kind).Funcs(sprig.TxtFuncMap()).Parse(text)
	if err != nil {
		return "err:" + escape(err.Error())
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data(kind)); err != nil {
		return "err:" + escape(err.Error())
	}
	return "ok:" + escape(buf.String())
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "corpus" {
		f, err := os.Open(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		line := 0
		for sc.Scan() {
			line++
			kind, text, ok := parseLine(sc.Text())
			if !ok {
				continue
			}
			fmt.Printf("%d %s\n", line, eval(kind, text))
		}
		return
	}
	if len(os.Args) == 4 && os.Args[1] == "bench" {
		n, _ := strconv.Atoi(os.Args[2])
		t := template.Must(template.New("pvc").Funcs(sprig.TxtFuncMap()).Parse(os.Args[3]))
		d := data("pvc").(api.PVCNameTemplateData)
		var buf bytes.Buffer
		total := 0
		start := time.Now()
		for i := 0; i < n; i++ {
			d.DiskIndex = i
			buf.Reset()
			if err := t.Execute(&buf, d); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			total += buf.Len()
		}
		el := time.Since(start).Seconds()
		fmt.Printf("go %d %.3f %.0f %d\n", n, el, float64(n)/el, total)
		return
	}
	fmt.Fprintln(os.Stderr, "usage: gotemplate corpus FILE | bench N TEMPLATE")
	os.Exit(2)
}

// parseLine: "# ..." and blank lines are skipped; "@kind " selects the
// data set (pvc by default); U+23CE stands for a newline.
func parseLine(s string) (kind, text string, ok bool) {
	if s == "" || strings.HasPrefix(s, "#") {
		return "", "", false
	}
	kind = "pvc"
	if strings.HasPrefix(s, "@") {
		sp := strings.IndexByte(s, ' ')
		if sp < 0 {
			return "", "", false
		}
		kind, s = s[1:sp], s[sp+1:]
	}
	return kind, strings.ReplaceAll(s, "\u23ce", "\n"), true
}
