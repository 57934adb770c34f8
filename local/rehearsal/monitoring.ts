// CloudWatch metric alarms and the dashboard.
import {
  DescribeAlarmsCommand,
  PutDashboardCommand,
  PutMetricAlarmCommand,
} from "@aws-sdk/client-cloudwatch";
import { defined, nonEmpty, TypeRehearsal } from "./step";

type MetricQuery = {
  id: string;
  expression?: string;
  label?: string;
  returnData?: boolean;
  period?: number;
  accountId?: string;
  metric?: {
    metricName: string;
    namespace?: string;
    period: number;
    stat: string;
    unit?: string;
    dimensions?: Record<string, string>;
  };
};

const dimensions = (d?: Record<string, string>) =>
  nonEmpty(Object.entries(d ?? {}).map(([Name, Value]) => ({ Name, Value })));

export const monitoringRehearsals: Record<string, TypeRehearsal> = {
  "aws:cloudwatch/metricAlarm:MetricAlarm": {
    operations: ["PutMetricAlarm", "DescribeAlarms"],
    async apply(s) {
      const i = s.inputs;
      await s.send(
        "PutMetricAlarm",
        {
          AlarmName: "name",
          AlarmDescription: "alarmDescription",
          ActionsEnabled: "actionsEnabled",
          AlarmActions: "alarmActions",
          OKActions: "okActions",
          InsufficientDataActions: "insufficientDataActions",
          ComparisonOperator: "comparisonOperator",
          EvaluationPeriods: "evaluationPeriods",
          DatapointsToAlarm: "datapointsToAlarm",
          MetricName: "metricName",
          Namespace: "namespace",
          Period: "period",
          Statistic: "statistic",
          ExtendedStatistic: "extendedStatistic",
          Threshold: "threshold",
          TreatMissingData: "treatMissingData",
          Unit: "unit",
          Dimensions: "dimensions",
          Metrics: "metricQueries",
        },
        () =>
          s.clients.cloudwatch.send(
            new PutMetricAlarmCommand(
              defined({
                AlarmName: s.name,
                AlarmDescription: i.alarmDescription,
                ActionsEnabled: i.actionsEnabled,
                AlarmActions: nonEmpty(i.alarmActions),
                OKActions: nonEmpty(i.okActions),
                InsufficientDataActions: nonEmpty(i.insufficientDataActions),
                ComparisonOperator: i.comparisonOperator,
                EvaluationPeriods: i.evaluationPeriods,
                DatapointsToAlarm: i.datapointsToAlarm,
                MetricName: i.metricName,
                Namespace: i.namespace,
                Period: i.period,
                Statistic: i.statistic,
                ExtendedStatistic: i.extendedStatistic,
                Threshold: i.threshold,
                ThresholdMetricId: i.thresholdMetricId,
                TreatMissingData: i.treatMissingData,
                EvaluateLowSampleCountPercentile: i.evaluateLowSampleCountPercentiles,
                Unit: i.unit,
                Dimensions: dimensions(i.dimensions),
                Metrics: nonEmpty(
                  (i.metricQueries ?? []).map((q: MetricQuery) =>
                    defined({
                      Id: q.id,
                      Expression: q.expression,
                      Label: q.label,
                      ReturnData: q.returnData,
                      Period: q.period,
                      AccountId: q.accountId,
                      MetricStat: q.metric
                        ? defined({
                            Metric: defined({
                              MetricName: q.metric.metricName,
                              Namespace: q.metric.namespace,
                              Dimensions: dimensions(q.metric.dimensions),
                            }),
                            Period: q.metric.period,
                            Stat: q.metric.stat,
                            Unit: q.metric.unit as any,
                          })
                        : undefined,
                    }),
                  ),
                ),
              }),
            ),
          ),
      );
      const read = await s.send("DescribeAlarms", { AlarmNames: "name" }, () =>
        s.clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [s.name] })),
      );
      return { outputs: { id: s.name, arn: read.MetricAlarms?.[0]?.AlarmArn } };
    },
  },

  "aws:cloudwatch/dashboard:Dashboard": {
    operations: ["PutDashboard"],
    async apply(s) {
      const name = s.inputs.dashboardName ?? s.name;
      await s.send(
        "PutDashboard",
        { DashboardName: "dashboardName", DashboardBody: "dashboardBody", Body: "dashboardBody" },
        async () => {
          const out = await s.clients.cloudwatch.send(
            new PutDashboardCommand({ DashboardName: name, DashboardBody: s.inputs.dashboardBody }),
          );
          // Validation messages come back with a 200: the provider fails on them too.
          const messages = out.DashboardValidationMessages ?? [];
          if (messages.length > 0)
            throw Object.assign(
              new Error(messages.map((m) => `${m.DataPath}: ${m.Message}`).join("; ")),
              { name: "DashboardInvalidInputError" },
            );
          return out;
        },
      );
      return {
        outputs: { id: name, arn: `arn:aws:cloudwatch::${s.account}:dashboard/${name}` },
      };
    },
  },
};
