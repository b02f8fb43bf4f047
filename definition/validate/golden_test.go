package validate

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under definition/testdata/golden")

// goldenInputs: an error, a warning-only file, a syntax error and a valid
// file, so every output shape is exercised.
var goldenInputs = []string{
	"../testdata/invalid/missing-ref.json",
	"../testdata/invalid/limit-retries.json",
	"../testdata/invalid/syntax-trailing-comma.json",
	"../../fixtures/valid/ondemand.json",
}

func goldenResults(t *testing.T, paths []string) []*Result {
	t.Helper()
	var rs []*Result
	for _, p := range paths {
		r, err := File(p, Options{Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return rs
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./definition/validate -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGoldenText(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, goldenResults(t, goldenInputs), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "text.golden", b.Bytes())
	b.Reset()
	if err := WriteText(&b, goldenResults(t, goldenInputs[:1]), TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "text-color.golden", b.Bytes())
}

func TestGoldenJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, goldenResults(t, goldenInputs)); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "multi.json.golden", b.Bytes())
	var many []map[string]any
	if err := json.Unmarshal(b.Bytes(), &many); err != nil || len(many) != len(goldenInputs) {
		t.Fatalf("several files must give an array of %d documents: %v", len(goldenInputs), err)
	}
	b.Reset()
	if err := WriteJSON(&b, goldenResults(t, goldenInputs[:1])); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "single.json.golden", b.Bytes())
	var one struct {
		Errored          bool `json:"errored"`
		ValidationErrors []struct {
			ID     string   `json:"id"`
			Errors []string `json:"errors"`
		} `json:"validationErrors"`
	}
	if err := json.Unmarshal(b.Bytes(), &one); err != nil {
		t.Fatal(err)
	}
	if !one.Errored || len(one.ValidationErrors) != 1 || one.ValidationErrors[0].ID != "Greet" {
		t.Errorf("service shape wrong: %+v", one)
	}
}

func TestGoldenSARIF(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSARIF(&b, goldenResults(t, goldenInputs), "test"); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "sarif.golden", b.Bytes())
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
				Level  string `json:"level"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 3 {
		t.Errorf("unexpected SARIF: %+v", log)
	}
}
