CREATE TABLE src(k TEXT, v INTEGER);
.mode csv
.import @DATA@ src
.output @OUT@
SELECT k, count(*), sum(v) FROM src WHERE v > 0 GROUP BY k;
.output stdout
