package hive

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDBStorageHandler is the EMR connector class of DynamoDB tables.
const dynamoHandler = "org.apache.hadoop.hive.dynamodb.DynamoDBStorageHandler"

// dynamoTable is a table STORED BY the DynamoDB storage handler.
type dynamoTable struct {
	name          string            // dynamodb.table.name
	mapping       map[string]string // hive column -> attribute
	region        string
	readPercent   float64 // dynamodb.throughput.read.percent (default 0.5)
	writePercent  float64 // dynamodb.throughput.write.percent (default 0.5)
	nullSerialize bool    // dynamodb.null.serialization: write NULL attributes
}

// parseDynamoProps validates TBLPROPERTIES of a DynamoDB table against its
// columns, as the connector does when the table is created.
func parseDynamoProps(t token, cols []column, props map[string]string) (*dynamoTable, error) {
	d := &dynamoTable{name: props["dynamodb.table.name"], readPercent: 0.5, writePercent: 0.5}
	if d.name == "" {
		return nil, semanticErr(t, "a DynamoDB table needs TBLPROPERTIES (\"dynamodb.table.name\" = \"...\")")
	}
	mapping, err := parseColumnMapping(t, cols, props["dynamodb.column.mapping"])
	if err != nil {
		return nil, err
	}
	for _, c := range cols {
		if _, ok := mapping[c.name]; !ok && !strings.HasPrefix(c.typ, "map<") {
			return nil, semanticErr(t, "dynamodb.column.mapping has no entry for column %q (every column must be mapped to an attribute, e.g. %s:%s)", c.name, c.name, c.name)
		}
	}
	d.mapping = mapping
	for key, dst := range map[string]*float64{"dynamodb.throughput.read.percent": &d.readPercent, "dynamodb.throughput.write.percent": &d.writePercent} {
		if v, ok := props[key]; ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 || f > 1.5 {
				return nil, semanticErr(t, "%s = %q: want a number in (0, 1.5]", key, v)
			}
			*dst = f
		}
	}
	d.region = props["dynamodb.region"]
	if ep := props["dynamodb.endpoint"]; ep != "" && d.region == "" {
		// dynamodb.us-west-2.amazonaws.com names the region.
		if parts := strings.Split(strings.TrimPrefix(strings.TrimPrefix(ep, "https://"), "http://"), "."); len(parts) >= 3 && parts[0] == "dynamodb" {
			d.region = parts[1]
		}
	}
	d.nullSerialize = strings.EqualFold(props["dynamodb.null.serialization"], "true")
	return d, nil
}

// parseColumnMapping reads "col1:attr1,col2:attr2"; every named column
// must exist in the table.
func parseColumnMapping(t token, cols []column, spec string) (map[string]string, error) {
	mapping := map[string]string{}
	if strings.TrimSpace(spec) == "" {
		return mapping, nil
	}
	known := map[string]bool{}
	for _, c := range cols {
		known[c.name] = true
	}
	for _, entry := range strings.Split(spec, ",") {
		col, attr, ok := strings.Cut(strings.TrimSpace(entry), ":")
		col, attr = strings.ToLower(strings.TrimSpace(col)), strings.TrimSpace(attr)
		if !ok || col == "" || attr == "" {
			return nil, semanticErr(t, "dynamodb.column.mapping entry %q: want hive_column:dynamodb_attribute", entry)
		}
		if !known[col] {
			return nil, semanticErr(t, "dynamodb.column.mapping maps %q to attribute %q, but the table has no column %q", col, attr, col)
		}
		mapping[col] = attr
	}
	return mapping, nil
}

// fromAttribute converts a DynamoDB attribute to the engine value of a
// column type, as the connector's type mapping does.
func fromAttribute(typ string, av types.AttributeValue) any {
	switch v := av.(type) {
	case nil:
		return nil
	case *types.AttributeValueMemberNULL:
		return nil
	case *types.AttributeValueMemberS:
		if isComplex(typ) {
			return v.Value
		}
		return parseText(typ, v.Value)
	case *types.AttributeValueMemberN:
		if baseType(typ) == "boolean" {
			return parseText("bigint", v.Value)
		}
		return parseText(typ, v.Value)
	case *types.AttributeValueMemberBOOL:
		if baseType(typ) == "string" {
			return strconv.FormatBool(v.Value)
		}
		return b2i(v.Value)
	case *types.AttributeValueMemberB:
		if baseType(typ) == "binary" {
			return v.Value
		}
		return base64.StdEncoding.EncodeToString(v.Value)
	}
	j, err := attributeJSON(av)
	if err != nil {
		return nil
	}
	b, _ := json.Marshal(j)
	return string(b)
}

// attributeJSON turns sets, lists and maps into plain JSON values.
func attributeJSON(av types.AttributeValue) (any, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return v.Value, nil
	case *types.AttributeValueMemberN:
		return json.Number(v.Value), nil
	case *types.AttributeValueMemberBOOL:
		return v.Value, nil
	case *types.AttributeValueMemberNULL:
		return nil, nil
	case *types.AttributeValueMemberB:
		return base64.StdEncoding.EncodeToString(v.Value), nil
	case *types.AttributeValueMemberSS:
		return v.Value, nil
	case *types.AttributeValueMemberNS:
		out := make([]any, len(v.Value))
		for i, n := range v.Value {
			out[i] = json.Number(n)
		}
		return out, nil
	case *types.AttributeValueMemberBS:
		out := make([]string, len(v.Value))
		for i, b := range v.Value {
			out[i] = base64.StdEncoding.EncodeToString(b)
		}
		return out, nil
	case *types.AttributeValueMemberL:
		out := make([]any, len(v.Value))
		for i, e := range v.Value {
			j, err := attributeJSON(e)
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return out, nil
	case *types.AttributeValueMemberM:
		out := make(map[string]any, len(v.Value))
		for k, e := range v.Value {
			j, err := attributeJSON(e)
			if err != nil {
				return nil, err
			}
			out[k] = j
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported attribute type %T", av)
}

// toAttribute converts a coerced engine value of a column type to an
// attribute; nil means "leave the attribute out".
func toAttribute(typ string, v any) (types.AttributeValue, error) {
	if v == nil {
		return nil, nil
	}
	switch baseType(typ) {
	case "tinyint", "smallint", "int", "bigint", "float", "double", "decimal":
		return &types.AttributeValueMemberN{Value: numberText(v)}, nil
	case "boolean":
		n, _ := v.(int64)
		return &types.AttributeValueMemberBOOL{Value: n != 0}, nil
	case "binary":
		b, _ := v.([]byte)
		return &types.AttributeValueMemberB{Value: b}, nil
	case "array":
		var items []any
		if err := json.Unmarshal([]byte(textOf(v)), &items); err != nil {
			return nil, fmt.Errorf("array value %q is not a list", textOf(v))
		}
		if len(items) == 0 {
			return nil, nil // DynamoDB has no empty sets
		}
		el := elemTypes(typ)[0]
		out := make([]string, len(items))
		for i, e := range items {
			out[i] = jsonText(e, &rowFormat{})
		}
		if sqliteType(el) == "TEXT" {
			return &types.AttributeValueMemberSS{Value: out}, nil
		}
		return &types.AttributeValueMemberNS{Value: out}, nil
	case "map":
		var m map[string]any
		if err := json.Unmarshal([]byte(textOf(v)), &m); err != nil {
			return nil, fmt.Errorf("map value %q is not an object", textOf(v))
		}
		out := make(map[string]types.AttributeValue, len(m))
		el := elemTypes(typ)[1]
		for k, e := range m {
			if e == nil {
				continue
			}
			s := jsonText(e, &rowFormat{})
			if sqliteType(el) == "TEXT" {
				out[k] = &types.AttributeValueMemberS{Value: s}
			} else {
				out[k] = &types.AttributeValueMemberN{Value: s}
			}
		}
		return &types.AttributeValueMemberM{Value: out}, nil
	}
	s := textOf(v)
	if s == "" {
		return nil, nil // the connector skips empty strings (DynamoDB rejected them in keys)
	}
	return &types.AttributeValueMemberS{Value: s}, nil
}

func numberText(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return textOf(v)
}

// toItem builds an item from a row through a column -> attribute mapping.
func toItem(cols []column, vals []any, attr func(string) string) (map[string]types.AttributeValue, error) {
	item := make(map[string]types.AttributeValue, len(cols))
	for i, c := range cols {
		av, err := toAttribute(c.typ, vals[i])
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
		if av != nil {
			item[attr(c.name)] = av
		}
	}
	return item, nil
}

// DynamoDB is what the engine needs of the AWS backend: a client per region
// ("" = the backend's default).
type DynamoDB func(region string) *dynamodb.Client

func (s *Session) dynamoClient(t token, d *dynamoTable) (*dynamodb.Client, error) {
	if s.opts.DynamoDB == nil {
		return nil, &Error{Code: CodeSemantic, Line: t.line, Col: t.col,
			Msg: fmt.Sprintf("DynamoDB table %s needs the AWS backend: run with --backend aws (and --aws-endpoint for a local DynamoDB)", d.name)}
	}
	return s.opts.DynamoDB(d.region), nil
}

// scanDynamo reads every item of the table with a parallel scan paced to
// readPercent of the table's read capacity.
func (s *Session) scanDynamo(ctx context.Context, t token, tbl *table, emit func([]any) error) error {
	d := tbl.dynamo
	db, err := s.dynamoClient(t, d)
	if err != nil {
		return err
	}
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(d.name)})
	if err != nil {
		return fmt.Errorf("DynamoDB table %s: %w", d.name, err)
	}
	rate := capacityRate(desc.Table, true) * d.readPercent
	segments := 1
	if n := aws.ToInt64(desc.Table.ItemCount); n > 10000 {
		segments = 4
	}
	pace := newPacer(rate)
	var mu sync.Mutex
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	errs := make([]error, segments)
	for seg := 0; seg < segments; seg++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := &dynamodb.ScanInput{TableName: aws.String(d.name), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal}
			if segments > 1 {
				in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(segments))
			}
			for {
				if err := pace.wait(ctx); err != nil {
					errs[seg] = err
					return
				}
				out, err := db.Scan(ctx, in)
				if err != nil {
					errs[seg] = fmt.Errorf("scan DynamoDB table %s: %w", d.name, err)
					cancel(errs[seg])
					return
				}
				if out.ConsumedCapacity != nil {
					pace.spend(aws.ToFloat64(out.ConsumedCapacity.CapacityUnits))
				}
				for _, item := range out.Items {
					row := make([]any, len(tbl.cols))
					for i, c := range tbl.cols {
						if a, ok := d.mapping[c.name]; ok {
							row[i] = fromAttribute(c.typ, item[a])
						} else {
							row[i] = unmappedAsMap(item, d.mapping)
						}
					}
					mu.Lock()
					err := emit(row)
					mu.Unlock()
					if err != nil {
						errs[seg] = err
						cancel(err)
						return
					}
				}
				if len(out.LastEvaluatedKey) == 0 {
					return
				}
				in.ExclusiveStartKey = out.LastEvaluatedKey
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// unmappedAsMap serves a map<string,string> column without a mapping: the
// connector puts every attribute into it (whole-item mode).
func unmappedAsMap(item map[string]types.AttributeValue, mapping map[string]string) any {
	m := map[string]any{}
	for k, v := range item {
		j, err := attributeJSON(v)
		if err == nil {
			m[k] = j
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// capacityRate is the table's provisioned read (or write) capacity per
// second; on-demand tables get the connector's assumed 40000.
func capacityRate(td *types.TableDescription, read bool) float64 {
	if td == nil || td.ProvisionedThroughput == nil {
		return 40000
	}
	u := aws.ToInt64(td.ProvisionedThroughput.WriteCapacityUnits)
	if read {
		u = aws.ToInt64(td.ProvisionedThroughput.ReadCapacityUnits)
	}
	if u <= 0 {
		return 40000
	}
	return float64(u)
}

// pacer spends capacity units at a steady rate (a token bucket that may go
// into debt: a request's cost is only known after it returns).
type pacer struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
}

func newPacer(rate float64) *pacer { return &pacer{rate: rate, tokens: rate, last: time.Now()} }

func (p *pacer) wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		now := time.Now()
		p.tokens = math.Min(p.rate, p.tokens+now.Sub(p.last).Seconds()*p.rate)
		p.last = now
		debt := -p.tokens
		p.mu.Unlock()
		if debt < 0 {
			return nil
		}
		timer := time.NewTimer(time.Duration((debt + 1) / p.rate * float64(time.Second)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return context.Cause(ctx)
		case <-timer.C:
		}
	}
}

func (p *pacer) spend(units float64) {
	p.mu.Lock()
	p.tokens -= units
	p.mu.Unlock()
}

// dynamoWriter writes rows with BatchWriteItem, 25 at a time, retrying
// unprocessed items with backoff.
type dynamoWriter struct {
	s     *Session
	db    *dynamodb.Client
	d     *dynamoTable
	cols  []column
	batch []types.WriteRequest
	pace  *pacer
	keys  []string
	rows  int64
}

func (s *Session) newDynamoWriter(ctx context.Context, t token, tbl *table) (*dynamoWriter, error) {
	d := tbl.dynamo
	db, err := s.dynamoClient(t, d)
	if err != nil {
		return nil, err
	}
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(d.name)})
	if err != nil {
		return nil, fmt.Errorf("DynamoDB table %s: %w", d.name, err)
	}
	mapped := map[string]bool{}
	for _, a := range d.mapping {
		mapped[a] = true
	}
	var keys []string
	for _, k := range desc.Table.KeySchema {
		name := aws.ToString(k.AttributeName)
		keys = append(keys, name)
		if !mapped[name] {
			return nil, semanticErr(t, "DynamoDB table %s has key attribute %q, but dynamodb.column.mapping of table %s maps no column to it (mapped attributes: %s)",
				d.name, name, tbl.name, strings.Join(sortedKeys(mapped), ", "))
		}
	}
	return &dynamoWriter{s: s, db: db, d: d, cols: tbl.cols, keys: keys,
		pace: newPacer(capacityRate(desc.Table, false) * d.writePercent)}, nil
}

func (w *dynamoWriter) write(ctx context.Context, vals []any) error {
	item, err := toItem(w.cols, vals, func(c string) string { return w.d.mapping[c] })
	if err != nil {
		return err
	}
	for _, k := range w.keys {
		if item[k] == nil {
			return fmt.Errorf("row %d has no value for key attribute %q of DynamoDB table %s", w.rows+1, k, w.d.name)
		}
	}
	w.rows++
	w.batch = append(w.batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	if len(w.batch) == 25 {
		return w.flush(ctx)
	}
	return nil
}

func (w *dynamoWriter) flush(ctx context.Context) error {
	pending := w.batch
	w.batch = nil
	backoff := 50 * time.Millisecond
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 10 {
			return fmt.Errorf("DynamoDB table %s: %d items still unprocessed after %d retries", w.d.name, len(pending), attempt-1)
		}
		if err := w.pace.wait(ctx); err != nil {
			return err
		}
		out, err := w.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems:           map[string][]types.WriteRequest{w.d.name: pending},
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			return fmt.Errorf("write to DynamoDB table %s: %w", w.d.name, err)
		}
		used := float64(len(pending))
		for _, c := range out.ConsumedCapacity {
			used = aws.ToFloat64(c.CapacityUnits)
		}
		w.pace.spend(used)
		pending = out.UnprocessedItems[w.d.name]
		if len(pending) > 0 {
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	}
	return nil
}
