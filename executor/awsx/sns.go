package awsx

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// ARNRegion returns the region field of an ARN
// (arn:partition:service:region:account:resource), "" when absent.
func ARNRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}

// Publish sends an SnsAlarm: subject and message (already evaluated) to
// topicArn, using the client of the ARN's region. It returns SNS's
// message id.
func (e *Env) Publish(ctx context.Context, topicArn, subject, message string) (string, error) {
	if !strings.HasPrefix(topicArn, "arn:") || !strings.Contains(topicArn, ":sns:") {
		return "", fmt.Errorf("sns publish: %q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)", topicArn)
	}
	in := &sns.PublishInput{TopicArn: &topicArn, Message: &message}
	if subject != "" {
		// SNS rejects subjects with line breaks or of 100+ characters;
		// fold line breaks so an alarm is not lost over formatting.
		s := strings.Join(strings.Fields(subject), " ")
		if r := []rune(s); len(r) > 99 {
			s = string(r[:99])
		}
		in.Subject = aws.String(s)
	}
	out, err := e.SNS(ARNRegion(topicArn)).Publish(ctx, in)
	if err != nil {
		return "", fmt.Errorf("sns publish to %s: %w", topicArn, err)
	}
	return aws.ToString(out.MessageId), nil
}

// TableExists is TableExists with the client of region ("" = default).
func (e *Env) TableExists(ctx context.Context, region, table string) (bool, error) {
	return TableExists(ctx, e.DynamoDB(region), table)
}

// DataExists is DataExists with the client of region ("" = default).
func (e *Env) DataExists(ctx context.Context, region, table string) (bool, error) {
	return DataExists(ctx, e.DynamoDB(region), table)
}
