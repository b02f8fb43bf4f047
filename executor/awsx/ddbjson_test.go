package awsx

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var update = flag.Bool("update", false, "rewrite golden files")

// allTypesItem uses every DynamoDB attribute type, including nesting,
// empty L/M and characters that need JSON escaping.
func allTypesItem() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":    &types.AttributeValueMemberS{Value: "id-1 \"quoted\" <tag> & \\ é\n"},
		"num":   &types.AttributeValueMemberN{Value: "-12.50E+3"},
		"bin":   &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 0xff}},
		"ss":    &types.AttributeValueMemberSS{Value: []string{"a", "b,c"}},
		"ns":    &types.AttributeValueMemberNS{Value: []string{"1", "2.5", "-3"}},
		"bs":    &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}},
		"map":   &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"inner": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberBOOL{Value: false}, &types.AttributeValueMemberNULL{Value: true}}}}},
		"list":  &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberN{Value: "7"}, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}}},
		"empty": &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
		"yes":   &types.AttributeValueMemberBOOL{Value: true},
		"nul":   &types.AttributeValueMemberNULL{Value: true},
	}
}

func TestItemEncodingGolden(t *testing.T) {
	line, err := MarshalItem(allTypesItem())
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "all_types.line")
	if *update {
		os.WriteFile(golden, append(line, '\n'), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(append(line, '\n'), want) {
		t.Fatalf("encoding changed:\n got %s\nwant %s", line, want)
	}
	back, err := UnmarshalItem(line)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, allTypesItem()) {
		t.Fatalf("round trip mismatch:\n got %#v", back)
	}
}

func TestItemDecodingOtherShapes(t *testing.T) {
	want := map[string]types.AttributeValue{
		"id":     &types.AttributeValueMemberS{Value: "Seattle"},
		"scores": &types.AttributeValueMemberNS{Value: []string{"100", "30"}},
		"ok":     &types.AttributeValueMemberBOOL{Value: true},
		"gone":   &types.AttributeValueMemberNULL{Value: true},
		"tags":   &types.AttributeValueMemberSS{Value: []string{"x"}},
		"raw":    &types.AttributeValueMemberBS{Value: [][]byte{[]byte("hi")}},
	}
	tests := map[string]string{
		// Newer connector (SDK v2 AttributeValueSerializer): lower-cased names.
		"v2 lowercase": `{"id":{"s":"Seattle"},"scores":{"ns":["100","30"]},"ok":{"bool":true},"gone":{"null":true},"tags":{"ss":["x"]},"raw":{"bs":["aGk="]}}`,
		// Upper-case DynamoDB JSON is accepted too (case-insensitive match).
		"upper": `{"id":{"S":"Seattle"},"scores":{"NS":["100","30"]},"ok":{"BOOL":true},"gone":{"NULL":true},"tags":{"SS":["x"]},"raw":{"BS":["aGk="]}}`,
		// Old Hive export: ^B between attributes, ^C between name and value.
		"hive ^B^C": "id\x03{\"s\":\"Seattle\"}\x02scores\x03{\"nS\":[\"100\",\"30\"]}\x02ok\x03{\"bOOL\":true}\x02gone\x03{\"nULLValue\":true}\x02tags\x03{\"sS\":[\"x\"]}\x02raw\x03{\"bS\":[\"aGk=\"]}",
	}
	for name, line := range tests {
		got, err := UnmarshalItem([]byte(line))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v", name, got)
		}
	}
}

func TestItemDecodingErrors(t *testing.T) {
	for _, line := range []string{
		`not json`,
		`{"a":"bare string"}`,
		`{"a":{"zz":1}}`,
		`{"a":{"sS":[]}}`,
		`{"a":{"b":"%%%"}}`,
	} {
		if _, err := UnmarshalItem([]byte(line)); err == nil {
			t.Errorf("UnmarshalItem(%s) succeeded", line)
		}
	}
}

func BenchmarkMarshalItem(b *testing.B) {
	item := allTypesItem()
	for b.Loop() {
		if _, err := MarshalItem(item); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalItem(b *testing.B) {
	line, _ := MarshalItem(allTypesItem())
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := UnmarshalItem(line); err != nil {
			b.Fatal(err)
		}
	}
}

func TestExportScanLimit(t *testing.T) {
	// 10 RCU provisioned at 0.5 with 1 worker: 5 units/s, 8 KiB each,
	// 1 KiB items -> 40 items per page.
	c := Capacity{Read: 10, ItemCount: 100, SizeBytes: 100 * 1024}
	if got := exportScanLimit(c, 0.5, 1); got != 40 {
		t.Errorf("limit = %d, want 40", got)
	}
	// On demand (40000 units) is not limited.
	if got := exportScanLimit(Capacity{Read: OnDemandCapacity}, 0.5, 4); got != 0 {
		t.Errorf("on-demand limit = %d, want 0", got)
	}
	// Huge items still read one per page.
	if got := exportScanLimit(Capacity{Read: 1, ItemCount: 1, SizeBytes: 400 << 10}, 0.1, 8); got != 1 {
		t.Errorf("limit = %d, want 1", got)
	}
}
