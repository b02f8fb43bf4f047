package hive

import (
	"strings"
	"testing"
)

func TestDelimitedGroupByRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.put("s3://b/in/part1.csv", "a,1\nb,2\na,3\nc,-1\n")
	e.put("s3://b/in/_SUCCESS", "")
	e.run(`
SET hive.exec.dynamic.partition=true;
CREATE EXTERNAL TABLE src (k STRING, v INT)
ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LINES TERMINATED BY '\n'
LOCATION 's3://b/in/';
CREATE EXTERNAL TABLE dst (k STRING, n BIGINT, total DOUBLE)
ROW FORMAT DELIMITED FIELDS TERMINATED BY '\t'
LOCATION 's3://b/out';
INSERT OVERWRITE TABLE dst SELECT k, count(*), sum(v) / 1 FROM src WHERE v > 0 GROUP BY k ORDER BY k;
`)
	if got, want := e.get("s3://b/out/000000_0"), "a\t2\t4.0\nb\t1\t2.0\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestSyntaxErrorHasLineAndColumn(t *testing.T) {
	e := newEnv(t)
	he := e.fail("SET a=b;\n\nCREATE TABLE t (a STRING,\n  b INT\n) ROW FORMAT DELIMITED FIELDS TERMINATED ',';")
	if he.Code != CodeSyntax || he.Line != 5 || he.Col != 42 {
		t.Errorf("got %s at %d:%d (%v), want a syntax error at 5:42", he.Code, he.Line, he.Col, he)
	}
	if !strings.Contains(he.Error(), "expected BY") {
		t.Errorf("message %q does not say what was expected", he.Error())
	}
}
