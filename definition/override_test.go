package definition

import (
	"errors"
	"strings"
	"testing"
)

const overrideSrc = `{"objects": [
  {"id": "Default", "name": "Default", "scheduleType": "ondemand"},
  {"id": "RedshiftCluster", "name": "RedshiftCluster", "type": "RedshiftDatabase",
   "clusterId": "prod", "username": "admin", "*password": "hunter2", "databaseName": "dev"},
  {"id": "Copy.v2", "name": "Copy", "type": "RedshiftCopyActivity", "output": {"ref": "Out"}}
]}`

func TestApplyOverrides(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		obj     string
		key     string
		want    []string // values as Value.String()
		wantErr string
		hint    string
	}{
		{name: "replace own field", args: []string{"RedshiftCluster.username=local"},
			obj: "RedshiftCluster", key: "username", want: []string{"local"}},
		{name: "create absent field", args: []string{"RedshiftCluster.connectionString=jdbc:postgresql://127.0.0.1:5432/dev?sslmode=disable"},
			obj: "RedshiftCluster", key: "connectionString", want: []string{"jdbc:postgresql://127.0.0.1:5432/dev?sslmode=disable"}},
		{name: "secret field", args: []string{"RedshiftCluster.*password=s3cret"},
			obj: "RedshiftCluster", key: "*password", want: []string{"s3cret"}},
		{name: "id with dots", args: []string{"Copy.v2.insertMode=TRUNCATE"},
			obj: "Copy.v2", key: "insertMode", want: []string{"TRUNCATE"}},
		{name: "reference value", args: []string{`Copy.v2.output={"ref":"RedshiftCluster"}`},
			obj: "Copy.v2", key: "output", want: []string{`{"ref":"RedshiftCluster"}`}},
		{name: "repeat builds a list", args: []string{"Copy.v2.commandOptions=CSV", "Copy.v2.commandOptions=IGNOREHEADER 1"},
			obj: "Copy.v2", key: "commandOptions", want: []string{"CSV", "IGNOREHEADER 1"}},
		{name: "Default object", args: []string{"Default.scheduleType=cron"},
			obj: "Default", key: "scheduleType", want: []string{"cron"}},
		{name: "unknown object suggests", args: []string{"RedshiftClustr.username=x"},
			wantErr: `no object with id "RedshiftClustr"`, hint: `did you mean "RedshiftCluster"?`},
		{name: "unknown object no close match", args: []string{"Nothing.username=x"},
			wantErr: `no object with id "Nothing"`},
		{name: "no equals", args: []string{"RedshiftCluster.username"}, wantErr: "want ObjectId.field=value"},
		{name: "no field", args: []string{"RedshiftCluster=x"}, wantErr: "no object id or field"},
		{name: "empty field", args: []string{"RedshiftCluster.=x"}, wantErr: "no object id or field"},
		{name: "id not overridable", args: []string{"RedshiftCluster.id=x"}, wantErr: "id cannot be overridden"},
		{name: "empty ref", args: []string{`Copy.v2.output={"ref":""}`}, wantErr: "empty reference"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse("p.json", []byte(overrideSrc))
			if err != nil {
				t.Fatal(err)
			}
			d.Resolve() // overrides must invalidate earlier resolution
			ovs, err := ApplyOverrides(d, tc.args)
			if tc.wantErr != "" {
				var oe *OverrideError
				if !errors.As(err, &oe) {
					t.Fatalf("err = %v, want *OverrideError", err)
				}
				if !strings.Contains(err.Error(), tc.wantErr) || oe.Hint != tc.hint {
					t.Fatalf("err = %q (hint %q), want %q (hint %q)", err, oe.Hint, tc.wantErr, tc.hint)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ovs) != len(tc.args) {
				t.Fatalf("got %d overrides, want %d", len(ovs), len(tc.args))
			}
			o := d.Object(tc.obj)
			f := o.Field(tc.key)
			if f == nil {
				t.Fatalf("%s has no field %s after override", tc.obj, tc.key)
			}
			var got []string
			for _, v := range f.Values {
				got = append(got, v.String())
				if v.Pos.File != OverrideFile || v.Pos.Line < 1 || v.Pos.Col < 1 {
					t.Errorf("value position %v, want %s:n:c", v.Pos, OverrideFile)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("values = %q, want %q", got, tc.want)
			}
			if f.Pos.File != OverrideFile {
				t.Errorf("field position %v, want %s", f.Pos, OverrideFile)
			}
			if n := countKey(o, tc.key); n != 1 {
				t.Errorf("%d fields named %s, want exactly 1", n, tc.key)
			}
			// The effective view (inheritance) sees the override.
			d.Resolve()
			if e := d.Effective(o).Get(tc.key); e == nil || e.First().String() != tc.want[0] {
				t.Errorf("effective %s = %v, want %q", tc.key, e, tc.want[0])
			}
		})
	}
}

func TestOverrideInheritedByChildren(t *testing.T) {
	d, err := Parse("p.json", []byte(overrideSrc))
	if err != nil {
		t.Fatal(err)
	}
	d.Resolve()
	if _, err := ApplyOverrides(d, []string{"Default.failureAndRerunMode=cascade"}); err != nil {
		t.Fatal(err)
	}
	if got := d.Effective(d.Object("Copy.v2")).Str("failureAndRerunMode"); got != "cascade" {
		t.Fatalf("inherited failureAndRerunMode = %q, want cascade", got)
	}
	// A database has no failureAndRerunMode: it does not inherit one.
	if got := d.Effective(d.Object("RedshiftCluster")).Get("failureAndRerunMode"); got != nil {
		t.Fatalf("RedshiftDatabase inherited failureAndRerunMode %v", got.Values)
	}
}

func TestOverridePositions(t *testing.T) {
	ov, err := ParseOverride("RedshiftCluster.*password=abc", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := ov.Value.Pos.String(); got != "--set:3:27" {
		t.Errorf("position %s, want --set:3:27", got)
	}
	if ov.DisplayValue() != "********" || strings.Contains(ov.Arg, "abc") {
		t.Errorf("secret shown: display %q, arg %q", ov.DisplayValue(), ov.Arg)
	}
	// Secrets never appear in errors either.
	_, err = ParseOverride("X.*password", 1)
	if err == nil || strings.Contains(err.Error(), "hunter") {
		t.Fatalf("err = %v", err)
	}
	d, _ := Parse("p.json", []byte(overrideSrc))
	_, err = ApplyOverrides(d, []string{"Nope.*password=hunter2"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("secret value in error: %v", err)
	}
}

func countKey(o *Object, key string) int {
	n := 0
	for _, f := range o.Fields {
		if f.Key == key {
			n++
		}
	}
	return n
}
