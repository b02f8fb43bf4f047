package validate

import (
	"testing"

	"github.com/dpl-dev/dpl/definition"
)

// AWS's Redshift template declares *myRedshiftPassword and reads it as
// #{myRedshiftPassword}: a warning, not an error, and the value resolves.
func TestStarlessSecretParameterReference(t *testing.T) {
	d := parse(t, `{"objects": [
  {"id": "Db", "type": "RedshiftDatabase", "username": "u", "*password": "#{myPw}", "clusterId": "c"}],
 "parameters": [{"id": "*myPw", "type": "String"}],
 "values": {"*myPw": "s3cret"}}`)
	ds := Definition(d, Options{Now: testNow})
	diag := find(ds, codeUnstarredSecret, "Db")
	if diag == nil || diag.Severity != definition.SeverityWarning || diag.Field != "*password" {
		t.Fatalf("want an UNSTARRED_SECRET_PARAMETER warning on Db *password, got:\n%s", dump(ds))
	}
	if Errored(ds) {
		t.Fatalf("want no errors, got:\n%s", dump(ds))
	}
	v, err := d.Scope(d.Object("Db"), definition.ScopeOptions{}).Lookup("myPw")
	if err != nil || v.String() != "s3cret" {
		t.Fatalf("#{myPw} = %v, %v; want the value of *myPw", v, err)
	}
}
