package endpoint

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// Credentials maps access key ids to secret keys the server accepts.
type Credentials map[string]string

// LoadCredentials reads an AWS shared-credentials style file: every
// section's aws_access_key_id/aws_secret_access_key pair is accepted.
func LoadCredentials(path string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	defer f.Close()
	creds := Credentials{}
	var id, secret, section string
	flush := func() {
		if id != "" && secret != "" {
			creds[id] = secret
		}
		id, secret = "", ""
	}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") || strings.HasPrefix(s, ";") {
			continue
		}
		if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			flush()
			section = strings.TrimSpace(s[1 : len(s)-1])
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("credentials %s:%d: want key = value", path, line)
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	flush()
	_ = section
	if len(creds) == 0 {
		return nil, fmt.Errorf("credentials %s: no aws_access_key_id/aws_secret_access_key pair", path)
	}
	return creds, nil
}

// maxSkew is how far a request's X-Amz-Date may be from the server's clock.
const maxSkew = 15 * time.Minute

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	// signingService is the service name of the credential scope.
	signingService = "datapipeline"
	amzDateLayout  = "20060102T150405Z"
)

// authError is a refused signature: the service answers every
// authentication failure with 403 Forbidden.
func authError(code, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusForbidden, Code: code, Message: fmt.Sprintf(format, args...)}
}

// verifySigV4 checks the request's Signature Version 4 (header form)
// against creds: the key must be known, the credential scope must name
// region, the datapipeline service and the request's date, the request
// time must be within 15 minutes of now, and the signature must match.
// body is the request payload already read.
func verifySigV4(r *http.Request, body []byte, creds keySource, region string, now time.Time) *apiError {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return authError(CodeMissingAuth, "Missing Authentication Token")
	}
	algo, rest, _ := strings.Cut(auth, " ")
	if algo != sigAlgorithm {
		return authError(CodeIncompleteSignature, "Unsupported signature algorithm %s; only %s is accepted.", algo, sigAlgorithm)
	}
	parts := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok {
			parts[k] = v
		}
	}
	cred, signed, sig := parts["Credential"], parts["SignedHeaders"], parts["Signature"]
	if cred == "" || signed == "" || sig == "" {
		return authError(CodeIncompleteSignature, "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=%s", sigAlgorithm+" "+rest)
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return authError(CodeIncompleteSignature, "Credential should be scoped to a valid region, a service and aws4_request: %s", cred)
	}
	akid, date, credRegion, service := scope[0], scope[1], scope[2], scope[3]
	secret, ok := creds.secretFor(akid)
	if !ok {
		return authError(CodeUnrecognized, "The security token included in the request is invalid.")
	}
	if credRegion != region {
		return authError(CodeInvalidSignature, "Credential should be scoped to a valid region, not '%s'. This endpoint answers for %s.", credRegion, region)
	}
	if service != signingService {
		return authError(CodeInvalidSignature, "Credential should be scoped to correct service: '%s', not '%s'.", signingService, service)
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		amzDate = r.Header.Get("Date")
	}
	t, err := time.Parse(amzDateLayout, amzDate)
	if err != nil {
		return authError(CodeIncompleteSignature, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header in ISO 8601 basic format (yyyyMMdd'T'HHmmss'Z').")
	}
	nowS, tS := now.UTC().Format(amzDateLayout), t.Format(amzDateLayout)
	if d := now.Sub(t); d > maxSkew {
		return authError(CodeInvalidSignature, "Signature expired: %s is now earlier than %s (%s - 15 min.)", tS, now.Add(-maxSkew).UTC().Format(amzDateLayout), nowS)
	} else if d < -maxSkew {
		return authError(CodeInvalidSignature, "Signature not yet current: %s is still later than %s (%s + 15 min.); the request is not yet valid, check the client's clock", tS, now.Add(maxSkew).UTC().Format(amzDateLayout), nowS)
	}
	if !strings.HasPrefix(amzDate, date) {
		return authError(CodeInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", date, amzDate[:min(8, len(amzDate))], amzDate)
	}
	want := signature(r, body, signed, amzDate, strings.Join(scope[1:], "/"), secret, date, credRegion, service)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(sig))) {
		return authError(CodeInvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return nil
}

// signature computes the SigV4 signature of r over the client's list of
// signed headers.
func signature(r *http.Request, body []byte, signedHeaders, amzDate, scope, secret, date, region, service string) string {
	var cr strings.Builder
	cr.WriteString(r.Method + "\n")
	cr.WriteString(canonicalURI(r.URL) + "\n")
	cr.WriteString(canonicalQuery(r.URL) + "\n")
	for _, h := range strings.Split(signedHeaders, ";") {
		cr.WriteString(h + ":" + headerValue(r, h) + "\n")
	}
	cr.WriteString("\n" + signedHeaders + "\n")
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	cr.WriteString(payload)
	crSum := sha256.Sum256([]byte(cr.String()))
	sts := sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "aws4_request")
	return hex.EncodeToString(hmacSHA256(k, sts))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// headerValue is a header's canonical value: values joined by commas,
// trimmed, inner runs of spaces collapsed. Host and Content-Length live
// outside r.Header in Go's server.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values("Content-Length")
		if len(vals) == 0 {
			vals = []string{fmt.Sprint(r.ContentLength)}
		}
	default:
		vals = r.Header.Values(name)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if un, err := url.PathUnescape(s); err == nil {
			s = un
		}
		segs[i] = uriEncode(s)
	}
	return strings.Join(segs, "/")
}

func canonicalQuery(u *url.URL) string {
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, uriEncode(k)+"="+uriEncode(v))
		}
	}
	return strings.Join(parts, "&")
}

// uriEncode is SigV4's encoding: every byte except unreserved characters.
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
