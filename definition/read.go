package definition

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultMaxSize is the largest definition read unless ReadOptions.MaxSize
// says otherwise. The service's own limits are far lower; this one only
// keeps a stray /dev/zero or a runaway pipe from exhausting memory.
const DefaultMaxSize int64 = 64 << 20

// ReadOptions control how a definition is read: the size limit and what a
// CloudFormation template's intrinsic functions resolve with.
type ReadOptions struct {
	// MaxSize is the largest input accepted, in bytes (0: DefaultMaxSize).
	MaxSize int64
	// Stdin is read for the path "-" (nil: os.Stdin).
	Stdin io.Reader
	// CloudFormation holds template parameter overrides (--cfn-param),
	// pseudo parameters included: "AWS::Region" -> "eu-west-1".
	CloudFormation map[string]string
}

func (o ReadOptions) maxSize() int64 {
	if o.MaxSize > 0 {
		return o.MaxSize
	}
	return DefaultMaxSize
}

// Read error codes (ReadError.Code).
const (
	CodeNotRegular = "NOT_REGULAR_FILE" // a FIFO, device, socket or directory where a file was expected
	CodeTooLarge   = "TOO_LARGE"        // over ReadOptions.MaxSize
	CodeReadFailed = "READ_FAILED"      // the operating system refused (missing file, permission, I/O)
)

// ReadError is a definition that could not be read at all (as opposed to
// one read with problems, which become diagnostics).
type ReadError struct {
	Path string
	Code string
	Msg  string
	Err  error // the underlying error, when there is one
}

func (e *ReadError) Error() string {
	if e.Msg != "" {
		return e.Path + ": " + e.Msg
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// Load reads one definition with ReadSource and parses it with
// ParseSource: the one way every command reads a definition. It returns
// the bytes read too (runs store and hash them).
func Load(path string, opts ReadOptions) (*Definition, []byte, error) {
	name, data, err := ReadSource(path, opts)
	if err != nil {
		return nil, nil, err
	}
	d, err := ParseSource(name, data, opts)
	return d, data, err
}

// ReadSource reads the bytes of one definition: a regular file, or
// standard input for "-" (named "<stdin>"). Anything else (a FIFO, a
// device, a socket, a directory) is refused before it can block, and no
// more than the size limit is ever read.
func ReadSource(path string, opts ReadOptions) (name string, data []byte, err error) {
	limit := opts.maxSize()
	if path == "-" {
		in := opts.Stdin
		if in == nil {
			in = os.Stdin
		}
		data, err := readLimited("<stdin>", in, limit, 0)
		return "<stdin>", data, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return path, nil, &ReadError{Path: path, Code: CodeReadFailed, Err: unwrapPathError(err)}
	}
	if msg := notRegular(info.Mode()); msg != "" {
		return path, nil, &ReadError{Path: path, Code: CodeNotRegular, Msg: msg}
	}
	if info.Size() > limit {
		return path, nil, tooLarge(path, limit)
	}
	f, err := openNonblocking(path)
	if err != nil {
		return path, nil, &ReadError{Path: path, Code: CodeReadFailed, Err: unwrapPathError(err)}
	}
	defer f.Close()
	// The path may have been swapped for something else since the Stat.
	info, err = f.Stat()
	if err != nil {
		return path, nil, &ReadError{Path: path, Code: CodeReadFailed, Err: err}
	}
	if msg := notRegular(info.Mode()); msg != "" {
		return path, nil, &ReadError{Path: path, Code: CodeNotRegular, Msg: msg}
	}
	data, err = readLimited(path, f, limit, info.Size())
	return path, data, err
}

// readLimited reads r to its end, failing as soon as it passes limit.
// size is what r is expected to hold (a regular file's size, 0 when
// unknown): one buffer of that size is read into, where io.ReadAll's
// doubling would allocate about twice the file.
func readLimited(name string, r io.Reader, limit, size int64) ([]byte, error) {
	r = io.LimitReader(r, limit+1)
	data := make([]byte, 0, min(max(size, 0), limit)+512)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // grows the buffer
		}
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &ReadError{Path: name, Code: CodeReadFailed, Err: err}
		}
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(name, limit)
	}
	return data, nil
}

func tooLarge(name string, limit int64) *ReadError {
	return &ReadError{Path: name, Code: CodeTooLarge,
		Msg: fmt.Sprintf("larger than %s (the service's own limit is far lower — see limits); raise the limit with --max-size", FormatSize(limit))}
}

// FormatSize writes a byte count the way --max-size takes it: 64 MiB, 512 KiB, 100 B.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// ParseSize reads a size for --max-size: a byte count with an optional
// unit (B, K/KB/KiB, M/MB/MiB, G/GB/GiB; all binary).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit (64MiB, 512KiB)", s)
	}
	if i > 18 {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	var n int64
	for _, c := range t[:i] {
		n = n*10 + int64(c-'0')
	}
	var shift uint
	switch strings.ToLower(strings.TrimSpace(t[i:])) {
	case "", "b":
	case "k", "kb", "kib":
		shift = 10
	case "m", "mb", "mib":
		shift = 20
	case "g", "gb", "gib":
		shift = 30
	default:
		return 0, fmt.Errorf("size %q: unknown unit %q (want B, KiB, MiB or GiB)", s, strings.TrimSpace(t[i:]))
	}
	if n == 0 {
		return 0, fmt.Errorf("size %q: must be more than 0", s)
	}
	if n > (1<<62)>>shift {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return n << shift, nil
}

// notRegular explains why a file of this mode is not read ("" when it is
// a regular file).
func notRegular(m fs.FileMode) string {
	const only = "only regular files and - (standard input) are read"
	switch {
	case m.IsRegular():
		return ""
	case m.IsDir():
		return "is a directory; " + only
	case m&fs.ModeNamedPipe != 0:
		return "is a named pipe (FIFO); " + only + " (pipe it in with: dpl ... - < FIFO)"
	case m&fs.ModeSocket != 0:
		return "is a socket; " + only
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return "is a device; " + only
	}
	return "is not a regular file; " + only
}

// unwrapPathError drops the *PathError's own copy of the path, which
// ReadError prints already.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// ExpandPaths is ExpandPathsWarn without the warnings.
func ExpandPaths(args []string) ([]string, error) { return ExpandPathsWarn(args, nil) }

// ExpandPathsWarn turns command-line arguments into definition files: files
// are kept, directories are walked recursively for *.json, "-" is stdin.
// What a walk skips (FIFOs, devices, sockets, symlinks to folders, broken or
// looping links) is reported through warn, never opened.
func ExpandPathsWarn(args []string, warn func(msg string)) ([]string, error) {
	if warn == nil {
		warn = func(string) {}
	}
	var out []string
	for _, a := range args {
		if a == "-" {
			out = append(out, a)
			continue
		}
		info, err := os.Stat(a)
		if err != nil {
			return nil, &ReadError{Path: a, Code: CodeReadFailed, Err: unwrapPathError(err)}
		}
		if !info.IsDir() {
			out = append(out, a) // ReadSource refuses what is not a regular file
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == a {
					return err
				}
				warn(fmt.Sprintf("%s: skipped: %v", p, unwrapPathError(err)))
				return nil
			}
			if d.IsDir() {
				if p != a && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.EqualFold(filepath.Ext(p), ".json") {
				return nil
			}
			mode := d.Type()
			if mode&fs.ModeSymlink != 0 {
				// WalkDir never descends through links, so loops cannot
				// trap it; a link to a regular file is read like the file.
				target, err := os.Stat(p)
				switch {
				case err != nil:
					warn(fmt.Sprintf("%s: skipped: %v", p, unwrapPathError(err)))
					return nil
				case target.IsDir():
					warn(fmt.Sprintf("%s: skipped: a symbolic link to a directory (links are not followed in directory walks)", p))
					return nil
				}
				mode = target.Mode()
			}
			if msg := notRegular(mode); msg != "" {
				warn(fmt.Sprintf("%s: skipped: %s", p, msg))
				return nil
			}
			found = append(found, p)
			return nil
		})
		if err != nil {
			return nil, &ReadError{Path: a, Code: CodeReadFailed, Err: fmt.Errorf("walk: %w", unwrapPathError(err))}
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}
