"""Dataset 1.1.0, alerting: alerting channels and Smart Alert configurations on the seeded world.

Application alerts watch the services, endpoints and applications that have metric series; their static
thresholds come from those series: above every value the metric takes outside the entity's issues (so the
alert never fires on normal traffic) and, where the entity has issues of the alerted kind, below the weakest
issue's peak (so each such issue crosses it). Infrastructure alerts do the same for CPU and memory of the
snapshots with series. Everything is derived from rows already in the database with private random streams,
so seeding 1.1.0 directly and upgrading to it give the same rows."""

from __future__ import annotations

import hashlib
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apmseed import load, vocab
from apmseed.factories.alerting import AlertConfigFactory, AlertingChannelFactory
from apmseed.factories.base import reseed
from apmseed.layers import LayerContext, Rows
from apmseed.schema.alerting import GRANULARITIES

MINUTE_MS = 60_000
CHANNEL_KINDS = ("email", "slack", "webhook", "pagerduty", "opsgenie", "office365")  # factory traits
CONFIG_TRAITS = ("application", "global_application", "infra")
PAGING_KINDS = frozenset({"PAGER_DUTY", "OPS_GENIE"})
MAX_CHANNELS = 24
# series an alert can watch: (entity kind, metric, aggregation)
WATCHED = {
    ("SERVICE", "latency", "P95"), ("SERVICE", "calls", "SUM"), ("SERVICE", "erroneousCalls", "SUM"),
    ("APPLICATION", "latency", "P95"), ("APPLICATION", "calls", "SUM"), ("APPLICATION", "erroneousCalls", "SUM"),
    ("ENDPOINT", "latency", "MEAN"),
    ("INFRASTRUCTURE", "cpu.used", "MEAN"), ("INFRASTRUCTURE", "memory.used", "MEAN"),
}
SUM_METRICS = frozenset({"calls", "erroneousCalls"})
PROBLEM_KIND = {texts[0]: kind for kind, texts in vocab.PROBLEMS.items()}  # issue `problem` -> kind
# which issue kinds an alert on a metric is meant to catch
CATCHES = {"latency": "latency", "errorRate": "errors", "cpu.used": "cpu", "memory.used": "memory"}
PLURAL = {"host": "hosts", "docker": "containers", "process": "processes"}
ENTITY_TAG = {"host": "host.name", "docker": "docker.container.name", "process": "host.name"}
CRITICAL_SHARE = {"slowness": 0.5, "errorRate": 0.5, "throughput": 0.3, "cpu": 0.6, "memory": 0.5}


@dataclass
class Signal:
    """One watched metric of one entity on the alert's evaluation buckets: the bucket values, which buckets
    overlap an issue of the entity, and the peak inside each issue, by issue kind."""

    values: np.ndarray
    in_issue: np.ndarray
    peaks: dict[str, list[float]] = field(default_factory=dict)

    @property
    def normal(self) -> np.ndarray:
        return self.values[~self.in_issue]


@dataclass
class Issue:
    kind: str
    start_ms: int
    until_ms: int
    application_id: str | None


def fill(ctx: LayerContext) -> Rows:
    reseed(int.from_bytes(hashlib.blake2b(f"{ctx.seed}:{ctx.version}:alerting".encode(), digest_size=4).digest(),
                          "big"))
    return Alerting(ctx).rows()


def _traits(names: tuple[str, ...], chosen: str) -> dict[str, bool]:
    """Every trait of a factory named, the chosen one on: factory_boy looks up a trait not given through a
    failing attribute lookup whose error message alone costs more than building the row."""
    return {name: name == chosen for name in names}


def granularity_ms(resolution_min: int) -> int:
    """The finest Instana evaluation granularity no finer than the metric resolution."""
    step = resolution_min * MINUTE_MS
    return next((g for g in GRANULARITIES if g >= step), GRANULARITIES[-1])


def nice_up(x: float) -> float:
    """Round up to two significant digits (123.4 -> 130, 0.0423 -> 0.043)."""
    if x <= 0:
        return 0.0
    exp = math.floor(math.log10(x)) - 1
    return round(math.ceil(round(x / 10**exp, 9)) * 10**exp, max(0, -exp))


def nice_down(x: float) -> float:
    """Round down to two significant digits (lower bounds: 1234 -> 1200)."""
    if x <= 0:
        return 0.0
    exp = math.floor(math.log10(x)) - 1
    return round(math.floor(round(x / 10**exp, 9)) * 10**exp, max(0, -exp))


def round_sig(x: float, digits: int = 3) -> float:
    return 0.0 if x == 0 else round(x, digits - 1 - math.floor(math.log10(abs(x))))


class Alerting:
    """Builds the rows of one layer run; every choice draws from `self.rand` in a fixed order."""

    def __init__(self, ctx: LayerContext) -> None:
        self.ctx = ctx
        self.rand = random.Random(f"{ctx.seed}:{ctx.version}:alerting")
        self.granularity = granularity_ms(int(ctx.options["resolution"]))
        self.channels: list[dict[str, Any]] = []
        self.channel_team: dict[str, str] = {}
        self.configs: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.scope_apps: list[dict[str, Any]] = []
        self.scope_services: list[dict[str, Any]] = []
        self.scope_endpoints: list[dict[str, Any]] = []

    # -- reading the world ----------------------------------------------------------------------------------

    def load(self) -> None:
        ctx = self.ctx
        self.apps = {r["id"]: dict(r) for r in ctx.rows(
            "SELECT id, label, business_criticality FROM application ORDER BY id")}
        self.services = {r["id"]: dict(r) for r in ctx.rows("SELECT id, label FROM service ORDER BY id")}
        self.endpoints = {r["id"]: dict(r) for r in ctx.rows("SELECT id, service_id, label FROM endpoint ORDER BY id")}
        self.apps_of: dict[str, list[str]] = defaultdict(list)
        for r in ctx.rows("SELECT application_id, service_id FROM application_service ORDER BY 1, 2"):
            self.apps_of[r["service_id"]].append(r["application_id"])
        self.snapshots = {r["snapshot_id"]: dict(r) for r in ctx.rows(
            "SELECT snapshot_id, plugin, label, host, tags FROM snapshot ORDER BY snapshot_id")}
        self.issues: dict[tuple[str, str], list[Issue]] = defaultdict(list)
        for r in ctx.rows(
                "SELECT entity_type, CASE entity_type WHEN 'APPLICATION' THEN application_id"
                " WHEN 'SERVICE' THEN service_id WHEN 'ENDPOINT' THEN endpoint_id ELSE snapshot_id END eid,"
                " problem, start_ms, coalesce(end_ms, :end) until_ms, application_id FROM event"
                " WHERE type = 'issue' ORDER BY start_ms, event_id", end=ctx.end_ms):
            self.issues[(r["entity_type"], r["eid"])].append(
                Issue(PROBLEM_KIND.get(r["problem"], "other"), r["start_ms"], r["until_ms"], r["application_id"]))
        self.team_of = {app: self.rand.choice(vocab.TEAMS) for app in self.apps}
        self.signals = self._signals()

    def _signals(self) -> dict[tuple[str, str, str], Signal]:
        """(entity kind, entity id, metric) -> Signal; `errorRate` is derived from calls and erroneous calls."""
        series = {r["series_id"]: r for r in self.ctx.rows(
            "SELECT series_id, entity_kind, coalesce(application_id, service_id, endpoint_id, snapshot_id) eid,"
            " metric_id, aggregation FROM metric_series ORDER BY series_id")
            if (r["entity_kind"], r["metric_id"], r["aggregation"]) in WATCHED}
        raw: dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]] = {}  # per-bucket values, bucket has data
        start, g = self.ctx.start_ms, self.granularity
        n_buckets = max(1, -(-(self.ctx.end_ms - start) // g))
        for series_id, ts, values in load.series_points(self.ctx.pg, series):
            s = series[series_id]
            bucket = (ts - start) // g
            counts = np.bincount(bucket, minlength=n_buckets)
            present = counts > 0
            if s["metric_id"] in SUM_METRICS:
                per_bucket = np.bincount(bucket, weights=values, minlength=n_buckets)
            else:  # a bucket is at most as bad as its worst point
                per_bucket = np.zeros(n_buckets)
                if counts.max(initial=0) <= 1:  # one point per bucket: the usual case
                    per_bucket[bucket] = values
                else:
                    np.maximum.at(per_bucket, bucket, values)
            raw[(s["entity_kind"], s["eid"], s["metric_id"])] = (per_bucket, present)
        for (kind, eid, metric), (calls, present) in list(raw.items()):
            errors = raw.get((kind, eid, "erroneousCalls"))
            if metric == "calls" and errors is not None:
                rate = errors[0] / np.maximum(calls, 1.0)
                raw[(kind, eid, "errorRate")] = (rate, present & errors[1] & (calls > 0))
        bucket_starts = start + np.arange(n_buckets, dtype=np.int64) * g
        return {key: self._signal(values, present, bucket_starts, self.issues.get(key[:2], []))
                for key, (values, present) in sorted(raw.items())}

    def _signal(self, per_bucket: np.ndarray, present: np.ndarray, bucket_starts: np.ndarray,
                issues: list[Issue]) -> Signal:
        g = self.granularity
        in_issue = np.zeros(per_bucket.size, dtype=bool)
        peaks: dict[str, list[float]] = defaultdict(list)
        for issue in issues:
            overlap = (bucket_starts < issue.until_ms) & (bucket_starts + g > issue.start_ms)
            in_issue |= overlap
            inside = per_bucket[overlap & present]
            if inside.size:
                peaks[issue.kind].append(float(inside.max()))
        return Signal(per_bucket[present], in_issue[present], dict(peaks))

    # -- thresholds -----------------------------------------------------------------------------------------

    def _levels(self, problem: str, signals: list[Signal], catches: str | None) -> dict[str, float]:
        """Static thresholds for `problem` watched over `signals` (one entity, or several for fleet and
        global alerts)."""
        normal = np.concatenate([s.normal for s in signals]) if signals else np.empty(0)
        weakest = min((p for s in signals for p in s.peaks.get(catches or "", [])), default=None)
        critical = self.rand.random() < CRITICAL_SHARE[problem]
        if problem == "throughput":
            low = float(normal.min()) if normal.size else 0.0
            levels = {"warning": nice_down(low * 0.6)}
            if critical and nice_down(low * 0.3) < levels["warning"]:
                levels["critical"] = nice_down(low * 0.3)
            return levels
        high = float(normal.max()) if normal.size else None
        if problem == "slowness":
            base = high if high is not None else 500.0
            warning = nice_up(base * self.rand.uniform(1.1, 1.25))
        elif problem == "errorRate":
            base = high if high is not None else 0.02
            warning = min(1.0, nice_up(max(base * self.rand.uniform(1.2, 1.5), 0.01)))
        else:  # cpu, memory: shares of 0..1
            base = high if high is not None else 0.6
            warning = min(1.0, nice_up(base * self.rand.uniform(1.05, 1.15)))
        if weakest is not None and high is not None and weakest > high * 1.05:
            warning = min(warning, round_sig((high + weakest) / 2))  # still above normal, below every issue peak
        levels = {"warning": warning}
        if critical:
            if problem == "slowness":
                levels["critical"] = nice_up(max(base * 2.0, warning * 1.2))
            elif problem == "errorRate":
                levels["critical"] = min(1.0, nice_up(max(warning * 2.0, 0.1)))
            else:
                levels["critical"] = min(0.99, max(0.92, round(warning + 0.03, 2)))
            if levels["critical"] <= warning:  # no room left below the ceiling
                del levels["critical"]
        return levels

    # -- channels -------------------------------------------------------------------------------------------

    def build_channels(self) -> None:
        n = max(4, min(MAX_CHANNELS, len(self.apps) // 2 + 4))
        teams = list(vocab.TEAMS)
        for i in range(n):
            team = teams[i % len(teams)]
            row = AlertingChannelFactory.build(seed=self.ctx.seed, n=i, team=team,
                                               **_traits(CHANNEL_KINDS, CHANNEL_KINDS[i % len(CHANNEL_KINDS)]))
            self.channels.append(row)
            self.channel_team[row["id"]] = team

    def pick_channels(self, team: str, severity: int, enabled: bool) -> list[str]:
        """Paging for critical alerts, chat or email for the rest; the team's own channels first."""
        if not enabled and self.rand.random() < 0.5:
            return []
        def pool(paging: bool) -> list[str]:
            fits = [c["id"] for c in self.channels if (c["kind"] in PAGING_KINDS) == paging]
            own = [c for c in fits if self.channel_team[c] == team]
            return own or fits
        chosen = {self.rand.choice(pool(False))}
        if severity == 10 and pool(True):
            chosen.add(self.rand.choice(pool(True)))
        if self.rand.random() < 0.3:
            chosen.add(self.rand.choice([c["id"] for c in self.channels]))
        return sorted(chosen)

    # -- configs --------------------------------------------------------------------------------------------

    def add_config(self, trait: str, **params: Any) -> dict[str, Any]:
        row = AlertConfigFactory.build(seed=self.ctx.seed, n=len(self.configs), window_start_ms=self.ctx.start_ms,
                                       granularity_ms=self.granularity, **_traits(CONFIG_TRAITS, trait), **params)
        self.configs.append(row)
        for channel_id in self.pick_channels(params.get("team", "platform"), row["severity"], row["enabled"]):
            self.links.append({"alert_config_id": row["id"], "channel_id": channel_id})
        return row

    def _scope(self, config: dict[str, Any], app_id: str, service_id: str | None = None,
               endpoint_id: str | None = None) -> None:
        own = config["family"] == "APPLICATION"
        self.scope_apps.append({"alert_config_id": config["id"], "application_id": app_id,
                                "family": config["family"], "config_application_id": app_id if own else None,
                                "inclusive": service_id is None})
        if service_id is not None:
            self.scope_services.append({"alert_config_id": config["id"], "application_id": app_id,
                                        "service_id": service_id, "inclusive": endpoint_id is None})
        if endpoint_id is not None:
            self.scope_endpoints.append({"alert_config_id": config["id"], "application_id": app_id,
                                         "service_id": service_id, "endpoint_id": endpoint_id, "inclusive": True})

    def _application_for(self, kind: str, eid: str, service_id: str) -> str:
        """The application an alert on a service or endpoint lives in: where its issues were seen, if any."""
        for issue in self.issues.get((kind, eid), []):
            if issue.application_id in self.apps_of[service_id]:
                return issue.application_id
        return self.rand.choice(self.apps_of[service_id])

    def application_configs(self) -> None:
        for kind, eid, metric in sorted(self.signals):
            signal = self.signals[(kind, eid, metric)]
            if kind == "SERVICE" and metric in ("latency", "errorRate") and self.apps_of.get(eid):
                app = self._application_for(kind, eid, eid)
                problem = "slowness" if metric == "latency" else "errorRate"
                row = self.add_config(
                    "application", problem=problem, subject=self.services[eid]["label"],
                    aggregation="P95" if metric == "latency" else "MEAN", application_id=app,
                    evaluation_type="PER_AP_SERVICE", team=self.team_of[app],
                    levels=self._levels(problem, [signal], CATCHES[metric]))
                self._scope(row, app, eid)
            elif kind == "ENDPOINT" and metric == "latency":
                service_id = self.endpoints[eid]["service_id"]
                if not self.apps_of.get(service_id):
                    continue
                app = self._application_for(kind, eid, service_id)
                subject = f"{self.services[service_id]['label']} {self.endpoints[eid]['label']}"
                row = self.add_config(
                    "application", problem="slowness", subject=subject, aggregation="MEAN", application_id=app,
                    evaluation_type="PER_AP_ENDPOINT", team=self.team_of[app],
                    levels=self._levels("slowness", [signal], "latency"))
                self._scope(row, app, service_id, eid)
            elif kind == "APPLICATION" and metric in ("latency", "calls"):
                problem = "slowness" if metric == "latency" else "throughput"
                row = self.add_config(
                    "application", problem=problem, subject=self.apps[eid]["label"],
                    aggregation="P95" if metric == "latency" else "SUM", application_id=eid,
                    evaluation_type="PER_AP", team=self.team_of[eid],
                    levels=self._levels(problem, [signal], CATCHES.get(metric)))
                self._scope(row, eid)

    def global_configs(self) -> None:
        if not self.apps:
            return
        every = sorted(self.apps)
        critical_apps = [a for a in every if self.apps[a]["business_criticality"] >= 3] or [
            max(every, key=lambda a: (self.apps[a]["business_criticality"], a))]
        # built in: adaptive baselines need no data-derived level
        row = self.add_config("global_application", problem="errorRate", subject="any service", aggregation="MEAN",
                              name="Erroneous call rate is higher than normal", evaluation_type="PER_AP_SERVICE",
                              built_in=True, adaptive=True, levels={"warning": 3.0})
        for app in every:
            self._scope(row, app)

        latency = [s for (k, eid, m), s in sorted(self.signals.items())
                   if m == "latency" and k == "APPLICATION" and eid in critical_apps]
        row = self.add_config("global_application", problem="slowness", subject="business-critical applications",
                              name="Slow calls in business-critical applications", aggregation="P95",
                              evaluation_type="PER_AP", levels=self._levels("slowness", latency, "latency"))
        for app in critical_apps:
            self._scope(row, app)

        in_apps = {s for s, apps in self.apps_of.items() if apps}
        errors = [s for (k, eid, m), s in sorted(self.signals.items())
                  if m == "errorRate" and k == "SERVICE" and eid in in_apps]
        row = self.add_config("global_application", problem="errorRate", subject="the services of every application",
                              name="Erroneous calls across all applications", aggregation="MEAN",
                              evaluation_type="PER_AP_SERVICE", levels=self._levels("errorRate", errors, "errors"))
        for app in every:
            self._scope(row, app)

    def infra_configs(self) -> None:
        by_plugin: dict[tuple[str, str], list[Signal]] = defaultdict(list)
        for (kind, eid, metric), signal in sorted(self.signals.items()):
            if kind != "INFRASTRUCTURE":
                continue
            snap = self.snapshots[eid]
            problem = "cpu" if metric == "cpu.used" else "memory"
            by_plugin[(snap["plugin"], metric)].append(signal)
            team = next((t.split(":", 1)[1] for t in snap["tags"] if t.startswith("team:")), "platform")
            self.add_config(
                "infra", problem=problem, subject=self._subject(snap), aggregation="MEAN", entity_type=snap["plugin"],
                team=team, snapshot_id=eid, tag_filter_expression=self._entity_filter(snap),
                group_by=[ENTITY_TAG[snap["plugin"]]], levels=self._levels(problem, [signal], CATCHES[metric]))
        for (plugin, metric), signals in sorted(by_plugin.items()):
            problem = "cpu" if metric == "cpu.used" else "memory"
            self.add_config(
                "infra", problem=problem, subject=f"all {PLURAL[plugin]}", aggregation="MEAN", entity_type=plugin,
                group_by=[ENTITY_TAG[plugin]], levels=self._levels(problem, signals, CATCHES[metric]))

    @staticmethod
    def _subject(snap: dict[str, Any]) -> str:
        if snap["plugin"] == "process":
            return f"{snap['host']} ({snap['label'].split(' ', 1)[0].rsplit('/', 1)[-1]})"
        return str(snap["label"])

    @staticmethod
    def _entity_filter(snap: dict[str, Any]) -> dict[str, Any]:
        """An Instana infrastructure tag filter that selects exactly this snapshot."""
        def tag(name: str, value: str) -> dict[str, Any]:
            return {"type": "TAG_FILTER", "name": name, "operator": "EQUALS", "entity": "NOT_APPLICABLE",
                    "value": value, "stringValue": value}
        if snap["plugin"] == "host":
            return tag("host.name", snap["host"])
        if snap["plugin"] == "docker":
            return tag("docker.container.name", snap["label"])
        return {"type": "EXPRESSION", "logicalOperator": "AND",
                "elements": [tag("host.name", snap["host"]), tag("process.name", snap["label"].split(" ", 1)[0])]}

    def rows(self) -> Rows:
        self.load()
        self.build_channels()
        self.application_configs()
        self.global_configs()
        self.infra_configs()
        return {
            "alerting_channel": self.channels,
            "alert_config": self.configs,
            "alert_config_channel": sorted(self.links, key=lambda r: (r["alert_config_id"], r["channel_id"])),
            "alert_scope_application": self.scope_apps,
            "alert_scope_service": self.scope_services,
            "alert_scope_endpoint": self.scope_endpoints,
        }
