package fleet

import "github.com/clusterpedia-memgraph/memgraph/index"

// kindInfo describes one generated kind.
type kindInfo struct {
	kind       string
	apiVersion string
	gvr        index.GVR
	namespaced bool
}

// kindTable lists every generated kind, in the order Kinds reports them.
var kindTable = []kindInfo{
	{"Namespace", "v1", index.GVR{Group: "", Version: "v1", Resource: "namespaces"}, false},
	{"Node", "v1", index.GVR{Group: "", Version: "v1", Resource: "nodes"}, false},
	{"StorageClass", "storage.k8s.io/v1", index.GVR{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}, false},
	{"IngressClass", "networking.k8s.io/v1", index.GVR{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"}, false},
	{"PersistentVolume", "v1", index.GVR{Group: "", Version: "v1", Resource: "persistentvolumes"}, false},
	{"ServiceAccount", "v1", index.GVR{Group: "", Version: "v1", Resource: "serviceaccounts"}, true},
	{"ConfigMap", "v1", index.GVR{Group: "", Version: "v1", Resource: "configmaps"}, true},
	{"Secret", "v1", index.GVR{Group: "", Version: "v1", Resource: "secrets"}, true},
	{"Role", "rbac.authorization.k8s.io/v1", index.GVR{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}, true},
	{"RoleBinding", "rbac.authorization.k8s.io/v1", index.GVR{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}, true},
	{"Deployment", "apps/v1", index.GVR{Group: "apps", Version: "v1", Resource: "deployments"}, true},
	{"ReplicaSet", "apps/v1", index.GVR{Group: "apps", Version: "v1", Resource: "replicasets"}, true},
	{"StatefulSet", "apps/v1", index.GVR{Group: "apps", Version: "v1", Resource: "statefulsets"}, true},
	{"DaemonSet", "apps/v1", index.GVR{Group: "apps", Version: "v1", Resource: "daemonsets"}, true},
	{"CronJob", "batch/v1", index.GVR{Group: "batch", Version: "v1", Resource: "cronjobs"}, true},
	{"Job", "batch/v1", index.GVR{Group: "batch", Version: "v1", Resource: "jobs"}, true},
	{"Pod", "v1", index.GVR{Group: "", Version: "v1", Resource: "pods"}, true},
	{"PersistentVolumeClaim", "v1", index.GVR{Group: "", Version: "v1", Resource: "persistentvolumeclaims"}, true},
	{"Service", "v1", index.GVR{Group: "", Version: "v1", Resource: "services"}, true},
	{"EndpointSlice", "discovery.k8s.io/v1", index.GVR{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}, true},
	{"Ingress", "networking.k8s.io/v1", index.GVR{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}, true},
	{"HorizontalPodAutoscaler", "autoscaling/v2", index.GVR{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}, true},
	{"PodDisruptionBudget", "policy/v1", index.GVR{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}, true},
	{"NetworkPolicy", "networking.k8s.io/v1", index.GVR{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}, true},
	{"Event", "v1", index.GVR{Group: "", Version: "v1", Resource: "events"}, true},
}

func lookupKind(kind string) (kindInfo, bool) {
	for _, k := range kindTable {
		if k.kind == kind {
			return k, true
		}
	}
	return kindInfo{}, false
}

func mustKind(kind string) kindInfo {
	k, ok := lookupKind(kind)
	if !ok {
		panic("fleet: unknown kind " + kind)
	}
	return k
}

// Kinds returns every kind a fleet contains, in a fixed order (cluster-scoped kinds first).
func Kinds() []string {
	out := make([]string, len(kindTable))
	for i, k := range kindTable {
		out[i] = k.kind
	}
	return out
}

// GVRFor returns the storage GVR of a generated kind ("Pod" -> {"" v1 pods}).
func GVRFor(kind string) (index.GVR, bool) {
	k, ok := lookupKind(kind)
	return k.gvr, ok
}

// APIVersionFor returns the apiVersion written in objects of a generated kind
// ("Deployment" -> "apps/v1").
func APIVersionFor(kind string) (string, bool) {
	k, ok := lookupKind(kind)
	return k.apiVersion, ok
}

// Namespaced reports whether a generated kind is namespaced (false also for unknown kinds).
func Namespaced(kind string) bool {
	k, _ := lookupKind(kind)
	return k.namespaced
}

// --- the application catalog, shared by every cluster of every fleet ---

type appKind int

const (
	kindDeployment appKind = iota
	kindStatefulSet
	kindCronJob
	kindJob
)

type baseApp struct {
	name  string
	tier  string // frontend, backend, cache, db
	kind  appKind
	image string // image repository ("" = registry.example.com/<team>/<name>)
	port  int
}

type catalogApp struct {
	name string
	base *baseApp
}

var (
	tiers = []string{"frontend", "backend", "cache", "db"}
	teams = []string{"checkout", "payments", "platform", "identity", "search", "data", "growth", "sre"}

	// systemNamespaces exist in every cluster; appNamespaceCatalog is where the
	// application namespaces are taken from (the first two in every cluster).
	systemNamespaces    = []string{"default", "kube-system", "kube-public", "kube-node-lease"}
	appNamespaceCatalog = []string{
		"shop", "payments", "platform", "identity", "search", "data", "messaging", "analytics",
		"ml", "growth", "media", "logistics", "support", "marketing", "risk", "devtools",
		"observability", "edge", "partners", "internal-tools",
	}
	regions = []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"}
)

var catalogBases = func() []*baseApp {
	var out []*baseApp
	add := func(tier string, kind appKind, port int, image string, names ...string) {
		for _, n := range names {
			img := image
			if img == "<name>" {
				img = "docker.io/library/" + n
			}
			out = append(out, &baseApp{name: n, tier: tier, kind: kind, image: img, port: port})
		}
	}
	add("frontend", kindDeployment, 8080, "", "web", "frontend", "ui", "storefront", "portal",
		"admin-ui", "docs", "landing", "dashboard")
	add("backend", kindDeployment, 8080, "", "api", "auth", "billing", "checkout", "cart",
		"catalog", "search", "gateway", "notifications", "orders", "inventory", "shipping",
		"reviews", "recommendations", "ads", "email", "users", "profile", "pricing", "currency",
		"fraud", "ledger", "session", "graphql", "webhooks", "audit", "config-server", "worker",
		"ingest", "exporter")
	add("cache", kindStatefulSet, 6379, "<name>", "redis")
	add("cache", kindDeployment, 11211, "<name>", "memcached")
	add("cache", kindDeployment, 6081, "<name>", "varnish")
	add("db", kindStatefulSet, 5432, "<name>", "postgres")
	add("db", kindStatefulSet, 3306, "<name>", "mysql")
	add("db", kindStatefulSet, 27017, "<name>", "mongo")
	add("db", kindStatefulSet, 9092, "docker.io/bitnami/kafka", "kafka")
	add("db", kindStatefulSet, 2181, "<name>", "zookeeper")
	add("db", kindStatefulSet, 9200, "docker.elastic.co/elasticsearch/elasticsearch", "elasticsearch")
	add("db", kindStatefulSet, 5672, "<name>", "rabbitmq")
	add("db", kindStatefulSet, 9042, "<name>", "cassandra")
	add("db", kindStatefulSet, 9000, "docker.io/minio/minio", "minio")
	add("db", kindStatefulSet, 8123, "docker.io/clickhouse/clickhouse-server", "clickhouse")
	add("backend", kindCronJob, 0, "", "report", "cleanup", "backup", "sync", "reconcile",
		"digest", "rotate-keys")
	add("backend", kindJob, 0, "", "migrate", "reindex", "seed-data")
	return out
}()

func findBase(name string) *baseApp {
	for _, b := range catalogBases {
		if b.name == name {
			return b
		}
	}
	panic("fleet: unknown base app " + name)
}

// appCatalog is every application name an application namespace can hold. Names are
// unique; none ends in a suffix the generator appends to derived objects (-config,
// -secret, -tls, -headless, ...).
var appCatalog = func() []catalogApp {
	suffixes := map[appKind][]string{
		kindDeployment:  {"", "-v2", "-internal", "-canary", "-worker", "-admin", "-grpc", "-public"},
		kindStatefulSet: {"", "-events"},
		kindCronJob:     {"", "-daily", "-hourly"},
		kindJob:         {"", "-v2"},
	}
	seen := map[string]bool{}
	var out []catalogApp
	for _, b := range catalogBases {
		for _, s := range suffixes[b.kind] {
			n := b.name + s
			if s == "-"+b.name || seen[n] {
				continue
			}
			seen[n] = true
			out = append(out, catalogApp{name: n, base: b})
		}
	}
	return out
}()
