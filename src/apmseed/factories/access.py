"""Users, roles, groups, teams and API tokens (Instana RBAC), as plain dict rows.

Names come from fixed lists (not Faker), so the same seed gives the same people on any installation."""

from __future__ import annotations

import factory
from factory.fuzzy import FuzzyChoice

from apmseed import ids, vocab
from apmseed.factories.base import RowFactory, rand
from apmseed.schema.access import PERMISSIONS

DAY_MS = 86_400_000
EMAIL_DOMAIN = "example.com"
FIRST_NAMES = ("Anna", "Ben", "Chloe", "David", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam",
               "Maya", "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Samir", "Tara", "Umar", "Vera", "William",
               "Xenia", "Yusuf", "Zoe", "Amir", "Bianca", "Carlos", "Dana")
LAST_NAMES = ("Adams", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ivanova", "Jensen",
              "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka",
              "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zimmermann", "Almeida", "Brennan", "Chen", "Dietrich")

_ALL = PERMISSIONS
# (name, description, permissions, share of users holding it as their main role)
ROLES: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    ("Administrator", "Full access to every setting of the tenant unit.", _ALL, 0.08),
    ("Application Owner", "Owns application perspectives: configuration, smart alerts, service mapping.",
     ("CAN_CONFIGURE_APPLICATIONS", "CAN_CONFIGURE_APPLICATION_SMART_ALERTS", "CAN_CONFIGURE_SERVICE_MAPPING",
      "CAN_VIEW_TRACE_DETAILS", "CAN_VIEW_LOGS", "CAN_CREATE_PUBLIC_CUSTOM_DASHBOARDS", "CAN_CONFIGURE_RELEASES",
      "CAN_CONFIGURE_PERSONAL_API_TOKENS", "CAN_MANUALLY_CLOSE_ISSUE"), 0.2),
    ("SRE On-call", "Handles incidents: events, alerts, maintenance windows and agents.",
     ("CAN_CONFIGURE_EVENTS_AND_ALERTS", "CAN_CONFIGURE_MAINTENANCE_WINDOWS", "CAN_MANUALLY_CLOSE_ISSUE",
      "CAN_VIEW_TRACE_DETAILS", "CAN_VIEW_LOGS", "CAN_CONFIGURE_AGENTS", "CAN_CREATE_THREAD_DUMP",
      "CAN_CREATE_HEAP_DUMP", "CAN_CONFIGURE_INTEGRATIONS", "CAN_CONFIGURE_API_TOKENS",
      "CAN_EDIT_ALL_ACCESSIBLE_CUSTOM_DASHBOARDS", "CAN_CREATE_PUBLIC_CUSTOM_DASHBOARDS"), 0.2),
    ("Developer", "Reads traces and logs of the services they build.",
     ("CAN_VIEW_TRACE_DETAILS", "CAN_VIEW_LOGS", "CAN_CONFIGURE_PERSONAL_API_TOKENS", "CAN_CREATE_THREAD_DUMP",
      "CAN_CONFIGURE_SERVICE_MAPPING"), 0.3),
    ("Platform Engineer", "Runs the agents, integrations and log management.",
     ("CAN_CONFIGURE_AGENTS", "CAN_INSTALL_NEW_AGENTS", "CAN_CONFIGURE_AGENT_RUN_MODE", "CAN_CONFIGURE_INTEGRATIONS",
      "CAN_CONFIGURE_API_TOKENS", "CAN_CONFIGURE_LOG_MANAGEMENT", "CAN_VIEW_LOG_VOLUME",
      "CAN_CONFIGURE_EVENTS_AND_ALERTS", "CAN_CONFIGURE_SERVICE_MAPPING"), 0.1),
    ("Auditor", "Reviews the audit log and account information.",
     ("CAN_VIEW_AUDIT_LOG", "CAN_VIEW_ACCOUNT_AND_BILLING_INFORMATION"), 0.04),
    ("Viewer", "Read-only access to dashboards and traces.", ("CAN_VIEW_TRACE_DETAILS",), 0.08),
)
VIEW_PERMISSIONS = ("CAN_VIEW_TRACE_DETAILS", "CAN_VIEW_LOGS")
# what a token made for a purpose needs (scope flags limit it, they grant nothing)
TOKEN_PURPOSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Terraform", ("CAN_CONFIGURE_APPLICATIONS", "CAN_CONFIGURE_EVENTS_AND_ALERTS", "CAN_CONFIGURE_SERVICE_MAPPING",
                   "CAN_CONFIGURE_APPLICATION_SMART_ALERTS", "CAN_CONFIGURE_INTEGRATIONS")),
    ("Release markers (Jenkins)", ("CAN_CONFIGURE_RELEASES",)),
    ("Grafana datasource", ("CAN_VIEW_TRACE_DETAILS", "CAN_VIEW_LOGS", "LIMITED_APPLICATIONS_SCOPE")),
    ("Agent rollout (Ansible)", ("CAN_CONFIGURE_AGENTS", "CAN_INSTALL_NEW_AGENTS", "CAN_CONFIGURE_AGENT_RUN_MODE")),
    ("ServiceNow sync", ("CAN_CONFIGURE_EVENTS_AND_ALERTS", "CAN_MANUALLY_CLOSE_ISSUE")),
    ("Backstage catalog", ("CAN_VIEW_TRACE_DETAILS", "LIMITED_APPLICATIONS_SCOPE", "LIMITED_INFRASTRUCTURE_SCOPE")),
    ("Log shipper", ("CAN_VIEW_LOGS", "CAN_CONFIGURE_LOG_MANAGEMENT", "LIMITED_LOGS_SCOPE")),
    ("On-call bot", ("CAN_VIEW_TRACE_DETAILS", "CAN_MANUALLY_CLOSE_ISSUE", "CAN_CONFIGURE_MAINTENANCE_WINDOWS")),
)
TOKEN_LIFETIMES_DAYS = (30, 90, 180, 365)
USER_AGENTS = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
               "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
               "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0")
CLIENT_AGENTS = {"Terraform": "Terraform/1.8.5 terraform-provider-instana/2.1.0", "Grafana": "Grafana/11.1.0",
                 "Jenkins": "Jenkins/2.462 instana-plugin/1.4", "Ansible": "ansible-core/2.17 uri",
                 "ServiceNow": "ServiceNow MID Server", "Backstage": "backstage-plugin-instana/0.6",
                 "Log": "fluent-bit/3.0", "On-call": "python-requests/2.32"}


def user_name(slot: int) -> tuple[str, str, str]:
    """(first, last, suffix) of the slot-th person: distinct for every slot (a suffix past the name grid)."""
    size = len(FIRST_NAMES)
    a, b = slot % size, (slot // size) % size
    generation = slot // (size * size)
    return FIRST_NAMES[a], LAST_NAMES[(a + b) % size], str(generation + 1) if generation else ""


class UserFactory(RowFactory):
    class Params:
        slot = factory.SelfAttribute("n")  # position in the name grid (the layer shuffles it)
        name = factory.LazyAttribute(lambda o: user_name(o.slot))

    id = factory.LazyAttribute(lambda o: ids.hexid(o.seed, "user", o.n, 24))
    email = factory.LazyAttribute(lambda o: f"{o.name[0]}.{o.name[1]}{o.name[2]}@{EMAIL_DOMAIN}".lower())
    full_name = factory.LazyAttribute(lambda o: f"{o.name[0]} {o.name[1]}")
    tfa_enabled = FuzzyChoice((True, True, False))
    last_logged_in_ms = None  # the latest login of the access log, set by the layer


class RoleFactory(RowFactory):
    class Params:
        spec = factory.LazyAttribute(lambda o: ROLES[o.n])

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "role", o.n, 22))
    name = factory.LazyAttribute(lambda o: o.spec[0])
    description = factory.LazyAttribute(lambda o: o.spec[1])
    permissions = factory.LazyAttribute(lambda o: list(o.spec[2]))


class GroupFactory(RowFactory):
    """A permission group; `application` (a row) makes it the operators group of one application."""

    class Params:
        name_ = "Default"
        description_ = "Every user of the tenant unit."
        permissions_ = VIEW_PERMISSIONS
        application = None
        operators = factory.Trait(
            name_=factory.LazyAttribute(lambda o: f"{o.application['label']} operators"),
            description_=factory.LazyAttribute(lambda o: f"Operate {o.application['label']}: configure it, "
                                                         "read its traces and logs."),
            permissions_=("CAN_CONFIGURE_APPLICATIONS", "CAN_CONFIGURE_APPLICATION_SMART_ALERTS",
                          "CAN_VIEW_TRACE_DETAILS", "CAN_VIEW_LOGS", "CAN_MANUALLY_CLOSE_ISSUE"),
        )
        owners = factory.Trait(name_="Owners", description_="Owners of the tenant unit.", permissions_=_ALL)

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "group", o.n, 22))
    name = factory.SelfAttribute("name_")
    description = factory.SelfAttribute("description_")
    permissions = factory.LazyAttribute(lambda o: list(o.permissions_))


class TeamFactory(RowFactory):
    class Params:
        tag_ = factory.LazyAttribute(lambda o: vocab.TEAMS[o.n % len(vocab.TEAMS)] + (
            f"-{o.n // len(vocab.TEAMS) + 1}" if o.n >= len(vocab.TEAMS) else ""))

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "team", o.n, 22))
    tag = factory.SelfAttribute("tag_")
    description = factory.LazyAttribute(lambda o: f"The {o.tag_} team and the applications it runs.")
    access_permissions = factory.LazyFunction(lambda: ["LIMITED_APPLICATIONS_SCOPE"] + (
        ["LIMITED_INFRASTRUCTURE_SCOPE"] if rand.random() < 0.5 else []))


class ApiTokenFactory(RowFactory):
    """`purpose` is a TOKEN_PURPOSES entry, `creator` the user row (with `_permissions`) who made it; the token
    gets what the purpose needs and the creator may grant. Times relative to the data window."""

    class Params:
        purpose = factory.LazyAttribute(lambda o: TOKEN_PURPOSES[o.n % len(TOKEN_PURPOSES)])
        creator: dict = factory.Dict({})
        window_start_ms = 0
        window_end_ms = 0
        created_in_window = factory.LazyFunction(lambda: rand.random() < 0.25)
        expired = factory.LazyFunction(lambda: rand.random() < 0.1)
        lifetime_days = FuzzyChoice(TOKEN_LIFETIMES_DAYS)

    internal_id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "api_token:internal", o.n, 22))
    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "api_token", o.n, 22))
    name = factory.LazyAttribute(lambda o: o.purpose[0] + (
        f" #{o.n // len(TOKEN_PURPOSES) + 1}" if o.n >= len(TOKEN_PURPOSES) else ""))
    access_granting_token = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "api_token:secret", o.n, 32))
    created_by = factory.LazyAttribute(lambda o: o.creator["id"])
    created_on_ms = factory.LazyAttribute(
        lambda o: rand.randint(o.window_start_ms, o.window_end_ms - 60_000) if o.created_in_window
        else o.window_start_ms - rand.randint(2, 400) * DAY_MS - rand.randint(0, DAY_MS))
    # an expired token ran out before the window; others last past it
    expires_on_ms = factory.LazyAttribute(
        lambda o: None if o.lifetime_days == 365 and rand.random() < 0.3
        else (rand.randint(o.created_on_ms + DAY_MS, o.window_start_ms - 1) if o.expired and not o.created_in_window
              and o.window_start_ms - o.created_on_ms > 2 * DAY_MS
              else max(o.created_on_ms + o.lifetime_days * DAY_MS, o.window_end_ms + rand.randint(1, 60) * DAY_MS)))
    last_used_on_ms = None  # the token's latest use in the access log, set by the layer
    permissions = factory.LazyAttribute(lambda o: [
        p for p in o.purpose[1] if p.startswith("LIMITED_") or p in o.creator["_permissions"]])
