import { expect } from "chai";
import {
  outboundAlarmSpecs,
  outboundDashboardTiles,
} from "../../components/webhooks/outboundAlarms";

describe("outbound alarm specs and dashboard tiles", () => {
  const subs = [{ subscription: "billing", queueName: "q-billing", dlqName: "q-billing-dlq" }];

  it("alarms per subscription on failed attempts, the oldest message, the DLQ and a disabled endpoint", () => {
    const specs = outboundAlarmSpecs(subs);
    expect(specs.map((s) => s.key)).to.deep.equal([
      "outbound-billing-failures",
      "outbound-billing-oldest",
      "outbound-billing-dlq",
      "outbound-billing-disabled",
    ]);
    const emf = { service: "outbound-dispatcher", subscription: "billing" };
    expect(specs[0]).to.deep.include({
      namespace: "Switchyard",
      metricName: "OutboundAttemptFailed",
      dimensions: emf,
      statistic: "Sum",
      threshold: 5,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      periodSeconds: 300,
    });
    // the whole default schedule (99305 s) plus an hour
    expect(specs[1]).to.deep.include({
      namespace: "AWS/SQS",
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: "q-billing" },
      threshold: 102905,
      comparisonOperator: "GreaterThanThreshold",
    });
    expect(specs[2]).to.deep.include({
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: "q-billing-dlq" },
      threshold: 0,
    });
    expect(specs[3]).to.deep.include({
      metricName: "OutboundEndpointDisabled",
      dimensions: emf,
      threshold: 1,
    });
  });

  it("takes thresholds and the schedule the stack uses", () => {
    const [failures, oldest] = outboundAlarmSpecs(subs, {
      failuresPer5Minutes: 50,
      retryScheduleSeconds: [0, 60, 600],
    });
    expect(failures.threshold).to.equal(50);
    expect(oldest.threshold).to.equal(660 + 3600);
  });

  it("gives one tile per subscription", () => {
    const [tile] = outboundDashboardTiles(subs);
    expect(tile.title).to.equal("Outbound billing");
    expect(tile.metrics.map((m) => m.slice(0, 2))).to.deep.equal([
      ["Switchyard", "OutboundDelivered"],
      ["Switchyard", "OutboundAttemptFailed"],
      ["Switchyard", "OutboundExhausted"],
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible"],
      ["AWS/SQS", "ApproximateAgeOfOldestMessage"],
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible"],
    ]);
  });
});
