package sqlrun

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// NewAWSRDSResolver returns an Options.ResolveRDS that asks the RDS API
// (DescribeDBInstances) for an instance's endpoint and engine. A non-empty
// region argument overrides cfg.Region per call; optFns may set a custom
// endpoint (for example a local emulator).
func NewAWSRDSResolver(cfg aws.Config, optFns ...func(*rds.Options)) func(ctx context.Context, instanceID, region string) (string, string, error) {
	return func(ctx context.Context, instanceID, region string) (string, string, error) {
		fns := optFns
		if region != "" {
			fns = append(append([]func(*rds.Options){}, optFns...), func(o *rds.Options) { o.Region = region })
		}
		client := rds.NewFromConfig(cfg, fns...)
		out, err := client.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(instanceID)})
		if err != nil {
			return "", "", err
		}
		if len(out.DBInstances) == 0 {
			return "", "", fmt.Errorf("no RDS instance %q", instanceID)
		}
		in := out.DBInstances[0]
		if in.Endpoint == nil || in.Endpoint.Address == nil {
			return "", "", fmt.Errorf("RDS instance %q has no endpoint yet (status %s)", instanceID, aws.ToString(in.DBInstanceStatus))
		}
		port := int32(0)
		if in.Endpoint.Port != nil {
			port = *in.Endpoint.Port
		}
		return aws.ToString(in.Endpoint.Address) + ":" + strconv.Itoa(int(port)), aws.ToString(in.Engine), nil
	}
}

// NewAWSRedshiftResolver returns an Options.ResolveRedshift that calls the
// Redshift DescribeClusters API (Query protocol, signed with SigV4; the SDK's
// Redshift module is not a dependency). endpoint overrides the service URL
// ("" means cfg.BaseEndpoint, else https://redshift.<region>.amazonaws.com).
func NewAWSRedshiftResolver(cfg aws.Config, endpoint string) func(ctx context.Context, clusterID, region string) (string, error) {
	return func(ctx context.Context, clusterID, region string) (string, error) {
		if region == "" {
			region = cfg.Region
		}
		ep := endpoint
		if ep == "" && cfg.BaseEndpoint != nil {
			ep = *cfg.BaseEndpoint
		}
		if ep == "" {
			ep = "https://redshift." + region + ".amazonaws.com"
		}
		form := url.Values{"Action": {"DescribeClusters"}, "Version": {"2012-12-01"}, "ClusterIdentifier": {clusterID}}
		data, err := redshiftQuery(ctx, cfg, ep, region, form)
		if err != nil {
			return "", err
		}
		var out struct {
			Clusters []struct {
				Address string `xml:"Endpoint>Address"`
				Port    int    `xml:"Endpoint>Port"`
			} `xml:"DescribeClustersResult>Clusters>Cluster"`
		}
		if err := xml.Unmarshal(data, &out); err != nil {
			return "", fmt.Errorf("DescribeClusters: %w", err)
		}
		if len(out.Clusters) == 0 || out.Clusters[0].Address == "" {
			//lint:ignore ST1005 starts with the product name
			return "", fmt.Errorf("Redshift cluster %q not found or has no endpoint", clusterID)
		}
		return out.Clusters[0].Address + ":" + strconv.Itoa(out.Clusters[0].Port), nil
	}
}

// redshiftQuery sends one SigV4-signed Redshift Query API request.
func redshiftQuery(ctx context.Context, cfg aws.Config, ep, region string, form url.Values) ([]byte, error) {
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(ep, "/")+"/", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if cfg.Credentials == nil {
		return nil, errors.New("no AWS credentials configured")
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS credentials: %w", err)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "redshift", region, time.Now()); err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code    string `xml:"Error>Code"`
			Message string `xml:"Error>Message"`
		}
		xml.Unmarshal(data, &e)
		//lint:ignore ST1005 starts with the product name
		return nil, fmt.Errorf("Redshift %s: HTTP %d %s %s", form.Get("Action"), resp.StatusCode, e.Code, e.Message)
	}
	return data, nil
}
