package awsx

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	mrand "math/rand/v2"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dpl-dev/dpl/executor/objstore"
)

// Constants of the EMR DynamoDB tools (emr-dynamodb-hadoop
// DynamoDBConstants.java and emr-dynamodb-tools ExportMapper.java).
const (
	DefaultThroughputRatio = 0.5     // DEFAULT_THROUGHPUT_PERCENTAGE
	OnDemandCapacity       = 40000.0 // DEFAULT_CAPACITY_FOR_ON_DEMAND
	MaxItemsPerFile        = 100000  // ExportMapper.MAX_ITEM_COUNT_PER_FILE
	maxBytesPerSegment     = 1 << 30 // MAX_BYTES_PER_SEGMENT
	maxBatchItems          = 25      // BatchWriteItem limit
	bytesPerRCU            = 4096.0
	bytesPerWCU            = 1024.0
)

// TableExists reports whether table exists (DynamoDBTableExists).
func TableExists(ctx context.Context, db *dynamodb.Client, table string) (bool, error) {
	_, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err == nil {
		return true, nil
	}
	var rnf *types.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return false, nil
	}
	return false, fmt.Errorf("describe table %s: %w", table, err)
}

// DataExists reports whether table holds at least one item
// (DynamoDBDataExists). A missing table is "no data", not an error.
func DataExists(ctx context.Context, db *dynamodb.Client, table string) (bool, error) {
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: &table, Limit: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			var rnf *types.ResourceNotFoundException
			if errors.As(err, &rnf) {
				return false, nil
			}
			return false, fmt.Errorf("scan %s: %w", table, err)
		}
		if len(page.Items) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// ParseThroughputRatio reads readThroughputPercent/writeThroughputPercent
// (and the tools' ratio argument): a fraction of the table's capacity.
// Data Pipeline documents 0.1-1.0; the EMR tools accept up to 1.5. "" means
// the tools' default, returned as 0.
func ParseThroughputRatio(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v <= 0 || v > 1.5 {
		return 0, fmt.Errorf("throughput ratio %q: want a number above 0 and at most 1.5 (0.1-1.0 per the Data Pipeline guide)", s)
	}
	return v, nil
}

// Capacity is what DescribeTable says about a table's throughput.
type Capacity struct {
	OnDemand  bool
	Read      float64 // capacity units per second (OnDemandCapacity when on demand)
	Write     float64
	ItemCount int64
	SizeBytes int64
	KeyNames  []string
}

// DescribeCapacity reads the table's billing mode and capacity the way the
// EMR tools do: provisioned values when provisioned, 40000 when on demand.
func DescribeCapacity(ctx context.Context, db *dynamodb.Client, table string) (Capacity, error) {
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		return Capacity{}, fmt.Errorf("describe table %s: %w", table, err)
	}
	t := out.Table
	c := Capacity{ItemCount: aws.ToInt64(t.ItemCount), SizeBytes: aws.ToInt64(t.TableSizeBytes)}
	for _, k := range t.KeySchema {
		c.KeyNames = append(c.KeyNames, aws.ToString(k.AttributeName))
	}
	if t.BillingModeSummary != nil && t.BillingModeSummary.BillingMode == types.BillingModePayPerRequest {
		c.OnDemand = true
	}
	if t.ProvisionedThroughput != nil && !c.OnDemand {
		c.Read = float64(aws.ToInt64(t.ProvisionedThroughput.ReadCapacityUnits))
		c.Write = float64(aws.ToInt64(t.ProvisionedThroughput.WriteCapacityUnits))
	}
	if c.OnDemand || (c.Read == 0 && c.Write == 0) {
		// Unknown capacity: the tools' on-demand assumption.
		c.Read, c.Write = OnDemandCapacity, OnDemandCapacity
	}
	return c, nil
}

// limiter is a token bucket of capacity units. Callers Wait before a
// request and Spend what the request consumed afterwards, so a large page
// puts the bucket into debt and delays the next request (the EMR tools'
// rate controller works the same way). A nil limiter never waits.
type limiter struct {
	mu     sync.Mutex
	rate   float64 // units per second
	tokens float64
	last   time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 || math.IsInf(rate, 0) {
		return nil
	}
	return &limiter{rate: rate, tokens: rate, last: time.Now()}
}

func (l *limiter) refill(now time.Time) {
	l.tokens = math.Min(l.rate, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
}

// Wait blocks until the bucket is out of debt.
func (l *limiter) Wait(ctx context.Context) error {
	if l == nil {
		return nil
	}
	for {
		l.mu.Lock()
		l.refill(time.Now())
		need := -l.tokens
		l.mu.Unlock()
		if need < 0 {
			return nil
		}
		d := time.Duration((need + 0.001) / l.rate * float64(time.Second))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

// Spend records consumed units.
func (l *limiter) Spend(units float64) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.refill(time.Now())
	l.tokens -= units
	l.mu.Unlock()
}

// ExportOptions tune Export.
type ExportOptions struct {
	// ReadRatio is the fraction of the table's read capacity to use
	// (readThroughputPercent); 0 means DefaultThroughputRatio.
	ReadRatio float64
	// Segments is the parallel Scan's TotalSegments; 0 chooses one per GiB
	// of table data, at least 4 for tables of 1000 items or more.
	Segments int
	// MaxItemsPerFile rotates data files; 0 means MaxItemsPerFile.
	MaxItemsPerFile int
	// Overwrite allows a destination that already holds objects. The EMR
	// tool refuses such a destination (Hadoop's "output directory already
	// exists"), and so do we by default.
	Overwrite bool
	// Logf receives progress lines; nil discards them.
	Logf func(format string, args ...any)
}

// ExportStats summarises an export.
type ExportStats struct {
	Items       int64
	Files       int
	Segments    int
	ConsumedRCU float64
	Elapsed     time.Duration
}

// ManifestName and SuccessName are the non-data objects of an export.
const (
	ManifestName = "manifest"
	SuccessName  = "_SUCCESS"
)

// Export copies table to dstURI in the layout of
// org.apache.hadoop.dynamodb.tools.DynamoDbExport (emr-dynamodb-tools):
//
//   - data files named by random UUIDs, directly under dstURI, each holding
//     at most 100000 items, one JSON item per line (see MarshalItem);
//   - dstURI/manifest, written last: {"name":"DynamoDB-export","version":3,
//     then "entries": [ one {"url":"s3://...","mandatory":true} per data
//     file, joined by ",\n" ] (ExportManifestRecordWriter.java), entries
//     ordered by reversed file name as the tool's reducer does;
//   - dstURI/_SUCCESS, the empty marker Hadoop's FileOutputCommitter
//     leaves on job success.
//
// The scan is a parallel Scan over opts.Segments segments, rate limited to
// ReadRatio of the table's read capacity.
func Export(ctx context.Context, db *dynamodb.Client, store objstore.Store, table, dstURI string, opts ExportOptions) (ExportStats, error) {
	start := time.Now()
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	dstURI = strings.TrimRight(dstURI, "/")
	if _, _, err := objstore.ParseURI(dstURI); err != nil {
		return ExportStats{}, fmt.Errorf("export %s: %w", table, err)
	}
	if !opts.Overwrite {
		busy, err := objstore.PrefixNotEmpty(ctx, store, dstURI+"/")
		if err != nil && !errors.Is(err, objstore.ErrNotExist) {
			return ExportStats{}, fmt.Errorf("export %s: checking %s: %w", table, dstURI, err)
		}
		if busy {
			return ExportStats{}, fmt.Errorf("export %s: output directory %s already exists and is not empty (the EMR DynamoDbExport tool refuses it too; delete it or choose a new path)", table, dstURI)
		}
	}
	capa, err := DescribeCapacity(ctx, db, table)
	if err != nil {
		return ExportStats{}, fmt.Errorf("export: %w", err)
	}
	ratio := opts.ReadRatio
	if ratio <= 0 {
		ratio = DefaultThroughputRatio
	}
	segments := opts.Segments
	if segments <= 0 {
		segments = int(math.Ceil(float64(capa.SizeBytes) / maxBytesPerSegment))
		if capa.ItemCount >= 1000 {
			segments = max(segments, 4)
		}
		segments = max(segments, 1)
	}
	perFile := opts.MaxItemsPerFile
	if perFile <= 0 {
		perFile = MaxItemsPerFile
	}
	lim := newLimiter(capa.Read * ratio)
	scanLimit := exportScanLimit(capa, ratio, min(segments, 8))
	logf("export %s -> %s: %d segment(s), read limit %.0f RCU/s (%.2f of %.0f%s)",
		table, dstURI, segments, capa.Read*ratio, ratio, capa.Read, map[bool]string{true: ", on demand"}[capa.OnDemand])

	var (
		mu    sync.Mutex
		files []string
		stats = ExportStats{Segments: segments}
	)
	workers := min(segments, 8)
	segCh := make(chan int)
	errCh := make(chan error, workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seg := range segCh {
				res, err := exportSegment(ctx, db, store, table, dstURI, seg, segments, perFile, scanLimit, lim)
				mu.Lock()
				files = append(files, res.files...)
				stats.Items += res.items
				stats.ConsumedRCU += res.rcu
				mu.Unlock()
				if err != nil {
					errCh <- fmt.Errorf("export %s segment %d/%d: %w", table, seg, segments, err)
					cancel()
					return
				}
			}
		}()
	}
feed:
	for s := 0; s < segments; s++ {
		select {
		case segCh <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(segCh)
	wg.Wait()
	close(errCh)
	// Like Hadoop's job abort, a failed export removes what it wrote, so
	// a retry of the step does not meet "output directory already exists".
	undo := func(err error) (ExportStats, error) {
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer ccancel()
		for _, f := range append(files, ManifestName, SuccessName) {
			_ = store.Delete(cctx, dstURI+"/"+f)
		}
		return stats, err
	}
	if err := <-errCh; err != nil {
		return undo(err)
	}
	if err := ctx.Err(); err != nil {
		return undo(err)
	}
	stats.Files = len(files)
	if err := writeManifest(ctx, store, dstURI, files); err != nil {
		return undo(fmt.Errorf("export %s: %w", table, err))
	}
	if err := writeObject(ctx, store, dstURI+"/"+SuccessName, nil); err != nil {
		return undo(fmt.Errorf("export %s: %w", table, err))
	}
	stats.Elapsed = time.Since(start)
	logf("export %s: %d item(s) in %d file(s), %.0f RCU consumed, %s", table, stats.Items, stats.Files, stats.ConsumedRCU, stats.Elapsed.Round(time.Millisecond))
	return stats, nil
}

// exportScanLimit sizes Scan pages so that one page costs about one
// second of a worker's share of the read budget (a 1 MiB page would
// otherwise burst far past a small provisioned capacity); 0 = no limit.
func exportScanLimit(c Capacity, ratio float64, workers int) int32 {
	avg := 100.0 // DEFAULT_AVERAGE_ITEM_SIZE_IN_BYTES
	if c.ItemCount > 0 && c.SizeBytes > 0 {
		avg = float64(c.SizeBytes) / float64(c.ItemCount)
	}
	// Eventually consistent: one unit reads 8 KiB.
	n := c.Read * ratio / float64(max(workers, 1)) * 2 * bytesPerRCU / avg
	if n >= 10000 {
		return 0
	}
	return int32(max(1, n))
}

type segmentResult struct {
	files []string
	items int64
	rcu   float64
}

// exportSegment scans one segment, rotating output files every perFile
// items like the tool's ExportMapper.
func exportSegment(ctx context.Context, db *dynamodb.Client, store objstore.Store, table, dst string, seg, total, perFile int, scanLimit int32, lim *limiter) (res segmentResult, err error) {
	var (
		w     io.WriteCloser
		bw    *bufio.Writer
		inCur int
	)
	closeCur := func() error {
		if w == nil {
			return nil
		}
		if err := bw.Flush(); err != nil {
			objstore.Abort(w, err)
			w = nil
			return err
		}
		err := w.Close()
		w = nil
		return err
	}
	defer func() {
		if w != nil {
			objstore.Abort(w, err)
		}
	}()
	in := &dynamodb.ScanInput{
		TableName:              &table,
		Segment:                aws.Int32(int32(seg)),
		TotalSegments:          aws.Int32(int32(total)),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	if scanLimit > 0 {
		in.Limit = aws.Int32(scanLimit)
	}
	for {
		if err := lim.Wait(ctx); err != nil {
			return res, err
		}
		out, err := db.Scan(ctx, in)
		if err != nil {
			return res, err
		}
		used := 0.0
		if out.ConsumedCapacity != nil && out.ConsumedCapacity.CapacityUnits != nil {
			used = *out.ConsumedCapacity.CapacityUnits
		}
		var pageBytes int
		for _, item := range out.Items {
			if w == nil || inCur >= perFile {
				if err := closeCur(); err != nil {
					return res, err
				}
				name := newUUID()
				if w, err = store.Create(ctx, dst+"/"+name); err != nil {
					return res, err
				}
				bw = bufio.NewWriterSize(w, 256<<10)
				res.files = append(res.files, name)
				inCur = 0
			}
			line, err := MarshalItem(item)
			if err != nil {
				return res, err
			}
			pageBytes += len(line)
			bw.Write(line)
			if err := bw.WriteByte('\n'); err != nil {
				return res, err
			}
			inCur++
			res.items++
		}
		if used == 0 {
			// Eventually consistent scans cost half a unit per 4 KiB.
			used = math.Ceil(float64(pageBytes)/bytesPerRCU) / 2
		}
		lim.Spend(used)
		res.rcu += used
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return res, closeCur()
}

// writeManifest writes the version 3 manifest of ExportManifestRecordWriter.
func writeManifest(ctx context.Context, store objstore.Store, dst string, files []string) error {
	sorted := append([]string(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return reverse(sorted[i]) < reverse(sorted[j]) })
	var b bytes.Buffer
	b.WriteString(`{"name":"DynamoDB-export","version":3` + ",\n" + `"entries": [` + "\n")
	for i, f := range sorted {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`{"url":`)
		appendString(&b, dst+"/"+f)
		b.WriteString(`,"mandatory":true}`)
	}
	b.WriteString("\n]}")
	return writeObject(ctx, store, dst+"/"+ManifestName, b.Bytes())
}

func reverse(s string) string {
	r := []byte(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

func writeObject(ctx context.Context, store objstore.Store, uri string, body []byte) error {
	w, err := store.Create(ctx, uri)
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		objstore.Abort(w, err)
		return err
	}
	return w.Close()
}

// newUUID returns a random (version 4) UUID, the tool's data file names.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ImportOptions tune Import.
type ImportOptions struct {
	// WriteRatio is the fraction of the table's write capacity to use
	// (writeThroughputPercent); 0 means DefaultThroughputRatio.
	WriteRatio float64
	// Workers is the number of concurrent BatchWriteItem callers; 0 means 8.
	Workers int
	// MaxRetries bounds the retries of one batch's unprocessed items; 0
	// means 12 (about a minute of capped exponential backoff).
	MaxRetries int
	Logf       func(format string, args ...any)
}

// ImportStats summarises an import.
type ImportStats struct {
	Items       int64
	Files       int
	Batches     int64
	Retries     int64 // BatchWriteItem calls repeated for unprocessed items
	ConsumedWCU float64
	Elapsed     time.Duration
}

// Import loads an export into table, as DynamoDbImport does: with a
// manifest (srcURI/manifest, version 3) the listed files are read;
// without one every object under srcURI whose name does not start with
// "_" or "." is read (Hadoop's hidden-file rule), which covers the older
// manifest-less exports. Items are written with BatchWriteItem, 25 per
// call, unprocessed items retried with capped exponential backoff, rate
// limited to WriteRatio of the table's write capacity.
func Import(ctx context.Context, db *dynamodb.Client, store objstore.Store, srcURI, table string, opts ImportOptions) (ImportStats, error) {
	start := time.Now()
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	srcURI = strings.TrimRight(srcURI, "/")
	files, err := importFiles(ctx, store, srcURI)
	if err != nil {
		return ImportStats{}, fmt.Errorf("import %s into %s: %w", srcURI, table, err)
	}
	capa, err := DescribeCapacity(ctx, db, table)
	if err != nil {
		return ImportStats{}, fmt.Errorf("import: %w", err)
	}
	ratio := opts.WriteRatio
	if ratio <= 0 {
		ratio = DefaultThroughputRatio
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 8
	}
	maxRetries := opts.MaxRetries
	if maxRetries <= 0 {
		maxRetries = 12
	}
	lim := newLimiter(capa.Write * ratio)
	logf("import %s -> %s: %d file(s), write limit %.0f WCU/s", srcURI, table, len(files), capa.Write*ratio)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		stats = ImportStats{Files: len(files)}
		first error
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
		cancel()
	}
	// Items are routed to workers by primary key, so writes of one key
	// keep file order (a later line wins, as with sequential puts).
	ins := make([]chan map[string]types.AttributeValue, workers)
	var wg sync.WaitGroup
	for w := range ins {
		ins[w] = make(chan map[string]types.AttributeValue, 4*maxBatchItems)
		wg.Add(1)
		go func(in <-chan map[string]types.AttributeValue) {
			defer wg.Done()
			batch := make([]types.WriteRequest, 0, maxBatchItems)
			keys := map[string]bool{}
			flush := func() {
				if len(batch) == 0 || ctx.Err() != nil {
					return
				}
				retries, wcu, err := writeBatch(ctx, db, table, batch, lim, maxRetries)
				mu.Lock()
				stats.Batches++
				stats.Retries += int64(retries)
				stats.ConsumedWCU += wcu
				if err == nil {
					stats.Items += int64(len(batch))
				}
				mu.Unlock()
				if err != nil {
					fail(err)
				}
				batch = make([]types.WriteRequest, 0, maxBatchItems)
				clear(keys)
			}
			for item := range in {
				// BatchWriteItem rejects two writes of one key in a call.
				if k, ok := itemKey(item, capa.KeyNames); ok {
					if keys[k] {
						flush()
					}
					keys[k] = true
				}
				batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
				if len(batch) == maxBatchItems {
					flush()
				}
			}
			flush()
		}(ins[w])
	}
	next := 0
	route := func(item map[string]types.AttributeValue) error {
		w := next % workers
		if k, ok := itemKey(item, capa.KeyNames); ok {
			h := fnv.New32a()
			h.Write([]byte(k))
			w = int(h.Sum32() % uint32(workers))
		} else {
			next++
		}
		select {
		case ins[w] <- item:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	readErr := func() error {
		defer func() {
			for _, in := range ins {
				close(in)
			}
		}()
		for _, f := range files {
			if err := readExportFile(ctx, store, f, route); err != nil {
				return err
			}
		}
		return nil
	}()
	wg.Wait()
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		fail(readErr)
	}
	stats.Elapsed = time.Since(start)
	if first != nil {
		return stats, fmt.Errorf("import %s into %s: %w", srcURI, table, first)
	}
	if err := ctx.Err(); err != nil {
		return stats, err
	}
	logf("import %s: %d item(s) from %d file(s), %d retried batch call(s), %s", table, stats.Items, stats.Files, stats.Retries, stats.Elapsed.Round(time.Millisecond))
	return stats, nil
}

// importFiles lists the data files of an export directory.
func importFiles(ctx context.Context, store objstore.Store, src string) ([]string, error) {
	r, err := store.Open(ctx, src+"/"+ManifestName)
	if err == nil {
		defer r.Close()
		return parseManifest(r, src)
	}
	if !errors.Is(err, objstore.ErrNotExist) {
		return nil, err
	}
	var files []string
	err = store.List(ctx, src+"/", func(i objstore.Info) error {
		base := path.Base(i.Key)
		if strings.HasSuffix(i.Key, "/") || strings.HasPrefix(base, "_") || strings.HasPrefix(base, ".") {
			return nil
		}
		files = append(files, i.URI)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no manifest and no data files under %s/", src)
	}
	return files, nil
}

type manifest struct {
	Name    string `json:"name"`
	Version *int   `json:"version"`
	Entries []struct {
		URL string `json:"url"`
	} `json:"entries"`
}

func parseManifest(r io.Reader, src string) ([]string, error) {
	var m manifest
	dec := json.NewDecoder(r)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s/%s: not a DynamoDB export manifest: %w", src, ManifestName, err)
	}
	if m.Version == nil || *m.Version != 3 {
		v := "missing"
		if m.Version != nil {
			v = strconv.Itoa(*m.Version)
		}
		return nil, fmt.Errorf("%s/%s: unknown export format version %s (DynamoDbImport reads version 3)", src, ManifestName, v)
	}
	files := make([]string, 0, len(m.Entries))
	for i, e := range m.Entries {
		u := e.URL
		if strings.HasPrefix(u, "s3n://") || strings.HasPrefix(u, "s3a://") {
			u = "s3://" + u[len("s3n://"):]
		}
		if !objstore.IsURI(u) {
			return nil, fmt.Errorf("%s/%s: entry %d: url %q is not an S3 URI", src, ManifestName, i, e.URL)
		}
		files = append(files, u)
	}
	return files, nil
}

// readExportFile streams one data file, handing each item to emit.
func readExportFile(ctx context.Context, store objstore.Store, uri string, emit func(map[string]types.AttributeValue) error) error {
	r, err := store.Open(ctx, uri)
	if err != nil {
		return err
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256<<10), 16<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		item, err := UnmarshalItem(line)
		if err != nil {
			return fmt.Errorf("%s line %d: %w", uri, lineNo, err)
		}
		if err := emit(item); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s after line %d: %w", uri, lineNo, err)
	}
	return nil
}

// writeBatch writes one batch, retrying unprocessed items with capped,
// jittered exponential backoff (throttling errors themselves are retried
// by the SDK's retryer).
func writeBatch(ctx context.Context, db *dynamodb.Client, table string, batch []types.WriteRequest, lim *limiter, maxRetries int) (retries int, wcu float64, err error) {
	pending := batch
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if err := lim.Wait(ctx); err != nil {
			return retries, wcu, err
		}
		out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems:           map[string][]types.WriteRequest{table: pending},
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			return retries, wcu, fmt.Errorf("BatchWriteItem: %w", err)
		}
		used := 0.0
		for _, c := range out.ConsumedCapacity {
			used += aws.ToFloat64(c.CapacityUnits)
		}
		left := out.UnprocessedItems[table]
		if used == 0 {
			used = estimateWCU(pending[:len(pending)-len(left)])
		}
		lim.Spend(used)
		wcu += used
		if len(left) == 0 {
			return retries, wcu, nil
		}
		if attempt >= maxRetries {
			return retries, wcu, fmt.Errorf("BatchWriteItem: %d item(s) still unprocessed after %d retries", len(left), maxRetries)
		}
		retries++
		pending = left
		sleep := backoff/2 + time.Duration(mrand.Int64N(int64(backoff)))
		select {
		case <-ctx.Done():
			return retries, wcu, ctx.Err()
		case <-time.After(sleep):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// estimateWCU approximates consumption when the service does not report
// it: one unit per started KiB of encoded item.
func estimateWCU(reqs []types.WriteRequest) float64 {
	total := 0.0
	for _, r := range reqs {
		if r.PutRequest == nil {
			continue
		}
		b, err := MarshalItem(r.PutRequest.Item)
		if err != nil {
			total++
			continue
		}
		total += math.Max(1, math.Ceil(float64(len(b))/bytesPerWCU))
	}
	return total
}

// itemKey renders an item's primary key for duplicate detection.
func itemKey(item map[string]types.AttributeValue, names []string) (string, bool) {
	if len(names) == 0 {
		return "", false
	}
	var b bytes.Buffer
	for _, n := range names {
		v, ok := item[n]
		if !ok {
			return "", false
		}
		if err := appendValue(&b, v); err != nil {
			return "", false
		}
		b.WriteByte(0)
	}
	return b.String(), true
}
