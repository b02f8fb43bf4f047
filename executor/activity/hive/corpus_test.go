package hive

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusHiveScript returns the hiveScript of an object of a corpus sample,
// or skips when the corpus is absent.
func corpusHiveScript(t *testing.T, sample, id string) string {
	t.Helper()
	for _, dir := range []string{os.Getenv("DPL_CORPUS_DIR"), "../../../../shared/corpus/files", "/work/shared/corpus/files"} {
		if dir == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "awslabs-data-pipeline-samples", sample))
		if err != nil {
			continue
		}
		var doc struct {
			Objects []map[string]any `json:"objects"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		for _, o := range doc.Objects {
			if o["id"] == id {
				return o["hiveScript"].(string)
			}
		}
		t.Fatalf("%s has no object %s", sample, id)
	}
	t.Skipf("SKIPPING corpus test: %s not found (set DPL_CORPUS_DIR)", sample)
	return ""
}

// DynamoDBImport/XMLtoDynamoDBImport needs the IBM XML SerDe from a jar:
// the script stops at its first statement, naming the jar.
func TestCorpusXMLSerDeSampleFailsPrecisely(t *testing.T) {
	script := corpusHiveScript(t, "samples__DynamoDBImport__XMLtoDynamoDBImport.json", "TableBackupActivity")
	e := newEnv(t)
	he := e.fail(script)
	want := "line 1, column 1: ADD JAR s3://data-pipeline-samples/dynamodbxml/hivexmlserde-1.0.5.3.jar: unknown jar; the embedded Hive runs no Java code"
	if he.Code != CodeUnsupported || !strings.HasPrefix(he.Error(), want) || !strings.Contains(he.Error(), "--emr host") {
		t.Errorf("error = %v\nwant it to start %q", he, want)
	}
	// Without the ADD JAR the CREATE TABLE names the SerDe class.
	rest := script[strings.Index(script, "\n")+1:]
	he = e.fail(rest)
	if he.Line != 3 || !strings.Contains(he.Error(), "ROW FORMAT SERDE 'com.ibm.spss.hive.serde2.xml.XmlSerDe' is not supported") {
		t.Errorf("error = %v", he)
	}
}
