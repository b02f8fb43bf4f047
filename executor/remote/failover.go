package remote

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// splitEndpoints reads "URL[,URL…]".
func splitEndpoints(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		out = []string{""} // the SDK's own endpoint resolution
	}
	return out
}

// Endpoint returns the endpoint calls go to now.
func (c *Client) Endpoint() string { return c.endpoints[c.current.Load()] }

// Endpoints returns every endpoint, in the order given.
func (c *Client) Endpoints() []string { return append([]string(nil), c.endpoints...) }

// Do runs f with the SDK client of the current endpoint. When that
// endpoint cannot be reached — a connection error or HTTP 502, 503 or 504,
// never an answer of the API — f runs again with the next endpoint, once
// around the list, and the first that answers becomes current. f may run
// more than once: the API's calls are safe to repeat on another node
// (those that were not received there answer TaskNotFoundException).
func (c *Client) Do(ctx context.Context, f func(dp *datapipeline.Client) error) error {
	n := int32(len(c.clients))
	start := c.current.Load()
	var err error
	for i := int32(0); i < n; i++ {
		k := (start + i) % n
		err = f(c.clients[k])
		if err == nil || !unreachable(err) || ctx.Err() != nil {
			if k != start && err == nil {
				if c.current.CompareAndSwap(start, k) && c.logf != nil {
					c.logf("endpoint %s unreachable; now using %s", c.endpoints[start], c.endpoints[k])
				}
			}
			return err
		}
	}
	return err
}

// unreachable tells a failed call that never reached a working server
// from an answer of the API.
func unreachable(err error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case 0, // no response: the request was not delivered
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var ae smithy.APIError
	return !errors.As(err, &ae)
}
