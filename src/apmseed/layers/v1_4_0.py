"""Dataset 1.4.0: access (users, roles, groups, teams, API tokens, audit and access logs) and settings (host
agents, event specifications, application/service/endpoint configurations, custom dashboards).

Everything is built from the rows already there and kept consistent with them: every issue is linked to the
built-in specification whose name is its problem; an application's tag filter names its services; an agent runs
the sensors of what its host runs; a token grants only what its creator may and is used only while valid; every
audit entry's actor holds the permission (and, for applications, the access rule) its action needs; a user's
`lastLoggedIn` and a token's `lastUsedOn` are their latest access-log entries; an application's `modifiedAt`/`By`
and a custom specification's `lastUpdated` are their latest audit entries."""

from __future__ import annotations

import zlib
from collections import defaultdict
from typing import Any

from apmseed import ids
from apmseed.errors import ApmseedError
from apmseed.factories import access as fa
from apmseed.factories import settings as fs
from apmseed.factories.base import build_rows, reseed
from apmseed.layers import LayerContext, Rows
from apmseed.scenarios.world import PROBLEM_KINDS

VERSION = "1.4.0"
MINUTE_MS = 60_000
DAY_MS = 86_400_000
Row = dict[str, Any]

# audit action -> (share of the generated entries, permission its actor needs)
AUDIT_MIX = {"APPLICATION_CONFIG_UPDATED": (0.35, "CAN_CONFIGURE_APPLICATIONS"),
             "CUSTOM_DASHBOARD_UPDATED": (0.25, None),
             "EVENT_SPECIFICATION_UPDATED": (0.15, "CAN_CONFIGURE_EVENTS_AND_ALERTS"),
             "SERVICE_CONFIG_UPDATED": (0.12, "CAN_CONFIGURE_SERVICE_MAPPING"),
             "ENDPOINT_CONFIG_UPDATED": (0.13, "CAN_CONFIGURE_SERVICE_MAPPING")}
CHANGED_FIELDS = {"APPLICATION_CONFIG_UPDATED": (["scope"], ["tagFilterExpression"], ["accessRules"],
                                                 ["businessCriticality"]),
                  "CUSTOM_DASHBOARD_UPDATED": (["widgets"], ["title", "widgets"], ["accessRules"]),
                  "EVENT_SPECIFICATION_UPDATED": (["rules"], ["enabled"], ["description"]),
                  "SERVICE_CONFIG_UPDATED": (["matchSpecification"], ["enabled"]),
                  "ENDPOINT_CONFIG_UPDATED": (["rules"], ["endpointCase"])}
# what each kind of token calls
TOKEN_REQUESTS = {
    "Terraform": (("GET", "/api/application-monitoring/settings/application"),
                  ("PUT", "/api/application-monitoring/settings/application"),
                  ("GET", "/api/events/settings/event-specifications/custom")),
    "Release markers (Jenkins)": (("POST", "/api/releases"),),
    "Grafana datasource": (("POST", "/api/application-monitoring/metrics/services"),
                           ("POST", "/api/infrastructure-monitoring/metrics")),
    "Agent rollout (Ansible)": (("GET", "/api/host-agent"),),
    "ServiceNow sync": (("GET", "/api/events"),),
    "Backstage catalog": (("GET", "/api/application-monitoring/applications"),
                          ("GET", "/api/application-monitoring/services")),
    "Log shipper": (("POST", "/api/logs/analyze/logs"),),
    "On-call bot": (("GET", "/api/events"), ("POST", "/api/settings/v2/maintenance")),
}
TOKEN_AGENTS = {"Terraform": "Terraform", "Release markers (Jenkins)": "Jenkins", "Grafana datasource": "Grafana",
                "Agent rollout (Ansible)": "Ansible", "ServiceNow sync": "ServiceNow",
                "Backstage catalog": "Backstage", "Log shipper": "Log", "On-call bot": "On-call"}


def fill(ctx: LayerContext) -> Rows:
    reseed(zlib.crc32(f"{ctx.seed}:{VERSION}".encode()))
    return _Build(ctx).rows()


class _Build:
    """One pass over the database: entities first, then the logs that touch them, then the timestamps the logs
    decide (last login, last use, last modification)."""

    def __init__(self, ctx: LayerContext) -> None:
        self.ctx = ctx
        self.rand = ctx.rand
        self.seed = ctx.seed
        self.start, self.end = ctx.start_ms, ctx.end_ms
        opts = ctx.options
        self.apps = [dict(r) for r in ctx.rows("SELECT id, label FROM application ORDER BY id")]
        self.services = [dict(r) for r in ctx.rows("SELECT id, label, types FROM service ORDER BY id")]
        self.n_users = max(4, int(opts["apps"]) + int(opts["services"]) // 4)

    # -- access ---------------------------------------------------------------------------------------
    def users_and_roles(self) -> None:
        slots = self.rand.sample(range(max(len(fa.FIRST_NAMES) ** 2, self.n_users)), self.n_users)
        fa.UserFactory.reset_sequence(0, force=True)
        self.users = [fa.UserFactory.build(seed=self.seed, slot=slot) for slot in slots]
        self.roles = build_rows(fa.RoleFactory, len(fa.ROLES), seed=self.seed)
        by_name = {r["name"]: r for r in self.roles}
        shares = [spec[3] for spec in fa.ROLES]
        fixed = ["Administrator", "Application Owner", "SRE On-call", "Developer"]  # every kind of work covered
        self.role_members: set[tuple[str, str]] = set()
        for i, user in enumerate(self.users):
            main = by_name[fixed[i]] if i < len(fixed) else self.rand.choices(self.roles, weights=shares)[0]
            user["_main_role"] = main["id"]
            self.role_members.add((main["id"], user["id"]))
            if self.rand.random() < 0.25:
                extra = self.rand.choice([r for r in self.roles if r["name"] != "Administrator"])
                self.role_members.add((extra["id"], user["id"]))
        perms: dict[str, set[str]] = defaultdict(set)
        role_perms = {r["id"]: r["permissions"] for r in self.roles}
        for role_id, user_id in self.role_members:
            perms[user_id].update(role_perms[role_id])
        for user in self.users:
            user["_permissions"] = perms[user["id"]]
        self.user_by_id = {u["id"]: u for u in self.users}
        self.role_by_name = by_name
        self._holders: dict[str, list[Row]] = {}

    def holders(self, permission: str) -> list[Row]:
        if permission not in self._holders:
            self._holders[permission] = [u for u in self.users if permission in u["_permissions"]]
        return self._holders[permission]

    def groups(self) -> None:
        admins = {u for r, u in self.role_members if r == self.role_by_name["Administrator"]["id"]}
        fa.GroupFactory.reset_sequence(0, force=True)
        owners = fa.GroupFactory.build(seed=self.seed, owners=True)
        default = fa.GroupFactory.build(seed=self.seed)
        self.user_groups = [owners, default]
        self.group_members = {(owners["id"], u) for u in admins} | {(default["id"], u["id"]) for u in self.users}
        self.group_apps: set[tuple[str, str]] = set()
        candidates = self.holders("CAN_VIEW_TRACE_DETAILS")
        for app in self.apps[: max(1, len(self.apps) // 3)]:
            group = fa.GroupFactory.build(seed=self.seed, operators=True, application=app)
            self.user_groups.append(group)
            self.group_apps.add((group["id"], app["id"]))
            for user in self.rand.sample(candidates, k=min(len(candidates), self.rand.randint(1, 3))):
                self.group_members.add((group["id"], user["id"]))

    def teams(self) -> None:
        n_teams = max(2, self.n_users // 5)
        self.team_rows = build_rows(fa.TeamFactory, n_teams, seed=self.seed)
        order = list(self.users)
        self.rand.shuffle(order)
        self.team_members: set[tuple[str, str]] = set()
        for i, user in enumerate(order):
            self.team_members.add((self.team_rows[i % n_teams]["id"], user["id"]))
            if self.rand.random() < 0.3:
                self.team_members.add((self.rand.choice(self.team_rows)["id"], user["id"]))
        self.team_member_roles = [
            {"team_id": t, "user_id": u, "role_id": self.user_by_id[u]["_main_role"],
             "via_idp": self.rand.random() < 0.3} for t, u in sorted(self.team_members)]
        self.team_apps: set[tuple[str, str]] = set()
        for i, app in enumerate(self.apps):
            self.team_apps.add((self.team_rows[i % n_teams]["id"], app["id"]))
            if self.rand.random() < 0.3:
                self.team_apps.add((self.rand.choice(self.team_rows)["id"], app["id"]))

    def tokens(self) -> None:
        creators = [u for u in self.users if u["_permissions"] & {"CAN_CONFIGURE_API_TOKENS",
                                                                   "CAN_CONFIGURE_PERSONAL_API_TOKENS"}]
        n_tokens = max(2, self.n_users // 3)
        fa.ApiTokenFactory.reset_sequence(0, force=True)
        self.api_tokens = []
        for n in range(n_tokens):
            purpose = fa.TOKEN_PURPOSES[n % len(fa.TOKEN_PURPOSES)]
            powers = {p for p in purpose[1] if not p.startswith("LIMITED_")}
            # whoever can grant at least half of what the purpose needs
            able = [u for u in creators if 2 * len(powers & u["_permissions"]) >= len(powers)] or creators
            token = fa.ApiTokenFactory.build(seed=self.seed, purpose=purpose, creator=self.rand.choice(able),
                                             window_start_ms=self.start, window_end_ms=self.end)
            token["_purpose"] = purpose[0]
            self.api_tokens.append(token)

    # -- settings -------------------------------------------------------------------------------------
    def event_specifications(self) -> None:
        plugins = tuple(r["plugin"] for r in self.ctx.rows("SELECT DISTINCT plugin FROM snapshot ORDER BY 1"))
        self.built_ins = []
        for plugin, name, kind in fs.built_in_catalog(PROBLEM_KINDS, plugins):
            self.built_ins.append(fs.BuiltInSpecificationFactory.build(
                seed=self.seed, plugin=plugin, name_=name, kind_=kind, window_start_ms=self.start))
        spec_of = {(s["short_plugin_id"], s["name"]): s["id"] for s in self.built_ins}
        self.spec_events = []
        for e in self.ctx.rows("SELECT e.event_id, e.entity_type, e.problem, s.plugin FROM event e"
                               " LEFT JOIN snapshot s USING (snapshot_id) WHERE e.type = 'issue'"
                               " ORDER BY e.event_id"):
            plugin = e["plugin"] or fs.APPLICATION_PLUGINS[e["entity_type"]]
            spec = spec_of.get((plugin, e["problem"]))
            if spec is None:
                raise ApmseedError(f"issue {e['event_id']} ({e['problem']!r} on a {plugin}) matches no built-in "
                                   "event specification", "this is a bug in apmseed: please report it")
            self.spec_events.append({"event_id": e["event_id"], "event_specification_id": spec})
        processes = [r["label"] for r in self.ctx.rows(
            "SELECT label FROM snapshot WHERE plugin = 'process' ORDER BY snapshot_id")] or ["postgres"]
        hosts = self.ctx.rows("SELECT count(*) n FROM snapshot WHERE plugin = 'host'")[0]["n"]
        n_custom = max(2, len(self.apps) // 2)
        fs.CustomSpecificationFactory.reset_sequence(0, force=True)
        self.custom_specs = [fs.CustomSpecificationFactory.build(
            seed=self.seed, process_label=self.rand.choice(processes), host_count=max(1, int(hosts)),
            window_start_ms=self.start) for _ in range(n_custom)]

    def host_agents(self) -> None:
        snaps = {r["snapshot_id"]: dict(r) for r in self.ctx.rows(
            "SELECT snapshot_id, plugin, parent_snapshot_id, from_ms FROM snapshot ORDER BY snapshot_id")}

        def host_of(sid: str) -> str:
            while snaps[sid]["parent_snapshot_id"] is not None:
                sid = snaps[sid]["parent_snapshot_id"]
            return sid

        sensors: dict[str, set[str]] = defaultdict(set)
        for sid, snap in snaps.items():
            sensors[host_of(sid)].add(snap["plugin"])
        traced: set[str] = set()
        for r in self.ctx.rows("SELECT ss.snapshot_id, s.technologies FROM service_snapshot ss"
                               " JOIN service s ON s.id = ss.service_id ORDER BY 1, 2"):
            host = host_of(r["snapshot_id"])
            sensors[host].update(r["technologies"])
            traced.add(host)
        fs.HostAgentFactory.reset_sequence(0, force=True)
        self.agents = [
            fs.HostAgentFactory.build(seed=self.seed, host=snap, window_end_ms=self.end,
                                      plugins=sorted(sensors[sid]), mode="APM" if sid in traced else "INFRASTRUCTURE")
            for sid, snap in snaps.items() if snap["plugin"] == "host"]

    def application_configs(self) -> None:
        services_of: dict[str, list[str]] = defaultdict(list)
        for r in self.ctx.rows("SELECT a.application_id, s.label FROM application_service a"
                               " JOIN service s ON s.id = a.service_id ORDER BY 1, 2"):
            services_of[r["application_id"]].append(r["label"])
        limited = [t for t in self.api_tokens if "LIMITED_APPLICATIONS_SCOPE" in t["permissions"]]
        teams_of: dict[str, list[str]] = defaultdict(list)
        for team_id, app_id in sorted(self.team_apps):
            teams_of[app_id].append(team_id)
        members_of_role: dict[str, set[str]] = defaultdict(set)
        for role_id, user_id in self.role_members:
            members_of_role[role_id].add(user_id)
        members_of_team: dict[str, set[str]] = defaultdict(set)
        for team_id, user_id in self.team_members:
            members_of_team[team_id].add(user_id)

        self.app_configs, self.access_rules = [], []
        self.app_writers: dict[str, list[Row]] = {}
        for app in self.apps:
            rules = [("READ_WRITE", "ROLE", self.role_by_name["Administrator"]["id"])]
            if self.rand.random() < 0.4:
                rules.append(("READ_WRITE", "GLOBAL", None))
            else:
                rules.append(("READ_WRITE", "ROLE", self.role_by_name["Application Owner"]["id"]))
                rules += [("READ_WRITE", "TEAM", t) for t in teams_of[app["id"]]]
                rules.append(("READ", "ROLE", self.role_by_name["Viewer"]["id"]))
                if self.rand.random() < 0.3:
                    rules.append(("READ", "USER", self.rand.choice(self.users)["id"]))
            if limited and self.rand.random() < 0.5:
                rules.append(("READ", "API_TOKEN", self.rand.choice(limited)["internal_id"]))
            column = {"USER": "user_id", "API_TOKEN": "api_token_id", "ROLE": "role_id", "TEAM": "team_id"}
            for ord_, (access, relation, related) in enumerate(rules):
                row = {"application_id": app["id"], "ord": ord_, "access_type": access, "relation_type": relation,
                       "user_id": None, "api_token_id": None, "role_id": None, "team_id": None}
                if related is not None:
                    row[column[relation]] = related
                self.access_rules.append(row)
            # who may change the application: the permission, and a READ_WRITE rule that covers them
            allowed: set[str] = set()
            for access, relation, related in rules:
                if access != "READ_WRITE":
                    continue
                if relation == "GLOBAL":
                    allowed |= set(self.user_by_id)
                elif relation == "ROLE":
                    allowed |= members_of_role[related]
                elif relation == "TEAM":
                    allowed |= members_of_team[related]
                elif relation == "USER":
                    allowed.add(related)
            writers = [u for u in self.holders("CAN_CONFIGURE_APPLICATIONS") if u["id"] in allowed]
            self.app_writers[app["id"]] = writers
            creator = self.rand.choice(writers)
            created = self.start - self.rand.randint(30, 700) * DAY_MS
            self.app_configs.append({
                "application_id": app["id"],
                "scope": self.rand.choice(("INCLUDE_NO_DOWNSTREAM",) * 3 + (
                    "INCLUDE_IMMEDIATE_DOWNSTREAM_DATABASE_AND_MESSAGING", "INCLUDE_ALL_DOWNSTREAM")),
                "tag_filter_expression": {
                    "type": "EXPRESSION", "logicalOperator": "OR",
                    "elements": [{"type": "TAG_FILTER", "name": "service.name", "entity": "DESTINATION",
                                  "operator": "EQUALS", "stringValue": label, "value": label}
                                 for label in services_of[app["id"]]]},
                "created_ms": created, "created_by": creator["id"],
                "modified_ms": created, "modified_by": creator["id"],  # the audit log decides (see finish)
            })

    def service_settings(self) -> None:
        chosen = self.rand.sample(self.services, k=max(1, len(self.services) // 4))
        fs.ServiceConfigFactory.reset_sequence(0, force=True)
        self.service_configs = [fs.ServiceConfigFactory.build(seed=self.seed, service=s)
                                for s in sorted(chosen, key=lambda s: s["id"])]
        labels: dict[str, list[str]] = defaultdict(list)
        for r in self.ctx.rows("SELECT service_id, label FROM endpoint ORDER BY service_id, label"):
            labels[r["service_id"]].append(r["label"])
        self.endpoint_configs = [
            fs.EndpointConfigFactory.build(seed=self.seed, service=s, endpoint_labels=labels[s["id"]])
            for s in self.services if "HTTP" in s["types"]]

    def dashboards(self) -> None:
        titles = [(t.format(app=a["label"]), a) for a in self.apps for t in fs.DASHBOARDS_PER_APP]
        titles += [(t, None) for t in fs.DASHBOARDS_GLOBAL]
        self.rand.shuffle(titles)
        n = max(3, self.n_users // 2)
        fs.CustomDashboardFactory.reset_sequence(0, force=True)
        self.custom_dashboards = []
        for i in range(n):
            title, app = titles[i % len(titles)]
            if i >= len(titles):
                title = f"{title} #{i // len(titles) + 1}"
            owner = self.rand.choice(self.users)
            self.custom_dashboards.append(fs.CustomDashboardFactory.build(
                seed=self.seed, owner=owner, title_=title, application=app,
                may_publish="CAN_CREATE_PUBLIC_CUSTOM_DASHBOARDS" in owner["_permissions"],
                window_start_ms=self.start, window_end_ms=self.end))

    # -- logs -----------------------------------------------------------------------------------------
    def _client(self, kind: str, n: int) -> dict[str, str]:
        """A stable workstation (users) or client (tokens): the same IP and agent in every entry."""
        raw = ids.hexid(self.seed, f"client:{kind}", n, 6)
        ip = f"10.{200 + int(raw[:2], 16) % 50}.{int(raw[2:4], 16)}.{1 + int(raw[4:6], 16) % 254}"
        return {"ip": ip, "userAgent": fa.USER_AGENTS[int(raw, 16) % len(fa.USER_AGENTS)]}

    def access_log(self) -> None:
        minutes = int(self.ctx.options["minutes"])
        entries: list[Row] = []
        for n, user in enumerate(self.users):
            user["_client"] = self._client("user", n)
            method = "SAML" if n % 4 else "PASSWORD"
            logins = []
            for _ in range(self.rand.randint(0, max(1, min(48, minutes // 30)))):
                ts = self.rand.randint(self.start, self.end - 1)
                if self.rand.random() < 0.1 and ts - 60_000 >= self.start:
                    entries.append(self._access(ts - self.rand.randint(5_000, 60_000), "LOGIN_FAILED", user,
                                                f"Failed login for {user['email']}", {
                                                    "client": user["_client"], "authentication": {"method": method},
                                                    "failure": {"reason": "TFA_CODE_INVALID" if user["tfa_enabled"]
                                                                else "INVALID_CREDENTIALS"}}))
                logins.append(ts)
                entries.append(self._access(ts, "LOGIN_SUCCEEDED", user, f"{user['full_name']} logged in", {
                    "client": user["_client"],
                    "authentication": {"method": method, "tfa": user["tfa_enabled"]}}))
                logout = ts + self.rand.randint(5, 120) * MINUTE_MS
                if self.rand.random() < 0.6 and logout < self.end:
                    entries.append(self._access(logout, "LOGOUT", user, f"{user['full_name']} logged out",
                                                {"client": user["_client"]}))
            if logins:
                user["last_logged_in_ms"] = max(logins)
            elif self.rand.random() < 0.75:
                user["last_logged_in_ms"] = self.start - self.rand.randint(60, 60 * 24 * 60) * MINUTE_MS
        for n, token in enumerate(self.api_tokens):
            client = {"ip": self._client("token", n)["ip"],
                      "userAgent": fa.CLIENT_AGENTS[TOKEN_AGENTS[token["_purpose"]]]}
            token["_client"] = client
            valid_from = max(self.start, token["created_on_ms"])
            valid_to = min(self.end, token["expires_on_ms"] or self.end)
            uses = []
            step = self.rand.uniform(5, 30) * MINUTE_MS
            ts = valid_from + self.rand.uniform(0, step)
            while ts < valid_to:
                uses.append(int(ts))
                ts += step * self.rand.uniform(0.5, 1.5)
            for use in uses:
                method, path = self.rand.choice(TOKEN_REQUESTS[token["_purpose"]])
                entries.append(self._access(use, "API_TOKEN_USED", token,
                                            f"API token '{token['name']}' called {method} {path}",
                                            {"client": client, "request": {"method": method, "path": path}}))
            token["_uses"] = uses
            if uses:
                token["last_used_on_ms"] = max(uses)
            elif token["created_on_ms"] < self.start and self.rand.random() < 0.5:
                token["last_used_on_ms"] = self.rand.randint(token["created_on_ms"],
                                                             min(self.start, token["expires_on_ms"] or self.start) - 1)
        self.access_entries = self._numbered(entries, "access_log")

    def _access(self, ts: int, action: str, actor: Row, message: str, meta: dict[str, Any]) -> Row:
        is_token = "internal_id" in actor
        return {"timestamp_ms": ts, "action": action, "message": message,
                "actor_type": "API_TOKEN" if is_token else "USER",
                "actor_user_id": None if is_token else actor["id"],
                "actor_token_id": actor["internal_id"] if is_token else None, "meta": meta}

    def _numbered(self, entries: list[Row], kind: str) -> list[Row]:
        """Ids in time order, so they do not depend on how the entries were generated."""
        entries.sort(key=lambda e: (e["timestamp_ms"], e["action"], e["actor_user_id"] or "",
                                    e["actor_token_id"] or "", e["message"]))
        return [{"id": ids.b64id(self.seed, kind, i, 22), **e} for i, e in enumerate(entries)]

    def audit_log(self) -> None:
        entries: list[Row] = []
        targets = {column: None for column in ("application_id", "api_token_id", "custom_dashboard_id",
                                               "event_specification_id", "service_config_id",
                                               "endpoint_config_service_id")}

        def add(ts: int, action: str, actor: Row, column: str, target: str, what: str,
                fields: list[str] | None = None) -> None:
            is_token = "internal_id" in actor
            who = f"API token '{actor['name']}'" if is_token else actor["full_name"]
            meta: dict[str, Any] = {"request": actor["_client"]}
            if fields:
                meta["changes"] = {"fields": fields}
            entries.append({"timestamp_ms": ts, "action": action, "message": f"{who} {what}",
                            "actor_type": "API_TOKEN" if is_token else "USER",
                            "actor_user_id": None if is_token else actor["id"],
                            "actor_token_id": actor["internal_id"] if is_token else None,
                            **targets, column: target, "meta": meta})

        for token in self.api_tokens:
            if token["created_on_ms"] >= self.start:
                add(token["created_on_ms"], "API_TOKEN_CREATED", self.user_by_id[token["created_by"]],
                    "api_token_id", token["internal_id"], f"created API token '{token['name']}'")
        for board in self.custom_dashboards:
            if board["created_ms"] >= self.start:
                add(board["created_ms"], "CUSTOM_DASHBOARD_CREATED", self.user_by_id[board["owner_id"]],
                    "custom_dashboard_id", board["id"], f"created custom dashboard '{board['title']}'")

        service_label = {s["id"]: s["label"] for s in self.services}
        editors = self.holders("CAN_EDIT_ALL_ACCESSIBLE_CUSTOM_DASHBOARDS")
        actions = list(AUDIT_MIX)
        weights = [AUDIT_MIX[a][0] for a in actions]
        acting_tokens = {need: [t for t in self.api_tokens if t["_uses"] and need in t["permissions"]]
                         for _, need in AUDIT_MIX.values()}
        # about one change per user and hour (at least a few tens)
        for _ in range(max(20, self.n_users * int(self.ctx.options["minutes"]) // 60)):
            action = self.rand.choices(actions, weights=weights)[0]
            fields = list(self.rand.choice(CHANGED_FIELDS[action]))
            need = AUDIT_MIX[action][1]
            tokens = acting_tokens[need]
            if action == "APPLICATION_CONFIG_UPDATED":
                app = self.rand.choice(self.apps)
                actor = self.rand.choice(self.app_writers[app["id"]])
                add(self._when(), action, actor, "application_id", app["id"],
                    f"updated application perspective '{app['label']}'", fields)
                continue
            if action == "CUSTOM_DASHBOARD_UPDATED":
                board = self.rand.choice(self.custom_dashboards)
                people = [self.user_by_id[board["owner_id"]]] + (editors if board["writable"] else [])
                add(self._when(max(self.start, board["created_ms"])), action, self.rand.choice(people),
                    "custom_dashboard_id", board["id"], f"updated custom dashboard '{board['title']}'", fields)
                continue
            if action == "EVENT_SPECIFICATION_UPDATED":
                spec = self.rand.choice(self.custom_specs)
                column, target, what = "event_specification_id", spec["id"], f"updated custom event '{spec['name']}'"
            elif action == "SERVICE_CONFIG_UPDATED":
                config = self.rand.choice(self.service_configs)
                column, target, what = "service_config_id", config["id"], f"updated service rule '{config['name']}'"
            else:
                if not self.endpoint_configs:
                    continue
                config = self.rand.choice(self.endpoint_configs)
                column, target = "endpoint_config_service_id", config["service_id"]
                what = f"updated the endpoint rules of service '{service_label[config['service_id']]}'"
            people = self.holders(need)
            if tokens and (not people or self.rand.random() < 0.3):
                token = self.rand.choice(tokens)
                add(self.rand.choice(token["_uses"]), action, token, column, target, what, fields)
            elif people:
                add(self._when(), action, self.rand.choice(people), column, target, what, fields)
        self.audit_entries = self._numbered(entries, "audit_log")

    def _when(self, earliest: int | None = None) -> int:
        return self.rand.randint(earliest if earliest is not None else self.start, self.end - 1)

    def finish(self) -> None:
        """Timestamps the logs decide: the latest change of an application and of a custom specification."""
        latest_app: dict[str, Row] = {}
        latest_spec: dict[str, int] = {}
        for e in self.audit_entries:  # in time order: the last one wins
            if e["action"] == "APPLICATION_CONFIG_UPDATED":
                latest_app[e["application_id"]] = e
            elif e["action"] == "EVENT_SPECIFICATION_UPDATED":
                latest_spec[e["event_specification_id"]] = e["timestamp_ms"]
        for config in self.app_configs:
            change = latest_app.get(config["application_id"])
            if change is not None:
                config["modified_ms"], config["modified_by"] = change["timestamp_ms"], change["actor_user_id"]
            else:
                config["modified_ms"] = self.rand.randint(config["created_ms"], self.start - 1)
                config["modified_by"] = self.rand.choice(self.app_writers[config["application_id"]])["id"]
        for spec in self.custom_specs:
            spec["last_updated_ms"] = latest_spec.get(spec["id"], spec["last_updated_ms"])

    def rows(self) -> Rows:
        self.users_and_roles()
        self.groups()
        self.teams()
        self.tokens()
        self.event_specifications()
        self.host_agents()
        self.application_configs()
        self.service_settings()
        self.dashboards()
        self.access_log()
        self.audit_log()
        self.finish()
        return {
            "user_account": self.users,
            "role": self.roles,
            "role_member": [{"role_id": r, "user_id": u} for r, u in sorted(self.role_members)],
            "user_group": self.user_groups,
            "user_group_member": [{"group_id": g, "user_id": u} for g, u in sorted(self.group_members)],
            "user_group_application": [{"group_id": g, "application_id": a} for g, a in sorted(self.group_apps)],
            "team": self.team_rows,
            "team_member": [{"team_id": t, "user_id": u} for t, u in sorted(self.team_members)],
            "team_member_role": self.team_member_roles,
            "team_application": [{"team_id": t, "application_id": a} for t, a in sorted(self.team_apps)],
            "api_token": self.api_tokens,
            "event_specification": self.built_ins + self.custom_specs,
            "event_specification_event": self.spec_events,
            "host_agent": self.agents,
            "application_config": self.app_configs,
            "application_access_rule": self.access_rules,
            "service_config": self.service_configs,
            "endpoint_config": self.endpoint_configs,
            "custom_dashboard": self.custom_dashboards,
            "access_log_entry": self.access_entries,
            "audit_log_entry": self.audit_entries,
        }
