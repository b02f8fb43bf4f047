package definition

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestStreamedParseMatchesTree: reading the file format while it is parsed
// (objects streamed, their JSON trees dropped) gives the same Definition,
// diagnostics in the same order, as reading the whole tree; inputs that
// are not plainly the file format fall back to the tree.
func TestStreamedParseMatchesTree(t *testing.T) {
	inputs := map[string]string{
		"objects twice":          `{"objects": [{"id": "A", "name": "A"}], "objects": [{"id": "B", "name": "B"}]}`,
		"api-shaped in the list": `{"objects": [{"id": "A", "name": "A", "type": "x"}, {"id": "B", "name": "B", "fields": [{"key": "type", "stringValue": "S3DataNode"}]}]}`,
		"api keys after objects": `{"objects": [{"id": "A", "name": "A"}], "pipelineObjects": [{"id": "B", "name": "B", "fields": []}]}`,
		"parameters first, errors everywhere": `{"parameters": [{"id": "myP", "type": "String", "id": "myQ"}], "x": 1,
			"objects": [{"id": "A", "id": "A2", "n": 3, "l": [], "r": {"ref": 4}, "o": {"a": 1}, "nested": [["x"]]}, 7, {"name": "no id"},
			{"id": "Big", "name": "Big", "list": ["` + strings.Repeat(`a", "`, 600) + `b"]}], "values": {"myP": "v", "myP": "w"}}`,
		"objects not a list": `{"objects": {"id": "A"}}`,
		"no objects":         `{"parameters": []}`,
		"empty objects":      `{"objects": []}`,
	}
	files, _ := filepath.Glob("testdata/*/*.json")
	fixtures, _ := filepath.Glob("../fixtures/*/*.json")
	for _, f := range append(files, fixtures...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = string(data)
	}
	for name, src := range inputs {
		data := []byte(src)
		streamed, err1 := Parse("x.json", data)
		root, err2 := parseJSON("x.json", data)
		if (err1 == nil) != (err2 == nil) {
			t.Errorf("%s: streamed error %v, tree error %v", name, err1, err2)
			continue
		}
		if err1 != nil {
			continue
		}
		tree, err := fromTree("x.json", root, newLineIndex("x.json", data), ReadOptions{})
		if err != nil {
			if _, err := Parse("x.json", data); err == nil {
				t.Errorf("%s: tree failed (%v) but streaming did not", name, err)
			}
			continue
		}
		if !reflect.DeepEqual(streamed, tree) {
			t.Errorf("%s: streamed and tree parses differ:\n%+v\n%+v", name, streamed.Diagnostics, tree.Diagnostics)
		}
	}
}
