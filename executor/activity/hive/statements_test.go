package hive

import (
	"context"
	"strings"
	"testing"
)

func TestPartitionsStaticDynamicAndRepair(t *testing.T) {
	e := newEnv(t)
	e.put("s3://b/raw/x.tsv", "2024-01-01\tu1\t3\n2024-01-01\tu2\t\\N\n2024-01-02\tu1\t5\n")
	e.run(`
CREATE EXTERNAL TABLE raw (day STRING, user_id STRING, clicks INT)
  ROW FORMAT DELIMITED FIELDS TERMINATED BY '\t' LOCATION 's3://b/raw';
CREATE EXTERNAL TABLE daily (user_id STRING, clicks INT) PARTITIONED BY (dt STRING)
  ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://b/daily/';
INSERT OVERWRITE TABLE daily PARTITION (dt) SELECT user_id, clicks, day FROM raw ORDER BY user_id;
INSERT INTO TABLE daily PARTITION (dt='2024-01-02') SELECT 'u9', 9 FROM raw LIMIT 1;
`)
	if got := e.keys("s3://b/daily/"); strings.Join(got, " ") != "dt=2024-01-01/000000_0 dt=2024-01-02/000000_0 dt=2024-01-02/000000_0_copy_1" {
		t.Fatalf("files = %v", got)
	}
	if got, want := e.get("s3://b/daily/dt=2024-01-01/000000_0"), "u1,3\nu2,\\N\n"; got != want {
		t.Errorf("partition file = %q, want %q", got, want)
	}
	// A second session sees the folders only after MSCK REPAIR TABLE.
	e2 := newEnv(t)
	e2.store = e.store
	e2.s.opts.Store = e.store
	e2.run(`
CREATE EXTERNAL TABLE daily (user_id STRING, clicks INT) PARTITIONED BY (dt STRING)
  ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://b/daily';
SELECT count(*) FROM daily;
MSCK REPAIR TABLE daily;
SELECT dt, count(*), sum(clicks) FROM daily GROUP BY dt ORDER BY dt;
ALTER TABLE daily ADD IF NOT EXISTS PARTITION (dt='2024-01-03') LOCATION 's3://b/elsewhere/';
`)
	if got, want := e2.stdout.String(), "0\n2024-01-01\t2\t3\n2024-01-02\t2\t14\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestRowFormats(t *testing.T) {
	e := newEnv(t)
	e.put("s3://b/csv/a.csv", "id,name,score\n1,\"Smith, J\",2.5\n2,\"say \"\"hi\"\"\",\n")
	e.put("s3://b/log/access.log", "127.0.0.1 GET /index.html 200\nbad line\n10.0.0.2 POST /api 500\n")
	e.put("s3://b/json/x.json", "{\"Id\":1,\"tags\":[\"a\",\"b\"],\"m\":{\"k\":\"v\"},\"ok\":true}\n{\"Id\":2,\"tags\":[],\"ok\":false}\n")
	e.put("s3://b/coll/x", "1\ta|b|c\tx:1|y:2\n")
	e.run(`
CREATE EXTERNAL TABLE c (id STRING, name STRING, score STRING)
  ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' LOCATION 's3://b/csv'
  TBLPROPERTIES ("skip.header.line.count"="1");
CREATE EXTERNAL TABLE logs (ip STRING, method STRING, path STRING, status INT)
  ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'
  WITH SERDEPROPERTIES ("input.regex" = "([^ ]*) ([A-Z]+) ([^ ]*) ([0-9]+)")
  LOCATION 's3://b/log/';
CREATE EXTERNAL TABLE j (id INT, tags ARRAY<STRING>, m MAP<STRING,STRING>, ok BOOLEAN)
  ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://b/json';
CREATE EXTERNAL TABLE coll (id INT, items ARRAY<STRING>, kv MAP<STRING,INT>)
  ROW FORMAT DELIMITED FIELDS TERMINATED BY '\t' COLLECTION ITEMS TERMINATED BY '|' MAP KEYS TERMINATED BY ':'
  LOCATION 's3://b/coll';
CREATE TABLE out_csv (id STRING, name STRING) ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
  LOCATION 's3://b/outcsv';
INSERT OVERWRITE TABLE out_csv SELECT id, name FROM c;
CREATE TABLE out_json (id INT, n INT, ok BOOLEAN) ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe' LOCATION 's3://b/outjson';
INSERT OVERWRITE TABLE out_json SELECT id, size(tags), ok FROM j;
SELECT ip, status FROM logs WHERE status >= 500 OR ip IS NULL ORDER BY ip;
SELECT id, items[1], kv['y'], size(items) FROM coll;
SELECT name, score FROM c ORDER BY id;
SELECT id, tags[0], m['k'] FROM j ORDER BY id;
CREATE TABLE out_coll (id INT, items ARRAY<STRING>) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' COLLECTION ITEMS TERMINATED BY ';' LOCATION 's3://b/outcoll';
INSERT OVERWRITE TABLE out_coll SELECT id, items FROM coll;
`)
	if got, want := e.get("s3://b/outcsv/000000_0"), "\"1\",\"Smith, J\"\n\"2\",\"say \"\"hi\"\"\"\n"; got != want {
		t.Errorf("csv = %q, want %q", got, want)
	}
	if got, want := e.get("s3://b/outjson/000000_0"), "{\"id\":1,\"n\":2,\"ok\":true}\n{\"id\":2,\"n\":0,\"ok\":false}\n"; got != want {
		t.Errorf("json = %q, want %q", got, want)
	}
	if got, want := e.get("s3://b/outcoll/000000_0"), "1,a;b;c\n"; got != want {
		t.Errorf("collections = %q, want %q", got, want)
	}
	want := "NULL\tNULL\n10.0.0.2\t500\n" + "1\tb\t2\t3\n" + "Smith, J\t2.5\nsay \"hi\"\t\n" + "1\ta\tv\n2\tNULL\tNULL\n"
	if got := e.stdout.String(); got != want {
		t.Errorf("stdout =\n%s\nwant\n%s", got, want)
	}
}

func TestFunctions(t *testing.T) {
	e := newEnv(t)
	e.run(`SELECT concat('a', 'b', NULL), concat_ws('-', 'a', NULL, 'c'), nvl(NULL, 'x'), if(1 > 2, 'y', 'n'),
  coalesce(NULL, NULL, 3), CASE WHEN 2 > 1 THEN 'yes' ELSE 'no' END, cast('12' AS INT) + 1, cast(3 AS STRING),
  cast('x' AS INT), 7 / 2, 7 DIV 2, substr('hello', 2, 3), substr('hello', -3), upper('a'), length('héllo'),
  lpad('5', 3, '0'), rpad('ab', 4, '*'), trim('  x '), regexp_extract('foo123bar', '([0-9]+)', 1),
  regexp_replace('a1b22c', '[0-9]+', '#'), split('a,b,,c', ',')[3], size(split('a,b', ',')),
  'abc' RLIKE '^a', 'abc' LIKE 'a%', round(2.5), round(1.2345, 2), floor(-1.5), ceil(1.1), pmod(-7, 3);
SELECT from_unixtime(0), from_unixtime(86400, 'yyyy/MM/dd HH:mm'), unix_timestamp('1970-01-02 00:00:00'),
  unix_timestamp('02/01/1970', 'dd/MM/yyyy'), to_date('2024-03-05 10:11:12'), date_format('2024-03-05 10:11:12', 'yyyyMMdd-HH'),
  datediff('2024-03-05', '2024-02-28'), date_add('2024-02-28', 2), date_sub('2024-03-01', 1), year('2024-03-05'),
  month('2024-03-05 01:02:03'), day('2024-03-05'), hour('2024-03-05 01:02:03'),
  get_json_object('{"a":{"b":[1,2]},"s":"x"}', '$.a.b[1]'), get_json_object('{"a":{"b":1}}', '$.a'),
  get_json_object('{"s":"x"}', '$.s'), get_json_object('not json', '$.s');`)
	want := "NULL\ta-c\tx\tn\t3\tyes\t13\t3\tNULL\t3.5\t3\tell\tllo\tA\t5\t005\tab**\tx\t123\ta#b#c\tc\t2\t1\t1\t3.0\t1.23\t-2\t2\t2\n" +
		"1970-01-01 00:00:00\t1970/01/02 00:00\t86400\t86400\t2024-03-05\t20240305-10\t6\t2024-03-01\t2024-02-29\t2024\t3\t5\t1\t2\t{\"b\":1}\tx\tNULL\n"
	if got := e.stdout.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestJoinsUnionSubqueriesVariables(t *testing.T) {
	e := newEnv(t)
	e.put("s3://b/o/x", "1,10,5\n2,11,7\n3,10,1\n")
	e.put("s3://b/c/x", "10,ann\n11,bob\n12,cy\n")
	e.s.SetVar("MIN", "2")
	e.s.opts.Conf = nil
	e.run(`
SET hiveconf:region=eu;
CREATE EXTERNAL TABLE orders (id INT, cust INT, amount INT) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://b/o';
CREATE EXTERNAL TABLE customers (id INT, name STRING) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://b/c';
SELECT c.name, sum(o.amount) AS total FROM orders o JOIN customers c ON (o.cust = c.id)
  WHERE o.amount >= ${hivevar:MIN} GROUP BY c.name HAVING sum(o.amount) > 1 ORDER BY total DESC;
SELECT c.name, o.id FROM customers c LEFT OUTER JOIN orders o ON o.cust = c.id WHERE o.id IS NULL;
SELECT x FROM (SELECT name AS x FROM customers WHERE id = 10 UNION ALL SELECT '${hiveconf:region}' AS x FROM customers LIMIT 2) u ORDER BY x;
SELECT count(*) FROM orders WHERE cust IN (SELECT id FROM customers WHERE name = '${MIN_UNKNOWN}' OR name = 'bob');
WITH big AS (SELECT * FROM orders WHERE amount > 4) SELECT count(*) FROM big;
SELECT name FROM customers SORT BY name DESC LIMIT 1;
SELECT id FROM orders DISTRIBUTE BY cust SORT BY id LIMIT 1;
SELECT collect_set(cust) FROM orders;
`)
	want := "bob\t7\nann\t5\n" + "cy\tNULL\n" + "ann\neu\n" + "1\n" + "2\n" + "cy\n" + "1\n" + "[10,11]\n"
	if got := e.stdout.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestInsertOverwriteKeepsDataWhenQueryFails(t *testing.T) {
	e := newEnv(t)
	e.put("s3://b/in/x", "1\n2\n")
	e.put("s3://b/out/000000_0", "old\n")
	e.run(`CREATE EXTERNAL TABLE i (v INT) LOCATION 's3://b/in';
CREATE EXTERNAL TABLE o (v STRING) LOCATION 's3://b/out';`)
	he := e.fail(`INSERT OVERWRITE TABLE o SELECT regexp_extract('a', '(a)', 5) FROM i;`)
	if he.Line != 1 || !strings.Contains(he.Error(), "group 5") {
		t.Errorf("error = %v", he)
	}
	if got := e.get("s3://b/out/000000_0"); got != "old\n" {
		t.Errorf("previous data = %q, want it kept", got)
	}
	e.run(`INSERT OVERWRITE TABLE o SELECT v * 2 FROM i;`)
	if got := e.get("s3://b/out/000000_0"); got != "2\n4\n" {
		t.Errorf("new data = %q", got)
	}
}

func TestDirectoryCTASLoadAndDrop(t *testing.T) {
	e := newEnv(t)
	e.put("s3://b/in/x", "a\x011\nb\x01\\N\n")
	e.run(`
CREATE TABLE managed (k STRING, v INT);
LOAD DATA INPATH 's3://b/in' INTO TABLE managed;
CREATE TABLE copy1 AS SELECT k, v * 10 AS v10 FROM managed;
INSERT OVERWRITE DIRECTORY 's3://b/dir' ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' SELECT * FROM copy1 ORDER BY k;
INSERT OVERWRITE DIRECTORY 's3://b/dir2' SELECT k, v FROM managed ORDER BY k;
DROP TABLE managed;
DROP TABLE IF EXISTS nothing;
SELECT count(*) FROM copy1;
`)
	if got, want := e.get("s3://b/dir/000000_0"), "a|10\nb|\\N\n"; got != want {
		t.Errorf("directory = %q, want %q", got, want)
	}
	if got, want := e.get("s3://b/dir2/000000_0"), "a\x011\nb\x01\\N\n"; got != want {
		t.Errorf("directory = %q, want %q", got, want)
	}
	he := e.fail("SELECT * FROM managed;")
	if he.Code != CodeSemantic || !strings.Contains(he.Msg, "Table not found 'managed'") {
		t.Errorf("after DROP: %v", he)
	}
}

func TestRefusals(t *testing.T) {
	cases := []struct {
		name, script, code, want string
		line                     int
	}{
		{"unknown jar", "SET x=1;\nadd jar s3://data-pipeline-samples/dynamodbxml/hivexmlserde-1.0.5.3.jar;", CodeUnsupported,
			"ADD JAR s3://data-pipeline-samples/dynamodbxml/hivexmlserde-1.0.5.3.jar: unknown jar", 2},
		{"xml serde", "CREATE TABLE x (a STRING) ROW FORMAT SERDE 'com.ibm.spss.hive.serde2.xml.XmlSerDe';", CodeUnsupported,
			"ROW FORMAT SERDE 'com.ibm.spss.hive.serde2.xml.XmlSerDe' is not supported", 1},
		{"orc", "CREATE TABLE x (a STRING) STORED AS ORC;", CodeUnsupported, "STORED AS ORC is not supported", 1},
		{"transform", "CREATE TABLE t (a STRING);\nSELECT TRANSFORM (a) USING 'cat' FROM t;", CodeUnsupported, "TRANSFORM is not supported", 2},
		{"udf", "CREATE TABLE t (a STRING);\nSELECT my_udf(a) FROM t;", CodeUnsupported, "the function my_udf() is not supported", 2},
		{"lateral view", "CREATE TABLE t (a ARRAY<STRING>);\nSELECT x FROM t LATERAL VIEW explode(a) v AS x;", CodeUnsupported, "LATERAL VIEW", 2},
		{"outside root", "CREATE EXTERNAL TABLE t (a STRING) LOCATION 's3://b/../../etc';", CodeSemantic, "outside the object store's root", 1},
		{"missing table", "SELECT * FROM nope;", CodeSemantic, "Table not found 'nope'", 1},
		{"unterminated", "SELECT 'abc FROM t;", CodeSyntax, "unterminated string literal", 1},
		{"column count", "CREATE TABLE a (x INT, y INT);\nCREATE TABLE b (x INT);\nINSERT OVERWRITE TABLE a SELECT x FROM b;", CodeSemantic, "column number/types are different", 3},
		{"mapping names missing column", "CREATE EXTERNAL TABLE d (id STRING) STORED BY 'org.apache.hadoop.hive.dynamodb.DynamoDBStorageHandler'\n" +
			"TBLPROPERTIES (\"dynamodb.table.name\"=\"t\", \"dynamodb.column.mapping\"=\"id:Id,name:Name\");", CodeSemantic,
			`maps "name" to attribute "Name", but the table has no column "name"`, 1},
		{"unmapped column", "CREATE EXTERNAL TABLE d (id STRING, n BIGINT) STORED BY 'org.apache.hadoop.hive.dynamodb.DynamoDBStorageHandler'\n" +
			"TBLPROPERTIES (\"dynamodb.table.name\"=\"t\", \"dynamodb.column.mapping\"=\"id:Id\");", CodeSemantic,
			`no entry for column "n"`, 1},
		{"dynamo without backend", "CREATE EXTERNAL TABLE d (id STRING) STORED BY 'org.apache.hadoop.hive.dynamodb.DynamoDBStorageHandler'\n" +
			"TBLPROPERTIES (\"dynamodb.table.name\"=\"t\", \"dynamodb.column.mapping\"=\"id:Id\");\nSELECT * FROM d;", CodeSemantic,
			"needs the AWS backend", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			he := e.fail(c.script)
			if he.Code != c.code || he.Line != c.line || !strings.Contains(he.Error(), c.want) {
				t.Errorf("got %s line %d: %v\nwant %s line %d containing %q", he.Code, he.Line, he, c.code, c.line, c.want)
			}
			if he.Permanent() != (c.code != CodeIO && c.code != CodeData) {
				t.Errorf("Permanent() = %v", he.Permanent())
			}
		})
	}
}

// TestProgressAfterEveryStatement: statements done of the script's N, the
// session's rows written so far, the statement; staging DDL counts apart.
func TestProgressAfterEveryStatement(t *testing.T) {
	e := newEnv(t)
	var got []Progress
	e.s.opts.Progress = func(p Progress) { got = append(got, p) }
	if err := e.s.RunStaging(context.Background(), "CREATE TABLE a (x INT);"); err != nil {
		t.Fatal(err)
	}
	e.run("INSERT INTO TABLE a VALUES (1), (2);\nSELECT count(*) FROM a;")
	want := []Progress{
		{Done: 1, Total: 1, Unit: "staging statements", Rows: 0, Statement: "CREATE TABLE a (x INT)"},
		{Done: 1, Total: 2, Unit: "statements", Rows: 2, Statement: "INSERT INTO TABLE a VALUES (1), (2)"},
		{Done: 2, Total: 2, Unit: "statements", Rows: 2, Statement: "SELECT count(*) FROM a"},
	}
	if len(got) != len(want) {
		t.Fatalf("progress = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("report %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// Delimited details: ESCAPED BY (a field holding the separator), NULL
// DEFINED AS, LINES TERMINATED BY '\n', STORED AS TEXTFILE, s3n:// and
// s3a:// locations on the same store, and the DynamoDB export SerDe
// written and read back on S3.
func TestDelimitedEscapesNullFormatS3SchemesAndExportSerDe(t *testing.T) {
	e := newEnv(t)
	e.put("s3://b/esc/x", "a\\,b,1\nc,NA\n")
	e.run(`
CREATE EXTERNAL TABLE esc (s STRING, n INT)
  ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' ESCAPED BY '\\' LINES TERMINATED BY '\n' NULL DEFINED AS 'NA'
  STORED AS TEXTFILE LOCATION 's3n://b/esc/';
CREATE EXTERNAL TABLE copy (s STRING, n INT)
  ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' ESCAPED BY '\\' NULL DEFINED AS 'NA'
  STORED AS TEXTFILE LOCATION 's3a://b/copy';
INSERT OVERWRITE TABLE copy SELECT s, n FROM esc;
SELECT s, n, n IS NULL FROM copy ORDER BY s;
CREATE EXTERNAL TABLE ex (s STRING, n BIGINT)
  ROW FORMAT SERDE 'org.apache.hadoop.hive.dynamodb.DynamoDBExportSerDe' LOCATION 's3://b/ex'
  TBLPROPERTIES ('dynamodb.column.mapping' = 's:Name,n:Count');
INSERT OVERWRITE TABLE ex SELECT s, n FROM esc;
SELECT n, s FROM ex ORDER BY s;
`)
	if got, want := e.get("s3://b/copy/000000_0"), "a\\,b,1\nc,NA\n"; got != want {
		t.Errorf("copy = %q, want %q (escaped separator and NULL format kept)", got, want)
	}
	if got, want := e.stdout.String(), "a,b\t1\t0\nc\tNULL\t1\n1\ta,b\nNULL\tc\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	ex := e.get("s3://b/ex/000000_0")
	if !strings.Contains(ex, `"Name"`) || !strings.Contains(ex, `"Count"`) || strings.Count(ex, "\n") != 2 {
		t.Errorf("export = %q, want two items with the mapped attribute names", ex)
	}
}

// A long INSERT reports the rows it has written every 100,000, before the
// statement is done.
func TestProgressDuringLongInsert(t *testing.T) {
	e := newEnv(t)
	e.put("s3://b/many/x", strings.Repeat("1\n", 250_000))
	var got []Progress
	e.s.opts.Progress = func(p Progress) { got = append(got, p) }
	e.run(`CREATE EXTERNAL TABLE many (n INT) LOCATION 's3://b/many';
CREATE TABLE copy (n INT);
INSERT OVERWRITE TABLE copy SELECT n FROM many;`)
	var running []Progress
	for _, p := range got {
		if strings.HasPrefix(p.Statement, "running: ") {
			running = append(running, p)
		}
	}
	want := []Progress{
		{Done: 2, Total: 3, Unit: "statements", Rows: 100_000, Statement: "running: INSERT OVERWRITE TABLE copy SELECT n FROM many"},
		{Done: 2, Total: 3, Unit: "statements", Rows: 200_000, Statement: "running: INSERT OVERWRITE TABLE copy SELECT n FROM many"},
	}
	if len(running) != 2 || running[0] != want[0] || running[1] != want[1] {
		t.Fatalf("reports while running = %+v, want %+v", running, want)
	}
	if last := got[len(got)-1]; last.Done != 3 || last.Rows != 250_000 {
		t.Errorf("last report = %+v, want 3/3 with 250000 rows", last)
	}
}
