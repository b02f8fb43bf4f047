package emr_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/definition"
	"github.com/dpl-dev/dpl/definition/validate"
	_ "github.com/dpl-dev/dpl/executor/provider/emr" // registers the RunJobFlow check
)

// dpl validate reports, offline, the field errors RunJobFlowRequest would
// raise at run time (through the check emr registers with validate),
// positioned at the field; fields whose value is known only at run time
// are not reported, nor secrets shown.
func TestValidateReportsEmrFieldErrors(t *testing.T) {
	const head = `{"parameters":[{"id":"myCount","type":"String","default":"abc"},{"id":"*myBid","type":"String","default":"99"}],
"objects":[
{"id":"Default","name":"Default","scheduleType":"ondemand","role":"R","resourceRole":"RR"},
`
	for _, tc := range []struct {
		name    string
		objects string // one object per line; the first is the cluster C
		object  string // the finding's object ("" = no finding)
		field   string
		message string
	}{
		{"a valid cluster", `{"id":"C","name":"C","type":"EmrCluster","releaseLabel":"emr-6.15.0","coreInstanceCount":"2"}`, "", "", ""},
		{"release label and AMI version", `{"id":"C","name":"C","type":"EmrCluster","releaseLabel":"emr-6.15.0","amiVersion":"3.11.0"}`,
			"C", "amiVersion", "set releaseLabel or amiVersion, not both"},
		{"a count that is not a number", `{"id":"C","name":"C","type":"EmrCluster","coreInstanceCount":"two"}`,
			"C", "coreInstanceCount", `"two" is not a count`},
		{"a parameter's value is known offline", `{"id":"C","name":"C","type":"EmrCluster","coreInstanceCount":"#{myCount}"}`,
			"C", "coreInstanceCount", `"abc" is not a count`},
		{"a run-time expression is not judged", `{"id":"C","name":"C","type":"EmrCluster","coreInstanceCount":"#{format(@scheduledStartTime,'HH')}x"}`, "", "", ""},
		{"a secret parameter is not judged nor shown", `{"id":"C","name":"C","type":"EmrCluster","coreInstanceCount":"1","coreInstanceBidPrice":"#{*myBid}"}`, "", "", ""},
		{"a bid price out of range", `{"id":"C","name":"C","type":"EmrCluster","taskInstanceCount":"2","taskInstanceBidPrice":"25"}`,
			"C", "taskInstanceBidPrice", `"25": want a price in dollars`},
		{"debugging without a log location", `{"id":"C","name":"C","type":"EmrCluster","enableDebugging":"true"}`,
			"C", "enableDebugging", "debugging needs a log location"},
		{"applications on an AMI cluster", `{"id":"C","name":"C","type":"EmrCluster","amiVersion":"3.11.0","applications":"spark"}`,
			"C", "applications", "applications need a releaseLabel cluster"},
		{"a volume without size, in a referenced object", `{"id":"C","name":"C","type":"EmrCluster","coreEbsConfiguration":{"ref":"E"}}
{"id":"E","name":"E","type":"EbsConfiguration","ebsBlockDeviceConfig":{"ref":"B"}}
{"id":"B","name":"B","type":"EbsBlockDeviceConfig","volumeSpecification":{"ref":"V"}}
{"id":"V","name":"V","type":"VolumeSpecification","volumeType":"gp3"}`,
			"V", "", "a VolumeSpecification needs sizeInGB"},
		{"a property without key", `{"id":"C","name":"C","type":"EmrCluster","configuration":{"ref":"Conf"}}
{"id":"Conf","name":"Conf","type":"EmrConfiguration","classification":"hive-site","property":{"ref":"P"}}
{"id":"P","name":"P","type":"Property","value":"v"}`,
			"P", "", "a Property needs a key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := strings.Split(tc.objects, "\n")
			src := head + strings.Join(lines, ",\n") + "\n]}\n"
			d, err := definition.Parse("emr.json", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			var found []definition.Diagnostic
			for _, dg := range validate.Definition(d, validate.Options{Now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}) {
				if strings.Contains(dg.Hint, "RunJobFlow") {
					found = append(found, dg)
				}
				if strings.Contains(dg.Error(), "99") && strings.Contains(dg.Error(), "BidPrice") {
					t.Errorf("a finding shows the secret bid price: %s", dg.Error())
				}
			}
			if tc.object == "" {
				if len(found) > 0 {
					t.Fatalf("findings %v, want none", found)
				}
				return
			}
			if len(found) != 1 {
				t.Fatalf("findings %v, want one about %s.%s", found, tc.object, tc.field)
			}
			dg := found[0]
			// Where the finding belongs: the field's key, or the object's
			// opening brace when the field is missing.
			srcLines := strings.Split(src, "\n")
			wantLine, wantCol := 0, 0
			for i, l := range srcLines {
				if strings.HasPrefix(l, `{"id":"`+tc.object+`"`) {
					wantLine, wantCol = i+1, 1
					if tc.field != "" {
						wantCol = strings.Index(l, `"`+tc.field+`"`) + 1
					}
				}
			}
			if dg.Severity != definition.SeverityError || dg.ObjectID != tc.object || (tc.field != "" && dg.Field != tc.field) ||
				!strings.Contains(dg.Message, tc.message) {
				t.Errorf("finding %s, want an error on %s field %s: %s", dg.Error(), tc.object, tc.field, tc.message)
			}
			if got, want := dg.Pos.String(), fmt.Sprintf("emr.json:%d:%d", wantLine, wantCol); got != want {
				t.Errorf("finding at %s, want %s (%s)", got, want, dg.Error())
			}
		})
	}
}

// Fields dpl does not send to EMR are warnings at the field.
func TestValidateWarnsAboutUnsupportedEmrFields(t *testing.T) {
	src := `{"objects":[
{"id":"Default","name":"Default","scheduleType":"ondemand","role":"R","resourceRole":"RR"},
{"id":"C","name":"C","type":"EmrCluster","releaseLabel":"emr-6.15.0","httpProxy":{"ref":"P"}},
{"id":"P","name":"P","type":"HttpProxy","hostname":"proxy.internal","port":"3128"}
]}
`
	d, err := definition.Parse("emr.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var found []definition.Diagnostic
	for _, dg := range validate.Definition(d, validate.Options{Now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}) {
		if dg.Code == "UNSUPPORTED_FIELD" {
			found = append(found, dg)
		}
	}
	if len(found) != 1 {
		t.Fatalf("findings %v, want one UNSUPPORTED_FIELD", found)
	}
	dg := found[0]
	if dg.Severity != definition.SeverityWarning || dg.ObjectID != "C" || dg.Field != "httpProxy" || !strings.Contains(dg.Message, "not supported on EMR") {
		t.Errorf("finding %s, want a warning on C.httpProxy", dg.Error())
	}
	if got, want := dg.Pos.String(), "emr.json:3:"+fmt.Sprint(strings.Index(strings.Split(src, "\n")[2], `"httpProxy"`)+1); got != want {
		t.Errorf("finding at %s, want %s", got, want)
	}
}
