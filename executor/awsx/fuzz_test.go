package awsx

import (
	"reflect"
	"testing"
)

// FuzzUnmarshalItem: export lines come from files anyone may have written;
// decoding must never panic, and what decodes must re-encode stably.
func FuzzUnmarshalItem(f *testing.F) {
	line, _ := MarshalItem(allTypesItem())
	f.Add(line)
	f.Add([]byte(`{"a":{"ns":[1,"2"]},"b":{"null":true}}`))
	f.Add([]byte("id\x03{\"s\":\"x\"}\x02n\x03{\"n\":\"1\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		item, err := UnmarshalItem(data)
		if err != nil {
			return
		}
		enc, err := MarshalItem(item)
		if err != nil {
			t.Fatalf("decoded item does not encode: %v", err)
		}
		again, err := UnmarshalItem(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if !reflect.DeepEqual(item, again) {
			t.Fatalf("unstable round trip:\n%#v\n%#v", item, again)
		}
	})
}

// FuzzParseDynamoDBToolStep: step strings are user input after expression
// evaluation; parsing must never panic and recognised steps must carry
// either a usable table and path or an error.
func FuzzParseDynamoDBToolStep(f *testing.F) {
	f.Add("s3://dynamodb-emr-us-east-1/emr-ddb-storage-handler/2.1.0/emr-ddb-2.1.0.jar,org.apache.hadoop.dynamodb.tools.DynamoDbExport,s3://b/p,T,0.25")
	f.Add(`x.jar,DynamoDbImport,s3://b/p\,q,T`)
	f.Add(`,\,\\,`)
	f.Fuzz(func(t *testing.T, step string) {
		ts, ok := ParseDynamoDBToolStep(step)
		if ok && ts.Err == nil && (ts.Table == "" || ts.Dir == "" || ts.Kind == "") {
			t.Fatalf("recognised step without table/path/kind and no error: %+v", ts)
		}
		_ = UnsupportedStepReason(step)
	})
}
