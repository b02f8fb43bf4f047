package schemas

import (
	"encoding/json"
	"testing"
)

// FuzzValidate feeds arbitrary JSON objects to Validate: it must never
// panic, and the allocation-free pre-check must agree with the JSON Schema.
func FuzzValidate(f *testing.F) {
	for _, name := range []string{"ShellCommandActivity", "Schedule", "EmrCluster", "RedshiftDatabase", "S3DataNode"} {
		data, _ := json.Marshal(instance(name))
		f.Add(name, data)
	}
	f.Add("Schedule", []byte(`{"period":["1 day","2 days"],"startAt":{"ref":""},"myX":[{"ref":"a"},3]}`))
	f.Add("CopyActivity", []byte(`{"runsOn":{"ref":"a","b":1},"input":[],"@status":"x","type":"CopyActivity"}`))
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		var inst map[string]any
		if json.Unmarshal(data, &inst) != nil {
			return
		}
		if _, ok := TypeInfo(typ); !ok {
			typ = "ShellCommandActivity"
		}
		fast, err := Validate(typ, inst)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := ValidateWithSchema(typ, inst, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if a, b := render(fast), render(slow); string(a) != string(b) {
			t.Errorf("pre-check and schema disagree on %s:\n%s\n%s", data, a, b)
		}
		for _, v := range slow {
			if v.Message == "" || v.Code == "" {
				t.Errorf("empty violation %+v", v)
			}
		}
	})
}
