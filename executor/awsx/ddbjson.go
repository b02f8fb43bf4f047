package awsx

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item encoding of the EMR DynamoDB export files.
//
// What the EMR tools write, verified in awslabs/emr-dynamodb-connector:
//
//   - emr-dynamodb-tools/.../exportformat/ExportRecordWriter.java: one item
//     per line, DynamoDBItemWritable.writeStream() followed by "\n", UTF-8.
//   - emr-dynamodb-hadoop/.../DynamoDBItemWritable.java: writeStream() is
//     Gson serialising Map<String, AttributeValue>; Gson is built in
//     DynamoDBUtil.getGson() with HTML escaping disabled and ByteBuffers
//     written as base64 strings.
//   - In the AWS SDK for Java v1 era (the emr-ddb-2.1.0.jar the Data
//     Pipeline samples call), AttributeValue had no custom serializer, so
//     Gson used its field names: s, n, b, sS, nS, bS, m, l, nULLValue,
//     bOOL. Example line: {"id":{"s":"a"},"scores":{"nS":["1","2"]}}. The
//     readFieldsStream comment in DynamoDBItemWritable quotes this shape
//     ({"nS":[...]}).
//   - Newer connector releases (SDK v2, AttributeValueSerializer.java) write
//     lower-cased type names instead: s, n, b, ss, ns, bs, m, l, null, bool;
//     their AttributeValueDeserializer matches type names case-insensitively.
//   - DynamoDBItemWritable.fixMalformedJson: the older Hive-based export
//     wrote name^C{value}^B... without braces; readers convert ^B to "," and
//     ^C to ":".
//
// We write the v1 shape (readable by every connector version: the v2
// reader's case-insensitive match accepts it, the v1 reader needs it) and
// read all three shapes. Empty L and M values round-trip (DynamoDB allows
// them); empty sets cannot exist in DynamoDB and are rejected on read.

// MarshalItem encodes one item as an export line (without the newline).
// Attribute names are written in sorted order so output is deterministic.
func MarshalItem(item map[string]types.AttributeValue) ([]byte, error) {
	var b bytes.Buffer
	if err := appendMap(&b, item); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func appendMap(b *bytes.Buffer, m map[string]types.AttributeValue) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		appendString(b, k)
		b.WriteByte(':')
		if err := appendValue(b, m[k]); err != nil {
			return fmt.Errorf("attribute %q: %w", k, err)
		}
	}
	b.WriteByte('}')
	return nil
}

func appendValue(b *bytes.Buffer, v types.AttributeValue) error {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		b.WriteString(`{"s":`)
		appendString(b, v.Value)
	case *types.AttributeValueMemberN:
		b.WriteString(`{"n":`)
		appendString(b, v.Value)
	case *types.AttributeValueMemberB:
		b.WriteString(`{"b":`)
		appendString(b, base64.StdEncoding.EncodeToString(v.Value))
	case *types.AttributeValueMemberSS:
		b.WriteString(`{"sS":`)
		appendStrings(b, v.Value, func(s string) string { return s })
	case *types.AttributeValueMemberNS:
		b.WriteString(`{"nS":`)
		appendStrings(b, v.Value, func(s string) string { return s })
	case *types.AttributeValueMemberBS:
		b.WriteString(`{"bS":[`)
		for i, x := range v.Value {
			if i > 0 {
				b.WriteByte(',')
			}
			appendString(b, base64.StdEncoding.EncodeToString(x))
		}
		b.WriteByte(']')
	case *types.AttributeValueMemberM:
		b.WriteString(`{"m":`)
		if err := appendMap(b, v.Value); err != nil {
			return err
		}
	case *types.AttributeValueMemberL:
		b.WriteString(`{"l":[`)
		for i, x := range v.Value {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := appendValue(b, x); err != nil {
				return fmt.Errorf("list element %d: %w", i, err)
			}
		}
		b.WriteByte(']')
	case *types.AttributeValueMemberNULL:
		b.WriteString(`{"nULLValue":`)
		appendBool(b, v.Value)
	case *types.AttributeValueMemberBOOL:
		b.WriteString(`{"bOOL":`)
		appendBool(b, v.Value)
	default:
		return fmt.Errorf("unsupported attribute value type %T", v)
	}
	b.WriteByte('}')
	return nil
}

func appendBool(b *bytes.Buffer, v bool) {
	if v {
		b.WriteString("true")
	} else {
		b.WriteString("false")
	}
}

func appendStrings(b *bytes.Buffer, ss []string, f func(string) string) {
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		appendString(b, f(s))
	}
	b.WriteByte(']')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way Gson does with HTML
// escaping disabled: quote, backslash and control characters escaped,
// U+2028/U+2029 escaped, everything else verbatim UTF-8.
func appendString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b.WriteString(`\"`)
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\f':
				b.WriteString(`\f`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '\u2028':
			b.WriteString(`\u2028`)
		case r == '\u2029':
			b.WriteString(`\u2029`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// Old Hive-export separators, see DynamoDBItemWritable.fixMalformedJson
// (which turns ^B into "," and ^C into ":").
const (
	startOfText = "\x02"
	endOfText   = "\x03"
)

// UnmarshalItem decodes one export line in any of the shapes described
// above.
func UnmarshalItem(line []byte) (map[string]types.AttributeValue, error) {
	line = bytes.TrimSpace(line)
	if len(line) > 0 && line[0] != '{' {
		// name^C{value}^Bname^C{value}: names are bare (Gson reads them
		// leniently), so quote them while rebuilding the object.
		var b bytes.Buffer
		b.WriteByte('{')
		for i, attr := range strings.Split(string(line), startOfText) {
			name, value, ok := strings.Cut(attr, endOfText)
			if !ok {
				return nil, fmt.Errorf("old-format item: attribute %d has no ^C separator", i+1)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			appendString(&b, name)
			b.WriteByte(':')
			b.WriteString(value)
		}
		b.WriteByte('}')
		line = b.Bytes()
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return nil, fmt.Errorf("item is not a JSON object: %w", err)
	}
	return decodeMap(raw)
}

func decodeMap(raw map[string]json.RawMessage) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(raw))
	for k, v := range raw {
		av, err := decodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func decodeValue(data json.RawMessage) (types.AttributeValue, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("value is not a JSON object: %s", truncate(data))
	}
	// Gson omits null fields, so exactly one type key is expected; take the
	// first known one, ignoring explicit nulls.
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := obj[name]
		if string(v) == "null" {
			continue
		}
		switch strings.ToLower(name) {
		case "s":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("s: %w", err)
			}
			return &types.AttributeValueMemberS{Value: s}, nil
		case "n":
			var s json.Number
			if err := json.Unmarshal(v, &s); err != nil {
				var str string
				if err2 := json.Unmarshal(v, &str); err2 != nil {
					return nil, fmt.Errorf("n: %w", err)
				}
				s = json.Number(str)
			}
			return &types.AttributeValueMemberN{Value: string(s)}, nil
		case "b":
			bs, err := decodeB64(v)
			if err != nil {
				return nil, fmt.Errorf("b: %w", err)
			}
			return &types.AttributeValueMemberB{Value: bs}, nil
		case "ss":
			var ss []string
			if err := json.Unmarshal(v, &ss); err != nil {
				return nil, fmt.Errorf("ss: %w", err)
			}
			if len(ss) == 0 {
				return nil, fmt.Errorf("empty string set")
			}
			return &types.AttributeValueMemberSS{Value: ss}, nil
		case "ns":
			var raw []json.RawMessage
			if err := json.Unmarshal(v, &raw); err != nil {
				return nil, fmt.Errorf("ns: %w", err)
			}
			if len(raw) == 0 {
				return nil, fmt.Errorf("empty number set")
			}
			ns := make([]string, len(raw))
			for i, r := range raw {
				var s string
				if json.Unmarshal(r, &s) != nil {
					s = string(r) // a bare JSON number
				}
				ns[i] = s
			}
			return &types.AttributeValueMemberNS{Value: ns}, nil
		case "bs":
			var raw []json.RawMessage
			if err := json.Unmarshal(v, &raw); err != nil {
				return nil, fmt.Errorf("bs: %w", err)
			}
			if len(raw) == 0 {
				return nil, fmt.Errorf("empty binary set")
			}
			bs := make([][]byte, len(raw))
			for i, r := range raw {
				b, err := decodeB64(r)
				if err != nil {
					return nil, fmt.Errorf("bs[%d]: %w", i, err)
				}
				bs[i] = b
			}
			return &types.AttributeValueMemberBS{Value: bs}, nil
		case "m":
			var m map[string]json.RawMessage
			if err := json.Unmarshal(v, &m); err != nil {
				return nil, fmt.Errorf("m: %w", err)
			}
			dm, err := decodeMap(m)
			if err != nil {
				return nil, err
			}
			return &types.AttributeValueMemberM{Value: dm}, nil
		case "l":
			var l []json.RawMessage
			if err := json.Unmarshal(v, &l); err != nil {
				return nil, fmt.Errorf("l: %w", err)
			}
			out := make([]types.AttributeValue, len(l))
			for i, e := range l {
				av, err := decodeValue(e)
				if err != nil {
					return nil, fmt.Errorf("list element %d: %w", i, err)
				}
				out[i] = av
			}
			return &types.AttributeValueMemberL{Value: out}, nil
		case "null", "nullvalue":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return nil, fmt.Errorf("null: %w", err)
			}
			return &types.AttributeValueMemberNULL{Value: b}, nil
		case "bool":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return nil, fmt.Errorf("bool: %w", err)
			}
			return &types.AttributeValueMemberBOOL{Value: b}, nil
		}
	}
	return nil, fmt.Errorf("no known DynamoDB type key in %s", truncate(data))
}

// decodeB64 accepts the padded standard alphabet commons-codec writes,
// and tolerates unpadded or URL-safe input.
func decodeB64(v json.RawMessage) ([]byte, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, err
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("invalid base64 %q", truncate([]byte(s)))
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}
