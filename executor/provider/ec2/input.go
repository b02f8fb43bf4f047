package ec2

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dpl-dev/dpl/executor/provider"
	"github.com/dpl-dev/dpl/executor/provider/awsprov"
)

// m1Regions are the regions where Data Pipeline's default instance type
// is m1.small; elsewhere it is t2.small (the service's documentation).
var m1Regions = map[string]bool{
	"us-east-1": true, "us-west-1": true, "us-west-2": true, "eu-west-1": true,
	"ap-northeast-1": true, "ap-southeast-1": true, "ap-southeast-2": true, "sa-east-1": true,
}

// instanceType is the resource's instanceType, else the service's default
// for the region.
func instanceType(spec provider.Spec, region string) string {
	if v, ok := spec.Field("instanceType"); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	if m1Regions[region] {
		return "m1.small"
	}
	return "t2.small"
}

// arm64 reports whether an instance type is a Graviton one (m6g, t4g,
// c7gn, r8g …: a 'g' after the generation digit).
func arm64(typ string) bool {
	family, _, _ := strings.Cut(typ, ".")
	for i, c := range family {
		if c >= '0' && c <= '9' {
			return strings.Contains(family[i+1:], "g")
		}
	}
	return false
}

func amiParameter(typ string) string {
	if arm64(typ) {
		return AMIParameterArm64
	}
	return AMIParameterX86
}

func field(spec provider.Spec, key string) string {
	v, _ := spec.Field(key)
	return strings.TrimSpace(v)
}

func values(spec provider.Spec, key string) []string {
	var out []string
	if spec.Values != nil {
		for _, v := range spec.Values("", key) {
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		}
		return out
	}
	if v := field(spec, key); v != "" {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// spot reports whether this start uses the spot market, and the bid:
// spotBidPrice set, except on the last start with useOnDemandOnLastAttempt.
func spot(spec provider.Spec) (bool, string) {
	bid := field(spec, "spotBidPrice")
	if bid == "" {
		return false, ""
	}
	if strings.EqualFold(field(spec, "useOnDemandOnLastAttempt"), "true") && spec.Failures >= spec.MaximumRetries {
		return false, bid
	}
	return true, bid
}

// buildInput is the RunInstances request of a resource instance.
func buildInput(env *awsprov.Env, spec provider.Spec, region, ami, keyParam string) (*ec2.RunInstancesInput, error) {
	typ := instanceType(spec, region)
	script, err := UserData(env, spec, region, keyParam)
	if err != nil {
		return nil, err
	}
	in := &ec2.RunInstancesInput{
		ImageId:      aws.String(ami),
		InstanceType: types.InstanceType(typ),
		MinCount:     aws.Int32(1), MaxCount: aws.Int32(1),
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(script))),
		// The runner shuts the machine down when it ends (and at
		// terminateAfter if dpl is gone): that terminates it.
		InstanceInitiatedShutdownBehavior: types.ShutdownBehaviorTerminate,
	}
	if v := field(spec, "keyPair"); v != "" {
		in.KeyName = aws.String(v)
	}
	if v := field(spec, "resourceRole"); v != "" {
		// The instance profile of the role (the console creates one of the
		// same name, as DataPipelineDefaultResourceRole has).
		in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String(v)}
	}
	if v := field(spec, "availabilityZone"); v != "" {
		in.Placement = &types.Placement{AvailabilityZone: aws.String(v)}
	}
	subnet := field(spec, "subnetId")
	groupIDs := values(spec, "securityGroupIds")
	if pub := field(spec, "associatePublicIpAddress"); pub != "" {
		// EC2 takes the public address choice only on a network interface.
		b, err := strconv.ParseBool(pub)
		if err != nil {
			return nil, fmt.Errorf("associatePublicIpAddress %q: want true or false", pub)
		}
		ni := types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), AssociatePublicIpAddress: aws.Bool(b),
			Groups: groupIDs, DeleteOnTermination: aws.Bool(true)}
		if subnet != "" {
			ni.SubnetId = aws.String(subnet)
		}
		in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{ni}
	} else {
		if subnet != "" {
			in.SubnetId = aws.String(subnet)
		}
		in.SecurityGroupIds = groupIDs
	}
	in.SecurityGroups = values(spec, "securityGroups")
	if onSpot, bid := spot(spec); onSpot {
		if _, err := strconv.ParseFloat(bid, 64); err != nil {
			return nil, fmt.Errorf("spotBidPrice %q: want a price in dollars, e.g. 0.05", bid)
		}
		in.InstanceMarketOptions = &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot,
			SpotOptions: &types.SpotMarketOptions{MaxPrice: aws.String(bid), SpotInstanceType: types.SpotInstanceTypeOneTime,
				InstanceInterruptionBehavior: types.InstanceInterruptionBehaviorTerminate}}
	}
	tags := awsprov.Tags(spec)
	var tt []types.Tag
	for _, k := range awsprov.SortedKeys(tags) {
		tt = append(tt, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	nameTag := types.Tag{Key: aws.String("Name"), Value: aws.String("dpl " + spec.InstanceID)}
	in.TagSpecifications = []types.TagSpecification{
		{ResourceType: types.ResourceTypeInstance, Tags: append(append([]types.Tag{}, tt...), nameTag)},
		{ResourceType: types.ResourceTypeVolume, Tags: tt},
	}
	return in, nil
}

// DefaultRunnerBinary is where an instance downloads dpl when its image
// has none (the release of this version for the instance's architecture).
const DefaultRunnerBinary = "https://github.com/dpl-dev/dpl/releases/latest/download/dpl-linux-%s"

// UserData is the script an instance runs at boot: install dpl if absent,
// then run `dpl taskrunner` for the resource instance's worker group
// against the run's endpoint, reading its key from keyParam with the
// instance's role; shut down (= terminate) when the runner ends, and at
// terminateAfter should dpl be gone. No secret is written into it.
func UserData(env *awsprov.Env, spec provider.Spec, region, keyParam string) (string, error) {
	arch := "amd64"
	if arm64(instanceType(spec, region)) {
		arch = "arm64"
	}
	bin := env.RunnerBinary
	if bin == "" {
		bin = fmt.Sprintf(DefaultRunnerBinary, arch)
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("#!/bin/bash")
	w("# Written by dpl run --resources aws for resource instance %s", oneLine(spec.InstanceID))
	w("# (pipeline %s, run %d). It starts dpl taskrunner for worker group %s;", oneLine(spec.PipelineID), spec.Activation, oneLine(spec.InstanceID))
	w("# the runner's endpoint key is read from SSM parameter %s with this", keyParam)
	w("# instance's role: no credential is written here.")
	w("set -u")
	w(`export DPL_STATE_DIR="${DPL_STATE_DIR:-/var/lib/dpl}"`)
	w(`mkdir -p "$DPL_STATE_DIR" && cd "$DPL_STATE_DIR" || exit 1`)
	w(`exec >>"$DPL_STATE_DIR/user-data.log" 2>&1`)
	w(`can_shutdown() { [ -z "${DPL_USERDATA_NO_SHUTDOWN:-}" ]; }`)
	if spec.TerminateAfter > 0 {
		w("# terminateAfter %s: the machine ends itself even if dpl is gone.", spec.TerminateAfter)
		w("if can_shutdown; then shutdown -h +%s || true; fi", minutes(spec.TerminateAfter))
	}
	if proxy := httpProxy(spec); proxy != "" {
		w("export http_proxy=%s https_proxy=%s HTTP_PROXY=%s HTTPS_PROXY=%s no_proxy=169.254.169.254", quote(proxy), quote(proxy), quote(proxy), quote(proxy))
	}
	w("if ! command -v dpl >/dev/null 2>&1; then")
	w("  bin=%s", quote(bin))
	w(`  case "$bin" in`)
	w(`    s3://*) aws s3 cp "$bin" /usr/local/bin/dpl ;;`)
	w(`    *) curl -fsSL --retry 5 -o /usr/local/bin/dpl "$bin" ;;`)
	w("  esac || { echo \"dpl: cannot download $bin\"; can_shutdown && shutdown -h now; exit 1; }")
	w("  chmod +x /usr/local/bin/dpl")
	w("fi")
	cmd := fmt.Sprintf("dpl taskrunner --endpoint %s --worker-group %s --endpoint-region %s --endpoint-credentials-ssm %s --ssm-region %s --output \"$DPL_STATE_DIR\"",
		quote(env.Runner.Endpoint), quote(spec.InstanceID), quote(orDefault(env.Runner.Region, "us-east-1")), quote(keyParam), quote(region))
	if u := field(spec, "runAsUser"); u != "" {
		w(`chown %s "$DPL_STATE_DIR" 2>/dev/null || true`, quote(u))
		cmd = "runuser -u " + quote(u) + " -- " + cmd
	}
	w("%s", cmd)
	w("rc=$?")
	w(`echo "dpl taskrunner exited with status $rc"`)
	w("if can_shutdown; then shutdown -h now; fi")
	w("exit $rc")
	return b.String(), nil
}

// httpProxy is http://host:port of the resource's HttpProxy object. Its
// credentials are not put into user-data (they would be readable from
// the instance metadata).
func httpProxy(spec provider.Spec) string {
	if spec.Values == nil {
		return ""
	}
	ref := spec.Values("", "httpProxy")
	if len(ref) == 0 {
		return ""
	}
	host := spec.Values(ref[0], "hostname")
	if len(host) == 0 || host[0] == "" {
		return ""
	}
	u := "http://" + host[0]
	if port := spec.Values(ref[0], "port"); len(port) > 0 && port[0] != "" {
		u += ":" + port[0]
	}
	return u
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// quote is s as one single-quoted shell word.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }
