package endpoint_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/dpl-dev/dpl/executor/endpoint"
)

type reply struct {
	status int
	code   string
	msg    string
	reqID  string
	body   []byte
}

// call posts a request, signed with (key, secret) when key is not empty.
func call(t *testing.T, url, target, contentType string, body []byte, key, secret string, mutate func(*http.Request)) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Content-Type", contentType)
	if key != "" {
		sum := sha256.Sum256(body)
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
			req, hex.EncodeToString(sum[:]), "datapipeline", "us-east-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	if mutate != nil {
		mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, reqID: resp.Header.Get("x-amzn-RequestId"), body: data}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &e) == nil && e.Type != "" {
		_, r.code, _ = strings.Cut(e.Type, "#")
		r.msg = e.Message
	}
	return r
}

func TestProtocolRefusals(t *testing.T) {
	h := startServer(t, func(o *endpoint.Options) { o.MaxBodyBytes = 4096 })
	const ct = "application/x-amz-json-1.1"
	list := []byte(`{}`)
	cases := []struct {
		name            string
		target, ctype   string
		body            []byte
		key, secret     string
		mutate          func(*http.Request)
		status          int
		code, inMessage string
	}{
		{name: "signed ok", target: "DataPipeline.ListPipelines", ctype: ct, body: list, key: testKey, secret: testSecret, status: 200},
		{name: "old target and JSON 1.0", target: "DataPipeline_20121129.ListPipelines", ctype: "application/x-amz-json-1.0", body: list, key: testKey, secret: testSecret, status: 200},
		{name: "unsigned", target: "DataPipeline.ListPipelines", ctype: ct, body: list, status: 403, code: "MissingAuthenticationTokenException"},
		{name: "wrong secret", target: "DataPipeline.ListPipelines", ctype: ct, body: list, key: testKey, secret: "nope", status: 403, code: "InvalidSignatureException", inMessage: "does not match"},
		{name: "unknown key", target: "DataPipeline.ListPipelines", ctype: ct, body: list, key: "AKIDOTHER", secret: testSecret, status: 403, code: "UnrecognizedClientException"},
		{name: "body changed after signing", target: "DataPipeline.ListPipelines", ctype: ct, body: list, key: testKey, secret: testSecret, status: 403, code: "InvalidSignatureException",
			mutate: func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(`{"marker":"1"}`))
				r.ContentLength = 14
				r.Header.Del("X-Amz-Content-Sha256")
			}},
		{name: "target changed after signing", target: "DataPipeline.ListPipelines", ctype: ct, body: list, key: testKey, secret: testSecret, status: 403, code: "InvalidSignatureException",
			mutate: func(r *http.Request) { r.Header.Set("X-Amz-Target", "DataPipeline.DeletePipeline") }},
		{name: "stale date", target: "DataPipeline.ListPipelines", ctype: ct, body: list, key: testKey, secret: testSecret, status: 403, code: "InvalidSignatureException", inMessage: "expired",
			mutate: func(r *http.Request) {
				old := time.Now().Add(-time.Hour)
				sum := sha256.Sum256(list)
				r.Header.Del("Authorization")
				_ = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}, r, hex.EncodeToString(sum[:]), "datapipeline", "us-east-1", old)
			}},
		{name: "garbage authorization", target: "DataPipeline.ListPipelines", ctype: ct, body: list, status: 403, code: "IncompleteSignatureException",
			mutate: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 nonsense") }},
		{name: "future date", target: "DataPipeline.ListPipelines", ctype: ct, body: list, key: testKey, secret: testSecret, status: 403, code: "InvalidSignatureException", inMessage: "not yet valid",
			mutate: func(r *http.Request) {
				sum := sha256.Sum256(list)
				r.Header.Del("Authorization")
				_ = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}, r, hex.EncodeToString(sum[:]), "datapipeline", "us-east-1", time.Now().Add(time.Hour))
			}},
		{name: "other region", target: "DataPipeline.ListPipelines", ctype: ct, body: list, key: testKey, secret: testSecret, status: 403, code: "InvalidSignatureException", inMessage: "valid region",
			mutate: func(r *http.Request) {
				sum := sha256.Sum256(list)
				r.Header.Del("Authorization")
				_ = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}, r, hex.EncodeToString(sum[:]), "datapipeline", "ap-south-1", time.Now())
			}},
		{name: "oversize body", target: "DataPipeline.EvaluateExpression", ctype: ct, body: []byte(`{"expression":"` + strings.Repeat("x", 5000) + `"}`), key: testKey, secret: testSecret, status: 413, code: "RequestEntityTooLargeException"},
		{name: "malformed JSON", target: "DataPipeline.CreatePipeline", ctype: ct, body: []byte(`{"name": "x", `), key: testKey, secret: testSecret, status: 400, code: "SerializationException"},
		{name: "wrong JSON type", target: "DataPipeline.CreatePipeline", ctype: ct, body: []byte(`{"name": 5, "uniqueId": "u"}`), key: testKey, secret: testSecret, status: 400, code: "SerializationException"},
		{name: "unknown operation", target: "DataPipeline.LaunchRockets", ctype: ct, body: list, key: testKey, secret: testSecret, status: 400, code: "UnknownOperationException"},
		{name: "foreign target", target: "DynamoDB_20120810.ListTables", ctype: ct, body: list, key: testKey, secret: testSecret, status: 400, code: "UnknownOperationException"},
		{name: "no target", ctype: ct, body: list, key: testKey, secret: testSecret, status: 400, code: "UnknownOperationException"},
		{name: "missing required member", target: "DataPipeline.CreatePipeline", ctype: ct, body: []byte(`{"name":"x"}`), key: testKey, secret: testSecret, status: 400, code: "InvalidRequestException", inMessage: "uniqueId"},
		{name: "unknown pipeline", target: "DataPipeline.GetPipelineDefinition", ctype: ct, body: []byte(`{"pipelineId":"df-NOPE"}`), key: testKey, secret: testSecret, status: 400, code: "PipelineNotFoundException"},
		{name: "bad task status", target: "DataPipeline.SetTaskStatus", ctype: ct, body: []byte(`{"taskId":"t","taskStatus":"DONE"}`), key: testKey, secret: testSecret, status: 400, code: "InvalidRequestException"},
		{name: "reserved errorId", target: "DataPipeline.SetTaskStatus", ctype: ct, body: []byte(`{"taskId":"t","taskStatus":"FAILED","errorId":"Service_X"}`), key: testKey, secret: testSecret, status: 400, code: "InvalidRequestException", inMessage: "reserved"},
		{name: "unknown task", target: "DataPipeline.SetTaskStatus", ctype: ct, body: []byte(`{"taskId":"t","taskStatus":"FINISHED"}`), key: testKey, secret: testSecret, status: 400, code: "TaskNotFoundException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, h.url, c.target, c.ctype, c.body, c.key, c.secret, c.mutate)
			if r.status != c.status || r.code != c.code {
				t.Fatalf("status %d code %q (%s), want %d %q\n%s", r.status, r.code, r.msg, c.status, c.code, r.body)
			}
			if c.inMessage != "" && !strings.Contains(r.msg, c.inMessage) {
				t.Fatalf("message %q does not mention %q", r.msg, c.inMessage)
			}
			if r.reqID == "" {
				t.Fatal("no x-amzn-RequestId header")
			}
		})
	}
	// Still serving after all of it.
	if r := call(t, h.url, "DataPipeline.ListPipelines", ct, list, testKey, testSecret, nil); r.status != 200 {
		t.Fatalf("server stopped answering: %d %s", r.status, r.body)
	}
}

// FuzzServeHTTP sends arbitrary operations and bodies to an unauthenticated
// server: every answer is JSON with the service's error shape, never a
// crash or an internal error.
func FuzzServeHTTP(f *testing.F) {
	dir := f.TempDir()
	srv, err := endpoint.New(endpoint.Options{StateDir: dir, NoAuth: true, Logf: func(string, ...any) {}, PollTimeout: time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	for _, op := range endpoint.Operations() {
		f.Add(op, []byte(`{}`))
		f.Add(op, []byte(`{"pipelineId":"df-X","pipelineObjects":[{"id":"","fields":[{"key":"a"}]}]}`))
	}
	f.Add("CreatePipeline", []byte(`{"name":"n","uniqueId":"u","tags":[{"key":""}]}`))
	f.Add("QueryObjects", []byte(`{"pipelineId":"df-X","sphere":"instance","query":{"selectors":[{}]}}`))
	f.Add("ActivatePipeline", []byte(`{"pipelineId":"df-X","startTimestamp":1e300}`))
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "DataPipeline."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %q: status %d: %s", op, body, w.Code, w.Body.Bytes())
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %q: answer is not JSON: %q", op, body, w.Body.Bytes())
		}
	})
}
