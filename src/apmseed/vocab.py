"""Vocabularies that make the data look like a real shop, bank and SaaS estate."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceKind:
    name: str  # base service name
    category: str  # web | database | messaging
    resources: tuple[str, ...]  # REST resources (web) or tables/topics


SERVICES: tuple[ServiceKind, ...] = (
    # shop
    ServiceKind("checkout", "web", ("checkout", "checkout/{id}/confirm", "orders")),
    ServiceKind("cart", "web", ("cart", "cart/items", "cart/items/{id}")),
    ServiceKind("catalog", "web", ("products", "products/{id}", "categories")),
    ServiceKind("inventory", "web", ("stock", "stock/{sku}", "reservations")),
    ServiceKind("payment-gateway", "web", ("payments", "payments/{id}", "refunds")),
    ServiceKind("shipping", "web", ("shipments", "shipments/{id}/track", "rates")),
    ServiceKind("search", "web", ("search", "search/suggest", "facets")),
    ServiceKind("recommendation", "web", ("recommendations", "recommendations/{userId}")),
    ServiceKind("pricing", "web", ("prices", "prices/{sku}", "promotions")),
    ServiceKind("storefront", "web", ("", "product/{slug}", "category/{slug}")),
    # bank
    ServiceKind("accounts", "web", ("accounts", "accounts/{id}", "accounts/{id}/balance")),
    ServiceKind("transfers", "web", ("transfers", "transfers/{id}", "standing-orders")),
    ServiceKind("ledger", "web", ("entries", "entries/{id}", "reconciliation")),
    ServiceKind("fraud-detection", "web", ("score", "cases", "cases/{id}")),
    ServiceKind("cards", "web", ("cards", "cards/{id}/block", "cards/{id}/limits")),
    ServiceKind("loans", "web", ("applications", "applications/{id}", "offers")),
    ServiceKind("kyc", "web", ("verifications", "verifications/{id}", "documents")),
    # saas
    ServiceKind("auth", "web", ("login", "token", "logout")),
    ServiceKind("user-profile", "web", ("users/{id}", "users/{id}/preferences", "users")),
    ServiceKind("billing", "web", ("invoices", "invoices/{id}", "subscriptions")),
    ServiceKind("notification", "web", ("notifications", "notifications/{id}/read", "subscriptions")),
    ServiceKind("tenant-admin", "web", ("tenants", "tenants/{id}", "tenants/{id}/users")),
    ServiceKind("reporting", "web", ("reports", "reports/{id}", "exports")),
    ServiceKind("api-gateway", "web", ("v1/{proxy}", "health", "v2/{proxy}")),
    ServiceKind("feature-flags", "web", ("flags", "flags/{key}")),
    # data stores and messaging
    ServiceKind("orders-db", "database", ("orders", "order_items", "customers")),
    ServiceKind("accounts-db", "database", ("accounts", "transactions", "balances")),
    ServiceKind("sessions-redis", "database", ("session:*", "cart:*")),
    ServiceKind("catalog-elasticsearch", "database", ("products", "suggestions")),
    ServiceKind("events-kafka", "messaging", ("order-events", "payment-events", "audit")),
    ServiceKind("billing-db", "database", ("invoices", "subscriptions", "usage_records")),
)

REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-1", "ap-northeast-1")
ZONE_SUFFIX = ("a", "b", "c")
ENVIRONMENTS = ("production", "production", "production", "staging")
TEAMS = ("payments", "checkout", "platform", "core-banking", "identity", "growth", "data")

# language -> (Instana technology of the service, process executable, process args template)
LANGUAGES: dict[str, tuple[str, str, str]] = {
    "java": ("springbootApplicationContainer", "/usr/bin/java", "-Xmx2g -jar /app/{name}.jar"),
    "node": ("nodeJsRuntimePlatform", "/usr/local/bin/node", "/app/dist/server.js"),
    "python": ("pythonRuntimePlatform", "/usr/local/bin/python3", "-m gunicorn {name}.wsgi:app -w 4"),
    "go": ("golangRuntimePlatform", "/app/{name}", "--config /etc/{name}/config.yaml"),
    "dotnet": ("clrRuntimePlatform", "/usr/bin/dotnet", "/app/{name}.dll"),
}
DATASTORE_TECH: dict[str, tuple[str, str, str, str]] = {
    # suffix -> (technology, executable, args, endpoint verb style)
    "db": ("postgreSqlDatabase", "/usr/lib/postgresql/15/bin/postgres", "-D /var/lib/postgresql/data", "sql"),
    "redis": ("redisDatabase", "/usr/local/bin/redis-server", "*:6379", "redis"),
    "elasticsearch": ("elasticsearchCluster", "/usr/share/elasticsearch/jdk/bin/java",
                      "-Xms4g org.elasticsearch.bootstrap.Elasticsearch", "es"),
    "kafka": ("kafkaCluster", "/usr/bin/java", "-Xmx6g kafka.Kafka /etc/kafka/server.properties", "kafka"),
}
# helper processes that run on hosts without serving an application
DAEMONS: tuple[tuple[str, str], ...] = (
    ("/usr/bin/containerd", "--config /etc/containerd/config.toml"),
    ("/usr/bin/fluent-bit", "-c /fluent-bit/etc/fluent-bit.conf"),
    ("/opt/instana/agent/bin/karaf", "server"),
    ("/usr/sbin/sshd", "-D"),
    ("/usr/bin/node_exporter", "--web.listen-address=:9100"),
    ("/usr/sbin/nginx", "-g daemon off;"),
)

SIDECARS = ("envoy-proxy", "fluent-bit", "node-exporter", "otel-collector", "istio-proxy", "vault-agent")

APPLICATIONS: tuple[str, ...] = (
    "Webshop", "Mobile Banking", "Payments Platform", "Customer Portal", "Checkout Flow", "Order Management",
    "Online Banking", "Card Services", "Identity & Access", "Partner API", "Back Office", "Billing Platform",
    "Search Experience", "Fulfilment", "Fraud Prevention", "Data Platform", "Loyalty Program",
    "Merchant Dashboard", "Public API", "Internal Tools",
)
APPLICATION_QUALIFIERS = ("", "EU", "US", "APAC", "Staging", "Canary", "Legacy", "v2")

CPU_MODELS = ("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "AMD EPYC 7R13 Processor",
              "Intel(R) Xeon(R) Gold 6348 CPU @ 2.60GHz", "AWS Graviton3")
OS_VERSIONS = ("Ubuntu 22.04.4 LTS", "Red Hat Enterprise Linux 9.3", "Amazon Linux 2023", "Debian GNU/Linux 12")
INSTANCE_TYPES = (("m6i.2xlarge", 8, 32), ("c6i.4xlarge", 16, 32), ("r6i.xlarge", 4, 32), ("m6i.large", 2, 8),
                  ("m7g.4xlarge", 16, 64))

# Instana built-in issue texts, per kind of excursion
PROBLEMS: dict[str, tuple[str, str, str]] = {
    "latency": ("Sudden increase in average latency",
                "The latency of {label} rose to {factor:.1f}x its normal level.",
                "Check recent deployments and the slowest downstream calls of {label}."),
    "errors": ("Sudden increase in the number of erroneous calls",
               "The share of erroneous calls of {label} rose to {rate:.1%}.",
               "Inspect the erroneous calls of {label} and their stack traces."),
    "cpu": ("High CPU usage", "CPU usage on {label} stayed above {level:.0%}.",
            "Look for runaway processes on {label} or scale the instance up."),
    "memory": ("Memory usage high", "Memory usage on {label} reached {level:.0%}.",
               "Check for memory leaks in the processes on {label}."),
}
