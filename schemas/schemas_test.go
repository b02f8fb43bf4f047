package schemas

import (
	"errors"
	"strings"
	"testing"
)

func rf(id string) map[string]any { return map[string]any{"ref": id} }

// validInstances holds, for every type, a small effective instance the
// service would accept.
var validInstances = map[string]map[string]any{
	"S3DataNode":       {"directoryPath": "s3://bucket/in/#{format(@scheduledStartTime,'YYYY-MM-dd')}", "dataFormat": rf("Csv"), "schedule": rf("Sched"), "compression": "GZIP"},
	"SqlDataNode":      {"table": "events", "database": rf("Db"), "selectQuery": "select * from #{table}"},
	"MySqlDataNode":    {"table": "events", "connectionString": "jdbc:mysql://h/db", "username": "u", "*password": "p"},
	"DynamoDBDataNode": {"tableName": "t", "readThroughputPercent": "0.25", "region": "us-east-1"},
	"RedshiftDataNode": {"tableName": "t", "database": rf("Rs"), "primaryKeys": "id"},
	"CopyActivity":     {"input": rf("In"), "output": rf("Out"), "runsOn": rf("Ec2")},
	"ShellCommandActivity": {"command": "echo hi", "workerGroup": "wg", "scriptArgument": []any{"a", "b"},
		"stage": "TRUE", "maximumRetries": "#{myRetries}", "retryDelay": "2 Minutes", "onLateAction": []any{rf("Kill")},
		"lateAfterTimeout": "1 hour", "dependsOn": []any{rf("A"), rf("B")}, "myNote": "x", "*mySecret": "s"},
	"SqlActivity":          {"database": rf("Db"), "script": "select 1", "runsOn": rf("Ec2")},
	"EmrActivity":          {"runsOn": rf("Emr"), "step": []any{"s3://b/x.jar,a", "s3://b/y.jar"}, "resizeClusterBeforeRunning": "false"},
	"HadoopActivity":       {"jarUri": "s3://b/x.jar", "argument": []any{"a"}, "runsOn": rf("Emr")},
	"HiveActivity":         {"input": rf("In"), "output": rf("Out"), "hiveScript": "select 1", "workerGroup": "wg"},
	"HiveCopyActivity":     {"input": rf("In"), "output": rf("Out"), "filterSql": "a > 1", "runsOn": rf("Emr")},
	"PigActivity":          {"scriptUri": "s3://b/x.pig", "runsOn": rf("Emr"), "scriptVariable": []any{"A=1"}},
	"RedshiftCopyActivity": {"insertMode": "truncate", "input": rf("In"), "output": rf("Out"), "runsOn": rf("Ec2")},
	"Ec2Resource": {"role": "DataPipelineDefaultRole", "resourceRole": "DataPipelineDefaultResourceRole",
		"terminateAfter": "2 Hours", "instanceType": "m5.large", "securityGroupIds": []any{"sg-1", "sg-2"}, "spotBidPrice": "0.5"},
	"EmrCluster": {"releaseLabel": "emr-5.36.0", "applications": []any{"spark", "hive"}, "terminateAfter": "3",
		"coreInstanceCount": "2", "coreInstanceBidPrice": "OnDemandPrice", "configuration": []any{rf("Conf")}},
	"HttpProxy":                {"hostname": "proxy", "port": "3128", "s3NoProxy": "true"},
	"DynamoDBDataExists":       {"role": "r", "tableName": "t"},
	"DynamoDBTableExists":      {"role": "r", "tableName": "t", "preconditionTimeout": "1 hour"},
	"S3KeyExists":              {"role": "r", "s3Key": "s3://b/k"},
	"S3PrefixNotEmpty":         {"role": "r", "s3Prefix": "s3://b/p/"},
	"ShellCommandPrecondition": {"command": "test -f x", "workerGroup": "wg"},
	"Exists":                   {},
	"JdbcDatabase":             {"connectionString": "jdbc:postgresql://h/db", "jdbcDriverClass": "org.postgresql.Driver", "username": "u", "*password": "p"},
	"RdsDatabase":              {"rdsInstanceId": "db1", "username": "u", "*password": "p", "jdbcProperties": []any{"a=b"}},
	"RedshiftDatabase":         {"clusterId": "c1", "username": "u", "*password": "p"},
	"CSV":                      {"column": []any{"a STRING", "b INT"}},
	"TSV":                      {"columnSeparator": "\t"},
	"Custom":                   {"columnSeparator": "|"},
	"RegEx":                    {"inputRegEx": "(.*) (.*)", "outputFormat": "%1$s %2$s"},
	"DynamoDBDataFormat":       {"column": "a STRING"},
	"DynamoDBExportDataFormat": {},
	"SnsAlarm":                 {"topicArn": "arn:aws:sns:us-east-1:1:t", "subject": "failed", "message": "#{node.name} failed", "role": "r"},
	"Terminate":                {},
	"Schedule":                 {"period": "1 day", "startDateTime": "2024-01-01T00:00:00", "occurrences": "3"},
	"ShellScriptConfig":        {"scriptUri": "s3://b/x.sh", "scriptArgument": "a"},
	"EmrConfiguration":         {"classification": "spark-defaults", "property": []any{rf("P1"), rf("P2")}},
	"Property":                 {"key": "k", "value": "v"},
	"EbsConfiguration":         {"ebsOptimized": "true", "ebsBlockDeviceConfig": []any{rf("Dev")}},
	"EbsBlockDeviceConfig":     {"volumesPerInstance": "2", "volumeSpecification": rf("Vol")},
	"VolumeSpecification":      {"volumeType": "gp2", "sizeInGB": "100", "iops": "#{myIops}"},
}

// instance returns a copy of the valid instance of typ with id, name and type set.
func instance(typ string) map[string]any {
	out := map[string]any{"id": "Obj", "name": "Obj", "type": typ}
	for k, v := range validInstances[typ] {
		out[k] = v
	}
	return out
}

func TestCompileAll(t *testing.T) {
	if _, err := compileAll(); err != nil {
		t.Fatal(err)
	}
	if got := len(TypeNames()); got != 41 {
		t.Errorf("catalogue has %d types, format.md §3 lists 41", got)
	}
}

func TestValidInstances(t *testing.T) {
	for _, name := range TypeNames() {
		if _, ok := validInstances[name]; !ok {
			t.Errorf("no valid instance for %s", name)
			continue
		}
		for _, always := range []bool{false, true} {
			vs, err := validateHow(always, name, instance(name), Options{})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, v := range vs {
				if !v.Warning || name != "MySqlDataNode" {
					t.Errorf("%s (schema=%v): unexpected %s", name, always, v)
				}
			}
		}
	}
}

func with(typ string, set map[string]any, del ...string) map[string]any {
	inst := instance(typ)
	for k, v := range set {
		inst[k] = v
	}
	for _, k := range del {
		delete(inst, k)
	}
	return inst
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		inst    map[string]any
		field   string
		code    string
		msg     string // substring of Message
		hint    string // substring of Hint
		warning bool
	}{
		{"bad period", "ShellCommandActivity", with("ShellCommandActivity", map[string]any{"retryDelay": "5 mins"}),
			"retryDelay", CodeInvalidValue, `value "5 mins" is not a period`, "", false},
		{"seconds period", "ShellCommandActivity", with("ShellCommandActivity", map[string]any{"attemptTimeout": "30 seconds"}),
			"attemptTimeout", CodeInvalidValue, "is not a period", "seconds", false},
		{"zero period", "Ec2Resource", with("Ec2Resource", map[string]any{"terminateAfter": "0 hours"}),
			"terminateAfter", CodeInvalidValue, "is not a period", "", false},
		{"bad integer", "ShellCommandActivity", with("ShellCommandActivity", map[string]any{"maximumRetries": "three"}),
			"maximumRetries", CodeInvalidValue, `"three" is not an integer`, "", false},
		{"bad double", "DynamoDBDataNode", with("DynamoDBDataNode", map[string]any{"readThroughputPercent": "half"}),
			"readThroughputPercent", CodeInvalidValue, "is not a number", "", false},
		{"double out of range", "DynamoDBDataNode", with("DynamoDBDataNode", map[string]any{"writeThroughputPercent": "1.5"}),
			"writeThroughputPercent", CodeInvalidValue, "between 0.1 and 1 inclusive", "", false},
		{"bid price out of range", "Ec2Resource", with("Ec2Resource", map[string]any{"spotBidPrice": "20"}),
			"spotBidPrice", CodeInvalidValue, "greater than 0 and less than 20", "", false},
		{"bad bid price", "EmrCluster", with("EmrCluster", map[string]any{"taskInstanceBidPrice": "cheap"}),
			"taskInstanceBidPrice", CodeInvalidValue, "is not a bid price", "", false},
		{"bad boolean", "ShellCommandActivity", with("ShellCommandActivity", map[string]any{"stage": "yes"}),
			"stage", CodeInvalidValue, "is not a boolean", "", false},
		{"bad enum with hint", "ShellCommandActivity", with("ShellCommandActivity", map[string]any{"scheduleType": "timeserie"}),
			"scheduleType", CodeInvalidValue, "is not one of: cron, ondemand, timeseries", `"timeseries"`, false},
		{"bad datetime", "Schedule", with("Schedule", map[string]any{"startDateTime": "2024-01-01 00:00:00"}),
			"startDateTime", CodeInvalidValue, "value must be a literal datetime value", "", false},
		{"bad region", "DynamoDBDataNode", with("DynamoDBDataNode", map[string]any{"region": "Virginia"}),
			"region", CodeInvalidValue, "is not an AWS region code", "", false},
		{"schedule period too short", "Schedule", with("Schedule", map[string]any{"period": "5 minutes"}),
			"period", CodeInvalidValue, "between 15 minutes and 3 years", "", false},
		{"schedule period too long", "Schedule", with("Schedule", map[string]any{"period": "4 years"}),
			"period", CodeInvalidValue, "out of range", "", false},
		{"string for ref", "CopyActivity", with("CopyActivity", map[string]any{"runsOn": "Ec2"}),
			"runsOn", CodeInvalidValue, `must be a reference such as {"ref": "SomeId"}`, `{"ref": "Ec2"}`, false},
		{"ref for string", "ShellCommandActivity", with("ShellCommandActivity", map[string]any{"command": rf("Cmd")}),
			"command", CodeInvalidValue, `not a reference to "Cmd"`, "", false},
		{"malformed ref", "CopyActivity", with("CopyActivity", map[string]any{"input": map[string]any{"ref": "In", "x": "y"}}),
			"input", CodeInvalidValue, "not a reference", "", false},
		{"empty ref", "CopyActivity", with("CopyActivity", map[string]any{"input": rf("")}),
			"input", CodeInvalidValue, "empty id", "", false},
		{"number not string", "ShellCommandActivity", with("ShellCommandActivity", map[string]any{"maximumRetries": 3.0}),
			"maximumRetries", CodeInvalidValue, "must be a JSON string", "", false},
		{"empty string", "ShellCommandActivity", with("ShellCommandActivity", map[string]any{"workerGroup": ""}),
			"workerGroup", CodeInvalidValue, "must not be empty", "", false},
		{"single-valued list", "Schedule", with("Schedule", map[string]any{"period": []any{"1 day", "2 days"}}),
			"period", CodeInvalidValue, "takes a single value, but the list has 2", "", false},
		{"empty list warns", "CSV", with("CSV", map[string]any{"column": []any{}}),
			"column", CodeInvalidValue, "is an empty list; it is dropped on upload", "", true},
		{"empty list counts as absent", "Property", with("Property", map[string]any{"key": []any{}}),
			"key", CodeMissingRequired, "'key' is required for Property", "", false},
		{"bad list element", "ShellCommandActivity", with("ShellCommandActivity", map[string]any{"dependsOn": []any{rf("A"), "B"}}),
			"dependsOn", CodeInvalidValue, "element 2: must be a reference", "", false},
		{"unknown field with hint", "ShellCommandActivity", with("ShellCommandActivity", map[string]any{"scriptURI": "s3://x"}),
			"scriptURI", CodeUnknownField, "is not a field of ShellCommandActivity", `"scriptUri"`, false},
		{"field of another type", "Ec2Resource", with("Ec2Resource", map[string]any{"runsOn": rf("X")}),
			"runsOn", CodeUnknownField, "is not allowed on Ec2Resource", "", false},
		{"lower-case user field", "CSV", with("CSV", map[string]any{"mycomment": "x"}),
			"mycomment", CodeUnknownField, "is not a field of CSV", `"my"`, false},
		{"runtime @ field", "S3DataNode", with("S3DataNode", map[string]any{"@status": "FINISHED"}),
			"@status", CodeReadOnlyField, "runtime field", "", false},
		{"missing required", "SqlDataNode", with("SqlDataNode", nil, "table"),
			"table", CodeMissingRequired, "'table' is required for SqlDataNode", "", false},
		{"missing secret", "RdsDatabase", with("RdsDatabase", nil, "*password"),
			"*password", CodeMissingRequired, "one of '*password' or 'password'", "", false},
		{"missing one-of", "ShellCommandActivity", with("ShellCommandActivity", nil, "command"),
			"command", CodeMissingRequired, "one of 'command' or 'scriptUri' is required", "", false},
		{"missing runsOn or workerGroup", "HiveActivity", with("HiveActivity", nil, "workerGroup"),
			"runsOn", CodeMissingRequired, "one of 'runsOn' or 'workerGroup'", "", false},
		{"both of exclusive group", "S3DataNode", with("S3DataNode", map[string]any{"filePath": "s3://b/k"}),
			"directoryPath", CodeInvalidCombination, "'directoryPath' cannot be used together with 'filePath'; give only one", "", false},
		{"exclusive pair", "Schedule", with("Schedule", map[string]any{"endDateTime": "2024-02-01T00:00:00"}),
			"endDateTime", CodeInvalidCombination, "cannot be used together with 'occurrences'", "", false},
		{"startAt and startDateTime", "Schedule", with("Schedule", map[string]any{"startAt": "FIRST_ACTIVATION_DATE_TIME"}),
			"startAt", CodeInvalidCombination, "'startAt' cannot be used together with 'startDateTime'", "", false},
		{"ami and release", "EmrCluster", with("EmrCluster", map[string]any{"amiVersion": "3.9.0"}),
			"releaseLabel", CodeInvalidCombination, "cannot be used together with 'amiVersion'", "", false},
		{"wrong type value", "CSV", with("CSV", map[string]any{"type": "TSV"}),
			"type", CodeInvalidValue, `is "TSV" but the object is checked as CSV`, "", false},
		{"deprecated field", "Schedule", with("Schedule", map[string]any{"startAt": "first_activation_date_time"}, "startDateTime"),
			"startAt", CodeDeprecatedField, "is deprecated", "", true},
		{"deprecated type", "MySqlDataNode", instance("MySqlDataNode"),
			"type", CodeDeprecatedType, "MySqlDataNode is deprecated: use SqlDataNode", "", true},
		{"runtime bare field", "ShellCommandActivity", with("ShellCommandActivity", map[string]any{"errorMessage": "boom"}),
			"errorMessage", CodeRuntimeField, "set by the service", "", true},
		{"plain password", "RedshiftDatabase", with("RedshiftDatabase", map[string]any{"password": "p"}, "*password"),
			"password", CodeDeprecatedField, `use "*password"`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, always := range []bool{false, true} {
				vs, err := validateHow(always, tc.typ, tc.inst, Options{})
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, v := range vs {
					if v.Field == tc.field && v.Code == tc.code {
						found = true
						if !strings.Contains(v.Message, tc.msg) || !strings.Contains(v.Hint, tc.hint) || v.Warning != tc.warning {
							t.Errorf("got %q (hint %q, warning %v), want message with %q, hint with %q, warning %v",
								v.Message, v.Hint, v.Warning, tc.msg, tc.hint, tc.warning)
						}
						if !strings.HasPrefix(v.Message, tc.code+": ") {
							t.Errorf("message %q does not start with the code", v.Message)
						}
					}
				}
				if !found {
					t.Errorf("no %s on %q among %v", tc.code, tc.field, vs)
				}
				if !tc.warning {
					for _, v := range vs {
						if v.Field != tc.field && !v.Warning && tc.typ != "MySqlDataNode" {
							t.Errorf("collateral violation %s", v)
						}
					}
				}
			}
		})
	}
}

func TestInheritedUnknownFieldsAreSkipped(t *testing.T) {
	inst := with("ShellCommandActivity", map[string]any{"role": "DataPipelineDefaultRole", "resourceRole": "R", "errorId": "x"})
	fromDefault := map[string]bool{"role": true, "resourceRole": true, "errorId": true}
	vs, err := ValidateWith("ShellCommandActivity", inst, Options{Inherited: func(f string) bool { return fromDefault[f] }})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 0 {
		t.Errorf("inherited fields reported: %v", vs)
	}
	vs, _ = Validate("ShellCommandActivity", inst)
	var codes []string
	for _, v := range vs {
		codes = append(codes, v.Field+":"+v.Code)
	}
	if got := strings.Join(codes, ","); got != "resourceRole:UNKNOWN_FIELD,role:UNKNOWN_FIELD,errorId:RUNTIME_FIELD" {
		t.Errorf("own fields: got %s", got)
	}
}

func TestUnknownType(t *testing.T) {
	_, err := Validate("S3Datanode", map[string]any{})
	var ute *UnknownTypeError
	if !errors.Is(err, ErrUnknownType) || !errors.As(err, &ute) || ute.Suggestion != "S3DataNode" {
		t.Fatalf("got %v", err)
	}
	if _, err := Validate("Frobnicator", nil); err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("far name: %v", err)
	}
	if _, err := Schema("shellcommandactivity"); !errors.Is(err, ErrUnknownType) || !strings.Contains(err.Error(), "ShellCommandActivity") {
		t.Errorf("Schema: %v", err)
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"command", "scriptUri", "scriptArgument", "stage", "stdout", "stderr", "runsOn", "workerGroup"}
	for in, want := range map[string]string{
		"comand": "command", "scripturi": "scriptUri", "scirptUri": "scriptUri", "runOn": "runsOn",
		"WorkerGroup": "workerGroup", "stdrr": "stderr", "xyz": "", "": "", "command": "",
		"scriptArguments": "scriptArgument",
	} {
		if got := Suggest(in, cands); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCatalogMetadata(t *testing.T) {
	typ, ok := TypeInfo("HiveActivity")
	if !ok || typ.Family != FamilyActivity {
		t.Fatalf("HiveActivity: %+v", typ)
	}
	runsOn, ok := typ.Field("runsOn")
	if !ok || runsOn.Kind != KindRef || strings.Join(runsOn.RefTypes, ",") != "EmrCluster" || runsOn.Evaluated {
		t.Errorf("HiveActivity.runsOn = %+v", runsOn)
	}
	if f, _ := typ.Field("scriptVariable"); f == nil || !f.Multi || !f.Evaluated {
		t.Errorf("scriptVariable = %+v", f)
	}
	sched, _ := TypeInfo("Schedule")
	if f, _ := sched.Field("startAt"); f == nil || !f.IsDeprecated() {
		t.Errorf("startAt not deprecated")
	}
	if len(sched.Exclusive) != 1 || sched.Exclusive[0].A != "occurrences" {
		t.Errorf("Schedule exclusive pairs = %+v", sched.Exclusive)
	}
	for _, tt := range Catalog().Types {
		if tt.Family == "" || len(tt.Runtime) == 0 {
			t.Errorf("%s: family %q runtime %v", tt.Name, tt.Family, tt.Runtime)
		}
		for _, g := range tt.OneOf {
			for _, f := range g.Fields {
				if _, ok := tt.Field(f); !ok {
					t.Errorf("%s: one-of field %s unknown", tt.Name, f)
				}
			}
		}
		for _, r := range tt.Required {
			if _, ok := tt.Field(r); !ok {
				t.Errorf("%s: required field %s unknown", tt.Name, r)
			}
		}
		for _, f := range tt.Fields {
			if f.Kind == KindRef {
				for _, target := range f.RefTypes {
					if _, ok := TypeInfo(target); !ok {
						t.Errorf("%s.%s: ref target %s unknown", tt.Name, f.Name, target)
					}
				}
			}
		}
	}
}

func TestFieldsAcrossTypes(t *testing.T) {
	if got := strings.Join(TypesWithField("preconditionTimeout"), ","); got != "DynamoDBDataExists,DynamoDBTableExists,S3KeyExists,S3PrefixNotEmpty,ShellCommandPrecondition,Exists" {
		t.Errorf("TypesWithField(preconditionTimeout) = %s", got)
	}
	if TypesWithField("errorMessage") != nil || TypesWithField("nope") != nil {
		t.Error("runtime or unknown fields must not be listed")
	}
	names := AllFieldNames()
	if Suggest("scheduleTyp", names) != "scheduleType" || len(names) < 100 {
		t.Errorf("AllFieldNames: %d names", len(names))
	}
}

// TestConcurrentValidate exercises the shared compiled schemas and pattern
// cache from several goroutines (meaningful under -race). Odd goroutines
// break retryDelay, which gives exactly one error per type (a bad period, or
// an unknown field where the type has no retryDelay).
func TestConcurrentValidate(t *testing.T) {
	type result struct{ i, errs int }
	done := make(chan result)
	for i := 0; i < 8; i++ {
		go func(i int) {
			errs := 0
			for _, name := range TypeNames() {
				inst := instance(name)
				if i%2 == 1 {
					inst["retryDelay"] = "soon"
				}
				vs, _ := validateHow(i%4 < 2, name, inst, Options{})
				for _, v := range vs {
					if !v.Warning {
						errs++
					}
				}
			}
			done <- result{i, errs}
		}(i)
	}
	for range 8 {
		r := <-done
		want := 0
		if r.i%2 == 1 {
			want = len(TypeNames())
		}
		if r.errs != want {
			t.Errorf("goroutine %d: %d errors, want %d", r.i, r.errs, want)
		}
	}
}

func TestNonJSONValueIsAnError(t *testing.T) {
	inst := with("CSV", map[string]any{"column": []string{"a STRING"}})
	if _, err := Validate("CSV", inst); err == nil || !strings.Contains(err.Error(), "[]string") {
		t.Errorf("got %v, want an error naming the Go type", err)
	}
}

// TestScriptUriTakesArguments: scriptUri with scriptArgument (and stage)
// is what AWS's samples and real pipelines write, and the service runs it,
// so neither shell type reports anything for it (issue 14 item 1).
func TestScriptUriTakesArguments(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		inst map[string]any
	}{
		{"ShellCommandActivity", with("ShellCommandActivity",
			map[string]any{"scriptUri": "s3://b/x.sh", "scriptArgument": []any{"--date", "2024-01-01"}, "stage": "true"}, "command")},
		{"ShellCommandPrecondition", with("ShellCommandPrecondition",
			map[string]any{"scriptUri": "s3://b/check.sh", "scriptArgument": "x"}, "command")},
	} {
		vs, err := ValidateWith(tc.typ, tc.inst, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 0 {
			t.Errorf("%s with scriptUri and scriptArgument: %v, want nothing", tc.typ, vs)
		}
	}
}
