package fleet

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"strconv"
	"time"
)

// Sizing: how the per-cluster object budget (Config.ObjectsPerCluster) is spent.

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// appNamespaceCount is the number of application namespaces per cluster (3..16; plus the
// 4 system namespaces).
func appNamespaceCount(c Config) int { return clamp(c.ObjectsPerCluster/1250, 3, 16) }

// nodeCount is the number of nodes per cluster (3..1000, one per ~200 objects).
func nodeCount(c Config) int { return clamp(c.ObjectsPerCluster/200, 3, 1000) }

// danglingCount is the number of orphan pods (dangling controller ownerReferences) per
// cluster.
func danglingCount(c Config) int { return clamp(c.ObjectsPerCluster/5000, 1, 1000) }

// eventCount is the number of core Events reserved per cluster (~5 %).
func eventCount(c Config) int { return clamp(c.ObjectsPerCluster/20, 2, 1<<30) }

// danglingSeqBase is where the uid sequence of the dangling owner UIDs starts; generated
// objects use sequence numbers far below it.
const danglingSeqBase = uint64(1) << 46

// --- deterministic uids ---

// mix64 is the splitmix64 finalizer: a bijection on uint64.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

const hexDigits = "0123456789abcdef"

// uuidFor derives a version-4-shaped UUID from (seed, cluster index, sequence). For a given
// seed it is injective in (cluster, seq) for seq < 2^48: all 64 bits of a bijective mix of
// (cluster<<48 | seq) are kept in the UUID.
func uuidFor(seed int64, cluster int, seq uint64) string {
	a := mix64(uint64(cluster)<<48 ^ seq ^ mix64(uint64(seed)^0x5bd1e9955bd1e995))
	b := mix64(a + 0x9e3779b97f4a7c15)
	var u [16]byte
	for i := 0; i < 6; i++ {
		u[i] = byte(a >> (56 - 8*i))
	}
	u[6] = 0x40 | byte(a>>12)&0x0f
	u[7] = byte(a >> 4)
	u[8] = 0x80 | byte(b>>60)&0x03<<4 | byte(a)&0x0f
	for i := 9; i < 16; i++ {
		u[i] = byte(b >> (8 * (i - 9)))
	}
	var out [36]byte
	j := 0
	for i, x := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j] = hexDigits[x>>4]
		out[j+1] = hexDigits[x&0x0f]
		j += 2
	}
	return string(out[:])
}

// --- time ---

var refTime = time.Date(2025, time.January, 15, 12, 0, 0, 0, time.UTC)

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// --- per-cluster generator ---

type nodeRef struct {
	name, ip, zone string
}

type podRef struct {
	ns, name, uid, node, phase, container string
	created                               time.Time
}

type deployRef struct {
	a       *app
	uid     string
	rs      string // current ReplicaSet name
	tpl     *podSpec
	labels  smap // template labels without pod-template-hash
	created time.Time
}

type nsState struct {
	name    string
	created time.Time
	team    string
	weight  float64
	app     bool // application namespace (has regcred, default-deny policy)
	order   []catalogApp
	next    int
	used    map[string]bool
}

type gen struct {
	cfg     Config
	ci      int
	cluster string
	rng     *rand.Rand
	rv      uint64
	seq     uint64
	objs    []Object
	start   time.Time
	region  string
	nodes   []nodeRef
	podIPs  int
	svcIPs  int
	nss     []*nsState
	appNss  []*nsState
	pods    []podRef
	deploys []deployRef
}

func genCluster(cfg Config, ci int) []Object {
	n := cfg.ObjectsPerCluster
	g := &gen{
		cfg:     cfg,
		ci:      ci,
		cluster: ClusterName(ci),
		rng:     rand.New(rand.NewSource(int64(mix64(uint64(cfg.Seed)^uint64(ci+1)*0x9e3779b97f4a7c15) >> 1))),
		start:   refTime.Add(-90 * 24 * time.Hour),
		region:  regions[ci%len(regions)],
	}
	g.objs = make([]Object, 0, n+n/16+64)
	g.rv = 100000 + uint64(g.rng.Intn(900000))

	g.clusterScoped()
	g.namespaces()
	g.systemWorkloads()
	g.forcedApps()
	reserve := eventCount(cfg) + danglingCount(cfg)
	for len(g.objs)+reserve < n {
		ns := g.pickNamespace()
		ca := g.nextApp(ns)
		a := g.newApp(ns, ca.name, ca.base)
		// Near the end of the budget, shrink the app so the total stays close to n.
		if left := n - reserve - len(g.objs); a.replicas > left/2 {
			a.replicas = max(1, left/2)
			a.hpa = a.hpa && a.replicas >= 2
			a.pdb = a.pdb && a.replicas >= 2
		}
		g.genApp(a)
	}
	g.orphans()
	ev := eventCount(cfg)
	if rest := n - len(g.objs); rest > ev {
		ev = rest
	}
	g.events(ev)
	return g.objs
}

func (g *gen) uid() string {
	g.seq++
	return uuidFor(g.cfg.Seed, g.ci, g.seq)
}

func (g *gen) nextRV() string {
	g.rv += 1 + uint64(g.rng.Intn(4))
	return strconv.FormatUint(g.rv, 10)
}

func (g *gen) between(a, b time.Time) time.Time {
	d := b.Sub(a)
	if d <= time.Second {
		return a.Truncate(time.Second)
	}
	return a.Add(time.Duration(g.rng.Int63n(int64(d/time.Second))) * time.Second).Truncate(time.Second)
}

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

const nameAlphabet = "bcdfghjklmnpqrstvwxz2456789"

func (g *gen) randStr(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = nameAlphabet[g.rng.Intn(len(nameAlphabet))]
	}
	return string(b)
}

func (g *gen) randHex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[g.rng.Intn(16)]
	}
	return string(b)
}

func (g *gen) fakeB64(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(33 + g.rng.Intn(94))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func (g *gen) newMeta(ns, name string, created time.Time, labels smap) *meta {
	return &meta{Name: name, Namespace: ns, UID: g.uid(), CreationTimestamp: ts(created), Labels: labels}
}

// emit assigns the resourceVersion, adds Clusterpedia's cluster-name annotation, marshals
// and appends the object.
func (g *gen) emit(kind string, m *meta, v any) {
	m.ResourceVersion = g.nextRV()
	if m.Annotations == nil {
		m.Annotations = make(smap, 1)
	}
	m.Annotations[ClusterNameAnnotation] = g.cluster
	b, err := json.Marshal(v)
	if err != nil {
		panic("fleet: marshal " + kind + ": " + err.Error())
	}
	k := mustKind(kind)
	g.objs = append(g.objs, Object{Cluster: g.cluster, GVR: k.gvr, Kind: kind, JSON: b})
}

func owner(kind, name, uid string) ownerRef {
	return ownerRef{APIVersion: mustKind(kind).apiVersion, Kind: kind, Name: name, UID: uid, Controller: true, BlockOwnerDeletion: true}
}

func copyLabels(l smap, extra ...string) smap {
	out := make(smap, len(l)+len(extra)/2)
	for k, v := range l { // copying a map: order does not matter
		out[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		out[extra[i]] = extra[i+1]
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func (g *gen) podIP() string {
	n := g.podIPs
	g.podIPs++
	return fmt.Sprintf("10.%d.%d.%d", 244+n/(256*254), (n/254)%256, n%254+1)
}

func (g *gen) serviceIP() string {
	n := g.svcIPs
	g.svcIPs++
	return fmt.Sprintf("10.%d.%d.%d", 96+n/(256*254), (n/254)%256, n%254+1)
}

// --- cluster-scoped objects ---

func (g *gen) clusterScoped() {
	// StorageClasses
	for i, sc := range []struct{ name, typ string }{{"standard", "gp3"}, {"fast-ssd", "io2"}} {
		m := g.newMeta("", sc.name, g.start.Add(time.Duration(i+1)*time.Minute), nil)
		m.Annotations = smap{"storageclass.kubernetes.io/is-default-class": strconv.FormatBool(i == 0)}
		g.emit("StorageClass", m, &storageClassObject{APIVersion: "storage.k8s.io/v1", Kind: "StorageClass", Metadata: m,
			Provisioner: "ebs.csi.aws.com", Parameters: smap{"type": sc.typ, "encrypted": "true"},
			ReclaimPolicy: "Delete", VolumeBindingMode: "WaitForFirstConsumer", AllowVolumeExpansion: true})
	}
	// IngressClass
	m := g.newMeta("", "nginx", g.start.Add(3*time.Minute), smap{"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"})
	m.Annotations = smap{"ingressclass.kubernetes.io/is-default-class": "true"}
	g.emit("IngressClass", m, &object{APIVersion: "networking.k8s.io/v1", Kind: "IngressClass", Metadata: m,
		Spec: jmap{"controller": "k8s.io/ingress-nginx"}})

	// Nodes
	nn := nodeCount(g.cfg)
	for i := 0; i < nn; i++ {
		pool, itype, cpu, mem := "general", "m6i.2xlarge", "8", "32386400Ki"
		if i%5 == 4 {
			pool, itype, cpu, mem = "highmem", "r6i.4xlarge", "16", "129545600Ki"
		}
		name := fmt.Sprintf("node-%s-%03d", pool, i)
		zone := g.region + string(rune('a'+i%3))
		ip := fmt.Sprintf("10.0.%d.%d", i/250, i%250+4)
		created := g.between(g.start, refTime.Add(-24*time.Hour))
		if i < 3 {
			created = g.start.Add(time.Duration(5+i) * time.Minute)
		}
		g.nodes = append(g.nodes, nodeRef{name: name, ip: ip, zone: zone})
		m := g.newMeta("", name, created, smap{
			"kubernetes.io/hostname":           name,
			"kubernetes.io/os":                 "linux",
			"kubernetes.io/arch":               "amd64",
			"node.kubernetes.io/instance-type": itype,
			"topology.kubernetes.io/region":    g.region,
			"topology.kubernetes.io/zone":      zone,
			"pool":                             pool,
		})
		m.Annotations = smap{
			"node.alpha.kubernetes.io/ttl":                           "0",
			"volumes.kubernetes.io/controller-managed-attach-detach": "true",
		}
		capacity := jmap{"cpu": cpu, "memory": mem, "pods": "110", "ephemeral-storage": "104845292Ki"}
		allocatable := jmap{"cpu": fmt.Sprintf("%dm", atoi(cpu)*1000-90), "memory": mem, "pods": "110", "ephemeral-storage": "95551679124"}
		hb := ts(refTime.Add(-time.Duration(g.rng.Intn(40)) * time.Second))
		cond := func(typ, status, reason, msg string) jmap {
			return jmap{"type": typ, "status": status, "lastHeartbeatTime": hb, "lastTransitionTime": ts(created.Add(time.Minute)), "reason": reason, "message": msg}
		}
		g.emit("Node", m, &object{APIVersion: "v1", Kind: "Node", Metadata: m,
			Spec: jmap{"podCIDR": fmt.Sprintf("10.244.%d.0/24", i%256), "providerID": fmt.Sprintf("aws:///%s/i-0%s", zone, g.randHex(16))},
			Status: jmap{
				"capacity":    capacity,
				"allocatable": allocatable,
				"conditions": []jmap{
					cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
					cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
					cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
					cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
				},
				"addresses":       []jmap{{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}},
				"daemonEndpoints": jmap{"kubeletEndpoint": jmap{"Port": 10250}},
				"nodeInfo": jmap{"machineID": g.randHex(32), "systemUUID": g.uid(), "bootID": g.uid(),
					"kernelVersion": "6.1.102-111.182.amzn2023.x86_64", "osImage": "Amazon Linux 2023.5.20240819",
					"containerRuntimeVersion": "containerd://1.7.20", "kubeletVersion": "v1.30.4-eks-a737599",
					"kubeProxyVersion": "v1.30.4-eks-a737599", "operatingSystem": "linux", "architecture": "amd64"},
			}})
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// --- namespaces ---

func (g *gen) namespaces() {
	var names []string
	names = append(names, systemNamespaces...)
	k := appNamespaceCount(g.cfg)
	// The first k-1 application namespaces are the same in every cluster; the last one
	// varies per cluster.
	common := appNamespaceCatalog[:k-1]
	names = append(names, common...)
	rest := appNamespaceCatalog[k-1:]
	names = append(names, rest[g.rng.Intn(len(rest))])

	for i, name := range names {
		isApp := i >= len(systemNamespaces)
		created := g.start.Add(time.Duration(i) * time.Minute)
		if isApp && i >= len(systemNamespaces)+2 {
			created = g.between(g.start.Add(time.Hour), g.start.Add(20*24*time.Hour))
		}
		ns := &nsState{name: name, created: created, app: isApp, used: map[string]bool{},
			team: teams[(i+g.ci)%len(teams)], weight: 0.3 + 1.7*g.rng.Float64()}
		if !isApp {
			ns.team = "sre"
		}
		g.nss = append(g.nss, ns)
		if isApp {
			g.appNss = append(g.appNss, ns)
		}
		labels := smap{"kubernetes.io/metadata.name": name}
		if isApp {
			labels["team"] = ns.team
		}
		m := g.newMeta("", name, created, labels)
		g.emit("Namespace", m, &object{APIVersion: "v1", Kind: "Namespace", Metadata: m,
			Spec: jmap{"finalizers": []string{"kubernetes"}}, Status: jmap{"phase": "Active"}})
	}
	// Per-namespace baseline: default ServiceAccount, kube-root-ca.crt, and for application
	// namespaces the image pull secret, a default-deny policy and a developer Role/RoleBinding.
	for _, ns := range g.nss {
		t := ns.created.Add(2 * time.Second)
		m := g.newMeta(ns.name, "default", t, nil)
		g.emit("ServiceAccount", m, &serviceAccountObject{APIVersion: "v1", Kind: "ServiceAccount", Metadata: m, AutomountServiceAccountToken: ptr(false)})
		m = g.newMeta(ns.name, "kube-root-ca.crt", t, nil)
		m.Annotations = smap{"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}
		g.emit("ConfigMap", m, &dataObject{APIVersion: "v1", Kind: "ConfigMap", Metadata: m,
			Data: smap{"ca.crt": "-----BEGIN CERTIFICATE-----\n" + g.fakeB64(96) + "\n-----END CERTIFICATE-----\n"}})
		if !ns.app {
			continue
		}
		m = g.newMeta(ns.name, "regcred", t.Add(time.Minute), nil)
		g.emit("Secret", m, &dataObject{APIVersion: "v1", Kind: "Secret", Metadata: m, Type: "kubernetes.io/dockerconfigjson",
			Data: smap{".dockerconfigjson": base64.StdEncoding.EncodeToString([]byte(`{"auths":{"registry.example.com":{"auth":"` + g.fakeB64(24) + `"}}}`))}})
		m = g.newMeta(ns.name, "default-deny-ingress", t.Add(time.Minute), nil)
		g.emit("NetworkPolicy", m, &object{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Metadata: m,
			Spec: jmap{"podSelector": labelSelector{}, "policyTypes": []string{"Ingress"}}})
		m = g.newMeta(ns.name, "developer", t.Add(time.Minute), smap{"team": ns.team})
		g.emit("Role", m, &roleObject{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role", Metadata: m, Rules: []jmap{
			{"apiGroups": []string{"", "apps", "batch"}, "resources": []string{"pods", "pods/log", "deployments", "replicasets", "statefulsets", "jobs", "cronjobs", "services", "configmaps"}, "verbs": []string{"get", "list", "watch"}},
			{"apiGroups": []string{"apps"}, "resources": []string{"deployments/scale"}, "verbs": []string{"patch", "update"}},
		}})
		m = g.newMeta(ns.name, "developers", t.Add(time.Minute), smap{"team": ns.team})
		g.emit("RoleBinding", m, &roleBindingObject{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding", Metadata: m,
			Subjects: []jmap{{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "team-" + ns.team}},
			RoleRef:  jmap{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "developer"}})
	}
}

func (g *gen) nsByName(name string) *nsState {
	for _, ns := range g.nss {
		if ns.name == name {
			return ns
		}
	}
	panic("fleet: no namespace " + name)
}

func (g *gen) pickNamespace() *nsState {
	total := 0.0
	for _, ns := range g.appNss {
		total += ns.weight
	}
	x := g.rng.Float64() * total
	for _, ns := range g.appNss {
		x -= ns.weight
		if x < 0 {
			return ns
		}
	}
	return g.appNss[len(g.appNss)-1]
}

// nextApp returns the next unused catalog application for the namespace (a per-namespace
// random order; past the catalog, names get a numeric suffix).
func (g *gen) nextApp(ns *nsState) catalogApp {
	if ns.order == nil {
		perm := g.rng.Perm(len(appCatalog))
		ns.order = make([]catalogApp, len(perm))
		for i, p := range perm {
			ns.order[i] = appCatalog[p]
		}
	}
	for {
		var ca catalogApp
		if ns.next < len(ns.order) {
			ca = ns.order[ns.next]
		} else {
			c := ns.order[ns.next%len(ns.order)]
			ca = catalogApp{name: fmt.Sprintf("%s-%d", c.name, ns.next/len(ns.order)+1), base: c.base}
		}
		ns.next++
		if !ns.used[ca.name] {
			return ca
		}
	}
}

// --- applications ---

type app struct {
	ns                    *nsState
	name                  string
	base                  *baseApp
	tier, team, version   string
	created               time.Time
	labels                smap // app, tier, team, version
	selector              smap // app, tier
	sa                    string
	cm, secret            string
	image                 string
	digest                string
	pullSecret            bool
	replicas              int
	service, hpa, pdb     bool
	netpol, ingress, role bool
	oldRS                 int
	sidecar               int // 0 none, 1 envoy, 2 log shipper
	serviceName           string
	system                bool
}

func (g *gen) newApp(ns *nsState, name string, base *baseApp) *app {
	ns.used[name] = true
	a := &app{ns: ns, name: name, base: base, tier: base.tier}
	a.team = ns.team
	if g.chance(0.3) {
		a.team = teams[g.rng.Intn(len(teams))]
	}
	v := 1 + g.rng.Intn(5)
	a.version = "v" + strconv.Itoa(v)
	a.created = g.between(ns.created.Add(time.Hour), refTime.Add(-3*time.Hour))
	a.labels = smap{"app": name, "tier": a.tier, "team": a.team, "version": a.version}
	a.selector = smap{"app": name, "tier": a.tier}
	tag := fmt.Sprintf("%d.%d.%d", v, g.rng.Intn(20), g.rng.Intn(10))
	if base.image == "" {
		a.image = "registry.example.com/" + a.team + "/" + base.name + ":" + tag
		a.pullSecret = ns.app && g.chance(0.6)
	} else {
		a.image = base.image + ":" + tag
	}
	a.digest = g.randHex(64)
	a.sa = "default"
	if g.chance(0.35) {
		a.sa = name
		a.role = g.chance(0.6)
	}
	if g.chance(0.6) {
		a.cm = name + "-config"
	}
	if g.chance(0.45) {
		a.secret = name + "-secret"
	}
	a.serviceName = name
	switch base.kind {
	case kindDeployment:
		a.replicas = g.replicas()
		a.service = base.port != 0 && g.chance(0.9)
		a.hpa = a.replicas >= 2 && g.chance(0.3)
		a.pdb = a.replicas >= 2 && g.chance(0.3)
		a.netpol = g.chance(0.15)
		a.ingress = a.service && a.tier == "frontend" && g.chance(0.6)
		switch r := g.rng.Float64(); {
		case r < 0.05:
			a.oldRS = 2
		case r < 0.25:
			a.oldRS = 1
		}
		switch r := g.rng.Float64(); {
		case r < 0.06:
			a.sidecar = 1
		case r < 0.1:
			a.sidecar = 2
		}
	case kindStatefulSet:
		a.replicas = []int{1, 3, 3, 3, 5}[g.rng.Intn(5)]
		a.service = g.chance(0.7) // client service besides the headless one
		a.pdb = a.replicas >= 3 && g.chance(0.5)
		a.netpol = g.chance(0.4)
	}
	return a
}

// replicas: a long-tailed distribution averaging ~8.5.
func (g *gen) replicas() int {
	switch r := g.rng.Float64(); {
	case r < 0.06:
		return 1
	case r < 0.20:
		return 2
	case r < 0.38:
		return 3
	case r < 0.60:
		return 4 + g.rng.Intn(3)
	case r < 0.85:
		return 8 + g.rng.Intn(5)
	default:
		return 15 + g.rng.Intn(26)
	}
}

// forcedApps places the applications every cluster is guaranteed to have: in the first
// application namespace web, api (Deployments), postgres (StatefulSet), report
// (CronJob) and migrate (Job); in the second web and api. web always gets an old
// ReplicaSet, a Service, an Ingress, an HPA, a PDB, a NetworkPolicy and its own
// ServiceAccount with a Role.
func (g *gen) forcedApps() {
	ns0, ns1 := g.appNss[0], g.appNss[1]
	for i, ns := range []*nsState{ns0, ns1} {
		w := g.newApp(ns, SharedName, findBase("web"))
		w.service, w.ingress, w.netpol = true, true, true
		w.oldRS = 1 + i
		w.sa, w.role = SharedName, true
		if w.replicas < 2 {
			w.replicas = 3
		}
		w.hpa, w.pdb = true, true
		g.genApp(w)
		g.genApp(g.newApp(ns, "api", findBase("api")))
	}
	g.genApp(g.newApp(ns0, "postgres", findBase("postgres")))
	g.genApp(g.newApp(ns0, "report", findBase("report")))
	g.genApp(g.newApp(ns0, "migrate", findBase("migrate")))
}

func (g *gen) genApp(a *app) {
	g.appSupport(a)
	switch a.base.kind {
	case kindDeployment:
		g.deployment(a)
	case kindStatefulSet:
		g.statefulSet(a)
	case kindCronJob:
		g.cronJob(a)
	case kindJob:
		g.job(a, a.name+"-"+strconv.Itoa(1+g.rng.Intn(400)), nil, g.between(a.created, refTime.Add(-time.Hour)), "Succeeded", g.podTemplate(a, "Never"))
	}
}

// appSupport emits the ServiceAccount, ConfigMap, Secret and Role/RoleBinding of an app.
func (g *gen) appSupport(a *app) {
	t := a.created.Add(-time.Duration(1+g.rng.Intn(60)) * time.Second)
	if a.sa != "default" {
		m := g.newMeta(a.ns.name, a.sa, t, copyLabels(a.selector))
		sa := &serviceAccountObject{APIVersion: "v1", Kind: "ServiceAccount", Metadata: m}
		if a.pullSecret {
			sa.ImagePullSecrets = []localRef{{Name: "regcred"}}
		}
		g.emit("ServiceAccount", m, sa)
		if a.role {
			m := g.newMeta(a.ns.name, a.name, t, copyLabels(a.selector))
			g.emit("Role", m, &roleObject{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role", Metadata: m, Rules: []jmap{
				{"apiGroups": []string{""}, "resources": []string{"configmaps", "secrets"}, "verbs": []string{"get", "list", "watch"}},
				{"apiGroups": []string{"coordination.k8s.io"}, "resources": []string{"leases"}, "verbs": []string{"get", "create", "update"}},
			}})
			m = g.newMeta(a.ns.name, a.name, t, copyLabels(a.selector))
			g.emit("RoleBinding", m, &roleBindingObject{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding", Metadata: m,
				Subjects: []jmap{{"kind": "ServiceAccount", "name": a.sa, "namespace": a.ns.name}},
				RoleRef:  jmap{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": a.name}})
		}
	}
	if a.cm != "" {
		m := g.newMeta(a.ns.name, a.cm, t, copyLabels(a.selector))
		g.emit("ConfigMap", m, &dataObject{APIVersion: "v1", Kind: "ConfigMap", Metadata: m, Data: smap{
			"LOG_LEVEL":       []string{"info", "debug", "warn"}[g.rng.Intn(3)],
			"FEATURE_FLAGS":   "new-checkout=" + strconv.FormatBool(g.chance(0.5)) + ",dark-mode=true",
			"UPSTREAM_URL":    "http://api." + a.ns.name + ".svc.cluster.local:80",
			"config.yaml":     fmt.Sprintf("server:\n  port: %d\n  readTimeout: 30s\nmetrics:\n  enabled: true\n  path: /metrics\ncache:\n  ttl: %dm\n", a.base.port, 1+g.rng.Intn(60)),
			"MAX_CONNECTIONS": strconv.Itoa(16 << g.rng.Intn(5)),
		}})
	}
	if a.secret != "" {
		m := g.newMeta(a.ns.name, a.secret, t, copyLabels(a.selector))
		g.emit("Secret", m, &dataObject{APIVersion: "v1", Kind: "Secret", Metadata: m, Type: "Opaque", Data: smap{
			"username": base64.StdEncoding.EncodeToString([]byte(a.name)),
			"password": g.fakeB64(24),
			"api-key":  g.fakeB64(32),
		}})
	}
}

var (
	requestCPU = []string{"50m", "100m", "100m", "250m", "250m", "500m", "1"}
	requestMem = []string{"64Mi", "128Mi", "256Mi", "256Mi", "512Mi", "1Gi", "2Gi"}
	limitCPU   = []string{"200m", "500m", "500m", "1", "1", "2", "4"}
	limitMem   = []string{"128Mi", "256Mi", "512Mi", "512Mi", "1Gi", "2Gi", "4Gi"}
)

// podTemplate builds the pod spec of an app's template (no service-account token volume,
// no node: those are added per pod).
func (g *gen) podTemplate(a *app, restartPolicy string) *podSpec {
	i := g.rng.Intn(len(requestCPU))
	res := resources{Requests: smap{"cpu": requestCPU[i], "memory": requestMem[i]}}
	if g.chance(0.9) {
		if g.chance(0.1) {
			res.Limits = smap{"cpu": requestCPU[i], "memory": requestMem[i]}
		} else {
			res.Limits = smap{"cpu": limitCPU[i], "memory": limitMem[i]}
		}
	}
	c := container{Name: a.base.name, Image: a.image, Resources: res}
	if a.base.port != 0 {
		pn := "http"
		if a.base.tier == "db" || a.base.tier == "cache" {
			pn = "tcp"
		}
		c.Ports = []containerPort{{Name: pn, ContainerPort: a.base.port, Protocol: "TCP"}}
		if pn == "http" && g.chance(0.2) {
			c.ReadinessProbe = &probe{HTTPGet: &httpGet{Path: "/healthz", Port: a.base.port, Scheme: "HTTP"}, TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
		}
	} else {
		c.Args = []string{"--run-once", "--target=" + a.ns.name}
	}
	c.Env = []envVar{{Name: "ENVIRONMENT", Value: "production"}}
	var vols []volume
	if a.cm != "" {
		c.Env = append(c.Env, envVar{Name: "LOG_LEVEL", ValueFrom: &envSource{ConfigMapKeyRef: &keyRef{Name: a.cm, Key: "LOG_LEVEL"}}})
		if g.chance(0.5) {
			c.EnvFrom = append(c.EnvFrom, envFrom{ConfigMapRef: &localRef{Name: a.cm}})
		}
		vols = append(vols, volume{Name: "config", ConfigMap: &configMapVolume{Name: a.cm, DefaultMode: ptr(420)}})
		c.VolumeMounts = append(c.VolumeMounts, volumeMount{Name: "config", ReadOnly: true, MountPath: "/etc/" + a.base.name})
	}
	if a.secret != "" {
		c.Env = append(c.Env, envVar{Name: "DB_PASSWORD", ValueFrom: &envSource{SecretKeyRef: &keyRef{Name: a.secret, Key: "password"}}})
		if g.chance(0.3) {
			vols = append(vols, volume{Name: "credentials", Secret: &secretVolume{SecretName: a.secret, DefaultMode: ptr(420)}})
			c.VolumeMounts = append(c.VolumeMounts, volumeMount{Name: "credentials", ReadOnly: true, MountPath: "/var/run/secrets/" + a.base.name})
		}
	}
	if a.base.kind == kindStatefulSet {
		c.VolumeMounts = append(c.VolumeMounts, volumeMount{Name: "data", MountPath: "/var/lib/" + a.base.name})
	}
	spec := &podSpec{Volumes: vols, Containers: []container{c}, RestartPolicy: restartPolicy,
		DNSPolicy: "ClusterFirst", ServiceAccountName: a.sa}
	if a.base.tier == "db" {
		spec.SecurityContext = &podSecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr(1001), FSGroup: ptr(1001)}
		spec.TerminationGracePeriodSeconds = 120
	}
	if a.pullSecret {
		spec.ImagePullSecrets = []localRef{{Name: "regcred"}}
	}
	switch a.sidecar {
	case 1:
		spec.Containers = append(spec.Containers, container{Name: "envoy", Image: "docker.io/envoyproxy/envoy:v1.29.4",
			Args:      []string{"-c", "/etc/envoy/envoy.yaml"},
			Ports:     []containerPort{{Name: "admin", ContainerPort: 9901, Protocol: "TCP"}},
			Resources: resources{Requests: smap{"cpu": "50m", "memory": "64Mi"}, Limits: smap{"cpu": "200m", "memory": "128Mi"}},
		})
	case 2:
		spec.Volumes = append(spec.Volumes, volume{Name: "logs", EmptyDir: &struct{}{}})
		spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts, volumeMount{Name: "logs", MountPath: "/var/log/app"})
		spec.Containers = append(spec.Containers, container{Name: "log-shipper", Image: "cr.fluentbit.io/fluent/fluent-bit:3.1.4",
			Resources:    resources{Requests: smap{"cpu": "20m", "memory": "32Mi"}},
			VolumeMounts: []volumeMount{{Name: "logs", ReadOnly: true, MountPath: "/var/log/app"}},
		})
	}
	return spec
}

func qosClass(s *podSpec) string {
	guaranteed, some := true, false
	for _, c := range s.Containers {
		if len(c.Resources.Requests) > 0 || len(c.Resources.Limits) > 0 {
			some = true
		}
		if len(c.Resources.Limits) == 0 || c.Resources.Limits["cpu"] != c.Resources.Requests["cpu"] || c.Resources.Limits["memory"] != c.Resources.Requests["memory"] {
			guaranteed = false
		}
	}
	switch {
	case !some:
		return "BestEffort"
	case guaranteed:
		return "Guaranteed"
	}
	return "Burstable"
}

type podOpts struct {
	phase     string // Running, Pending, Succeeded, Failed
	reason    string // Evicted, Unschedulable, ...
	node      *nodeRef
	pvc       string // claim of the "data" volume (StatefulSet pods)
	hostname  string
	subdomain string
	created   time.Time
}

type podInfo struct {
	name, uid, ip, node, zone string
	ready                     bool
}

// servicePodOpts picks the phase and node of a long-running pod.
func (g *gen) servicePodOpts(created time.Time) podOpts {
	o := podOpts{phase: "Running", created: created, node: &g.nodes[g.rng.Intn(len(g.nodes))]}
	switch r := g.rng.Float64(); {
	case r < 0.025:
		o.phase, o.reason, o.node = "Pending", "Unschedulable", nil
		o.created = g.between(refTime.Add(-2*time.Hour), refTime.Add(-time.Minute))
	case r < 0.04:
		o.phase, o.reason = "Pending", "ContainerCreating"
		o.created = g.between(refTime.Add(-30*time.Minute), refTime.Add(-time.Minute))
	case r < 0.05:
		o.phase, o.reason = "Failed", "Evicted"
	}
	return o
}

// pod emits one Pod built from a template.
func (g *gen) pod(a *app, tpl *podSpec, name, generateName string, labels smap, own *ownerRef, o podOpts) podInfo {
	m := g.newMeta(a.ns.name, name, o.created, labels)
	m.GenerateName = generateName
	if own != nil {
		m.OwnerReferences = []ownerRef{*own}
	}
	if a.base.port != 0 && a.tier != "db" && g.chance(0.3) {
		m.Annotations = smap{"prometheus.io/scrape": "true", "prometheus.io/port": strconv.Itoa(a.base.port)}
	}
	s := *tpl
	tokenVol := "kube-api-access-" + g.randStr(5)
	s.Volumes = make([]volume, 0, len(tpl.Volumes)+2)
	if o.pvc != "" {
		s.Volumes = append(s.Volumes, volume{Name: "data", PersistentVolumeClaim: &pvcVolume{ClaimName: o.pvc}})
	}
	s.Volumes = append(s.Volumes, tpl.Volumes...)
	// The service-account token is projected into pods of apps with their own
	// ServiceAccount; the "default" ServiceAccounts have automountServiceAccountToken: false.
	if tpl.ServiceAccountName != "default" {
		s.Volumes = append(s.Volumes, volume{Name: tokenVol, Projected: &projected{DefaultMode: ptr(420), Sources: []projection{
			{ServiceAccountToken: &saToken{ExpirationSeconds: 3607, Path: "token"}},
			{ConfigMap: &configMapVolume{Name: "kube-root-ca.crt"}},
		}}})
		s.Containers = make([]container, len(tpl.Containers))
		for i, c := range tpl.Containers {
			c.VolumeMounts = append(append(make([]volumeMount, 0, len(c.VolumeMounts)+1), c.VolumeMounts...),
				volumeMount{Name: tokenVol, ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"})
			s.Containers[i] = c
		}
	}
	if len(s.Volumes) == 0 {
		s.Volumes = nil
	}
	s.Hostname, s.Subdomain = o.hostname, o.subdomain
	info := podInfo{name: name, uid: m.UID}
	if o.node != nil {
		s.NodeName = o.node.name
		info.node, info.zone = o.node.name, o.node.zone
	}

	st := &podStatus{Phase: o.phase, QOSClass: qosClass(&s)}
	created := o.created
	started := created.Add(time.Duration(2+g.rng.Intn(20)) * time.Second)
	cond := func(typ, status string, t time.Time, reason string) podCondition {
		return podCondition{Type: typ, Status: status, LastTransitionTime: ts(t), Reason: reason}
	}
	if o.node != nil {
		st.HostIP = o.node.ip
		st.StartTime = ts(created.Add(time.Second))
	}
	switch {
	case o.phase == "Pending" && o.node == nil:
		st.Conditions = []podCondition{{Type: "PodScheduled", Status: "False", LastTransitionTime: ts(created),
			Reason: "Unschedulable", Message: fmt.Sprintf("0/%d nodes are available: %d Insufficient cpu. preemption: 0/%d nodes are available: %d No preemption victims found for incoming pod.", len(g.nodes), len(g.nodes), len(g.nodes), len(g.nodes))}}
	case o.phase == "Pending":
		st.Conditions = []podCondition{cond("Ready", "False", created.Add(time.Second), "ContainersNotReady"),
			cond("PodScheduled", "True", created, "")}
		for _, c := range s.Containers {
			st.ContainerStatuses = append(st.ContainerStatuses, containerStatus{Name: c.Name,
				State: containerState{Waiting: &stateWaiting{Reason: "ContainerCreating"}}, Image: c.Image, ImageID: ""})
		}
	case o.phase == "Failed" && o.reason == "Evicted":
		st.Reason, st.Message = "Evicted", "The node was low on resource: memory. Threshold quantity: 100Mi, available: 91572Ki."
		st.Conditions = []podCondition{cond("DisruptionTarget", "True", refTime.Add(-time.Hour), "TerminationByKubelet"),
			cond("Ready", "False", refTime.Add(-time.Hour), "PodFailed"), cond("PodScheduled", "True", created, "")}
		for _, c := range s.Containers {
			st.ContainerStatuses = append(st.ContainerStatuses, containerStatus{Name: c.Name,
				State: containerState{Terminated: &stateTerminated{ExitCode: 137, Reason: "ContainerStatusUnknown", StartedAt: ts(started), FinishedAt: ts(refTime.Add(-time.Hour))}},
				Image: c.Image, ImageID: imageRepo(c.Image) + "@sha256:" + a.digest})
		}
	default: // Running, Succeeded, Failed (job)
		ip := g.podIP()
		st.PodIP = ip
		info.ip = ip
		ready := o.phase == "Running"
		info.ready = ready
		rs, rr := "True", ""
		if !ready {
			rs, rr = "False", "PodCompleted"
		}
		st.Conditions = []podCondition{cond("Ready", rs, started.Add(5*time.Second), rr), cond("PodScheduled", "True", created, "")}
		for i, c := range s.Containers {
			cs := containerStatus{Name: c.Name, Ready: ready, Image: c.Image,
				ImageID: imageRepo(c.Image) + "@sha256:" + a.digest, ContainerID: "containerd://" + g.randHex(64)}
			if i > 0 {
				cs.ImageID = imageRepo(c.Image) + "@sha256:" + a.digest[i:] + a.digest[:i]
			}
			switch o.phase {
			case "Running":
				cs.State.Running = &stateRunning{StartedAt: ts(started)}
				if g.chance(0.08) {
					cs.RestartCount = 1 + g.rng.Intn(6)
					cs.LastState = &containerState{}
					cs.LastState.Terminated = &stateTerminated{ExitCode: 137, Reason: "OOMKilled", StartedAt: ts(created), FinishedAt: ts(started), ContainerID: "containerd://" + g.randHex(64)}
				}
			case "Succeeded":
				cs.State.Terminated = &stateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: ts(started), FinishedAt: ts(started.Add(time.Duration(10+g.rng.Intn(600)) * time.Second)), ContainerID: cs.ContainerID}
			case "Failed":
				cs.State.Terminated = &stateTerminated{ExitCode: 1, Reason: "Error", StartedAt: ts(started), FinishedAt: ts(started.Add(time.Duration(5+g.rng.Intn(100)) * time.Second)), ContainerID: cs.ContainerID}
			}
			st.ContainerStatuses = append(st.ContainerStatuses, cs)
		}
	}
	g.emit("Pod", m, &podObject{APIVersion: "v1", Kind: "Pod", Metadata: m, Spec: &s, Status: st})
	g.pods = append(g.pods, podRef{ns: a.ns.name, name: name, uid: m.UID, node: info.node, phase: o.phase, container: s.Containers[0].Name, created: created})
	return info
}

func template(labels smap, spec *podSpec, annotations smap) podTemplate {
	return podTemplate{Metadata: templateMeta{Labels: labels, Annotations: annotations}, Spec: spec}
}

// deployment emits Deployment, ReplicaSets (old ones with 0 replicas, then the current
// one), Pods and the app's Service/EndpointSlice/HPA/PDB/NetworkPolicy/Ingress.
func (g *gen) deployment(a *app) {
	tpl := g.podTemplate(a, "Always")
	revision := a.oldRS + 1 + g.rng.Intn(3)
	hashes := make([]string, a.oldRS+1)
	for i := range hashes {
	again:
		h := g.randStr(10)
		for _, o := range hashes[:i] {
			if o == h {
				goto again
			}
		}
		hashes[i] = h
	}
	rsTimes := make([]time.Time, a.oldRS+1)
	rsTimes[0] = a.created
	for i := 1; i < len(rsTimes); i++ {
		rsTimes[i] = g.between(rsTimes[i-1], refTime.Add(-2*time.Hour))
	}
	rsCreated := rsTimes[a.oldRS]
	rsName := a.name + "-" + hashes[a.oldRS]
	opts := make([]podOpts, a.replicas)
	ready := 0
	for i := range opts {
		opts[i] = g.servicePodOpts(g.between(rsCreated.Add(10*time.Second), refTime.Add(-10*time.Minute)))
		if opts[i].phase == "Running" {
			ready++
		}
	}

	dm := g.newMeta(a.ns.name, a.name, a.created, copyLabels(a.labels))
	dm.Generation = int64(revision)
	dm.Annotations = smap{"deployment.kubernetes.io/revision": strconv.Itoa(revision)}
	avail := jmap{"type": "Available", "status": "True", "lastUpdateTime": ts(a.created.Add(time.Minute)), "lastTransitionTime": ts(a.created.Add(time.Minute)), "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."}
	status := jmap{
		"observedGeneration": revision, "replicas": a.replicas, "updatedReplicas": a.replicas,
		"readyReplicas": ready, "availableReplicas": ready,
		"conditions": []jmap{avail,
			{"type": "Progressing", "status": "True", "lastUpdateTime": ts(rsCreated.Add(2 * time.Minute)), "lastTransitionTime": ts(a.created), "reason": "NewReplicaSetAvailable", "message": fmt.Sprintf("ReplicaSet %q has successfully progressed.", rsName)},
		},
	}
	if ready < a.replicas {
		status["unavailableReplicas"] = a.replicas - ready
	}
	g.emit("Deployment", dm, &object{APIVersion: "apps/v1", Kind: "Deployment", Metadata: dm,
		Spec: jmap{
			"replicas":                a.replicas,
			"selector":                labelSelector{MatchLabels: a.selector},
			"template":                template(a.labels, tpl, nil),
			"strategy":                jmap{"type": "RollingUpdate", "rollingUpdate": jmap{"maxUnavailable": "25%", "maxSurge": "25%"}},
			"revisionHistoryLimit":    10,
			"progressDeadlineSeconds": 600,
		},
		Status: status})
	dOwner := owner("Deployment", a.name, dm.UID)

	for i := 0; i < a.oldRS; i++ {
		oldLabels := copyLabels(a.labels, "version", "v"+strconv.Itoa(1+g.rng.Intn(5)), "pod-template-hash", hashes[i])
		g.replicaSet(a, a.name+"-"+hashes[i], oldLabels, tpl, &dOwner, 0, 0, i+1, rsTimes[i])
	}
	podLabels := copyLabels(a.labels, "pod-template-hash", hashes[a.oldRS])
	rsUID := g.replicaSet(a, rsName, podLabels, tpl, &dOwner, a.replicas, ready, revision, rsCreated)
	rsOwner := owner("ReplicaSet", rsName, rsUID)
	used := map[string]bool{}
	pods := make([]podInfo, 0, a.replicas)
	for i := 0; i < a.replicas; i++ {
		suffix := g.randStr(5)
		for used[suffix] {
			suffix = g.randStr(5)
		}
		used[suffix] = true
		pods = append(pods, g.pod(a, tpl, rsName+"-"+suffix, rsName+"-", copyLabels(podLabels), &rsOwner, opts[i]))
	}
	g.deploys = append(g.deploys, deployRef{a: a, uid: dm.UID, rs: rsName, tpl: tpl, labels: a.labels, created: rsCreated})
	g.appNetworking(a, pods, "Deployment")
}

func (g *gen) replicaSet(a *app, name string, labels smap, tpl *podSpec, own *ownerRef, replicas, ready, revision int, created time.Time) string {
	m := g.newMeta(a.ns.name, name, created, labels)
	m.Generation = 1 + int64(g.rng.Intn(3))
	m.OwnerReferences = []ownerRef{*own}
	m.Annotations = smap{
		"deployment.kubernetes.io/desired-replicas": strconv.Itoa(a.replicas),
		"deployment.kubernetes.io/max-replicas":     strconv.Itoa(a.replicas + (a.replicas+3)/4),
		"deployment.kubernetes.io/revision":         strconv.Itoa(revision),
	}
	sel := copyLabels(a.selector, "pod-template-hash", labels["pod-template-hash"])
	status := jmap{"replicas": replicas, "observedGeneration": m.Generation}
	if replicas > 0 {
		status["fullyLabeledReplicas"] = replicas
		status["readyReplicas"] = ready
		status["availableReplicas"] = ready
	}
	g.emit("ReplicaSet", m, &object{APIVersion: "apps/v1", Kind: "ReplicaSet", Metadata: m,
		Spec:   jmap{"replicas": replicas, "selector": labelSelector{MatchLabels: sel}, "template": template(labels, tpl, nil)},
		Status: status})
	return m.UID
}

// appNetworking emits the Service(s), EndpointSlice(s), HPA, PDB, NetworkPolicy and Ingress
// of a Deployment or StatefulSet app.
func (g *gen) appNetworking(a *app, pods []podInfo, workloadKind string) {
	t := a.created.Add(time.Duration(1+g.rng.Intn(30)) * time.Second)
	if workloadKind == "StatefulSet" {
		g.service(a, a.name+"-headless", true, pods, t)
	}
	if a.service {
		g.service(a, a.serviceName, false, pods, t)
	}
	if a.hpa {
		m := g.newMeta(a.ns.name, a.name, t, copyLabels(a.selector))
		g.emit("HorizontalPodAutoscaler", m, &object{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Metadata: m,
			Spec: jmap{
				"scaleTargetRef": jmap{"apiVersion": "apps/v1", "kind": workloadKind, "name": a.name},
				"minReplicas":    a.replicas, "maxReplicas": a.replicas * (2 + g.rng.Intn(3)),
				"metrics": []jmap{{"type": "Resource", "resource": jmap{"name": "cpu", "target": jmap{"type": "Utilization", "averageUtilization": 60 + 10*g.rng.Intn(3)}}}},
			},
			Status: jmap{"currentReplicas": a.replicas, "desiredReplicas": a.replicas, "lastScaleTime": ts(g.between(a.created, refTime)),
				"currentMetrics": []jmap{{"type": "Resource", "resource": jmap{"name": "cpu", "current": jmap{"averageUtilization": 10 + g.rng.Intn(60), "averageValue": strconv.Itoa(20+g.rng.Intn(200)) + "m"}}}}}})
	}
	if a.pdb {
		m := g.newMeta(a.ns.name, a.name, t, copyLabels(a.selector))
		spec := jmap{"selector": labelSelector{MatchLabels: a.selector}}
		if g.chance(0.5) {
			spec["minAvailable"] = 1
		} else {
			spec["maxUnavailable"] = 1
		}
		healthy := 0
		for _, p := range pods {
			if p.ready {
				healthy++
			}
		}
		g.emit("PodDisruptionBudget", m, &object{APIVersion: "policy/v1", Kind: "PodDisruptionBudget", Metadata: m, Spec: spec,
			Status: jmap{"currentHealthy": healthy, "desiredHealthy": len(pods) - 1, "disruptionsAllowed": clamp(healthy-len(pods)+1, 0, 1), "expectedPods": len(pods), "observedGeneration": 1}})
	}
	if a.netpol {
		m := g.newMeta(a.ns.name, a.name+"-allow-ingress", t, copyLabels(a.selector))
		port := a.base.port
		g.emit("NetworkPolicy", m, &object{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Metadata: m, Spec: jmap{
			"podSelector": labelSelector{MatchLabels: a.selector},
			"policyTypes": []string{"Ingress"},
			"ingress": []jmap{{
				"from":  []jmap{{"podSelector": labelSelector{}}, {"namespaceSelector": labelSelector{MatchLabels: smap{"kubernetes.io/metadata.name": a.ns.name}}}},
				"ports": []jmap{{"protocol": "TCP", "port": port}},
			}},
		}})
	}
	if a.ingress {
		host := fmt.Sprintf("%s.%s.%s.example.com", a.name, a.ns.name, g.cluster)
		tlsName := a.name + "-tls"
		m := g.newMeta(a.ns.name, tlsName, t, copyLabels(a.selector))
		m.Annotations = smap{"cert-manager.io/certificate-name": tlsName}
		g.emit("Secret", m, &dataObject{APIVersion: "v1", Kind: "Secret", Metadata: m, Type: "kubernetes.io/tls", Data: smap{
			"tls.crt": g.fakeB64(96), "tls.key": g.fakeB64(64)}})
		m = g.newMeta(a.ns.name, a.name, t, copyLabels(a.selector))
		m.Generation = 1
		m.Annotations = smap{"cert-manager.io/cluster-issuer": "letsencrypt", "nginx.ingress.kubernetes.io/proxy-body-size": "8m"}
		g.emit("Ingress", m, &object{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Metadata: m,
			Spec: jmap{
				"ingressClassName": "nginx",
				"tls":              []jmap{{"hosts": []string{host}, "secretName": tlsName}},
				"rules": []jmap{{"host": host, "http": jmap{"paths": []jmap{{"path": "/", "pathType": "Prefix",
					"backend": jmap{"service": jmap{"name": a.serviceName, "port": jmap{"number": 80}}}}}}}},
			},
			Status: jmap{"loadBalancer": jmap{"ingress": []jmap{{"hostname": "k8s-ingress-" + g.randHex(10) + ".elb." + g.region + ".amazonaws.com"}}}}})
	}
}

func (g *gen) service(a *app, name string, headless bool, pods []podInfo, t time.Time) {
	m := g.newMeta(a.ns.name, name, t, copyLabels(a.selector))
	pn := "http"
	port := 80
	if a.tier == "db" || a.tier == "cache" {
		pn, port = "tcp", a.base.port
	}
	if a.serviceName == "kube-dns" {
		pn, port = "dns", 53
	}
	spec := jmap{
		"type":                  "ClusterIP",
		"selector":              a.selector,
		"ports":                 []jmap{{"name": pn, "protocol": "TCP", "port": port, "targetPort": a.base.port}},
		"sessionAffinity":       "None",
		"ipFamilies":            []string{"IPv4"},
		"ipFamilyPolicy":        "SingleStack",
		"internalTrafficPolicy": "Cluster",
	}
	if headless {
		spec["clusterIP"] = "None"
		spec["clusterIPs"] = []string{"None"}
		spec["publishNotReadyAddresses"] = true
	} else {
		ip := g.serviceIP()
		spec["clusterIP"] = ip
		spec["clusterIPs"] = []string{ip}
	}
	g.emit("Service", m, &object{APIVersion: "v1", Kind: "Service", Metadata: m, Spec: spec, Status: jmap{"loadBalancer": jmap{}}})

	esl := copyLabels(a.selector, "kubernetes.io/service-name", name, "endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io")
	if headless {
		esl["service.kubernetes.io/headless"] = ""
	}
	em := g.newMeta(a.ns.name, name+"-"+g.randStr(5), t.Add(time.Second), esl)
	em.GenerateName = name + "-"
	em.OwnerReferences = []ownerRef{owner("Service", name, m.UID)}
	em.Annotations = smap{"endpoints.kubernetes.io/last-change-trigger-time": ts(g.between(t, refTime))}
	eps := []endpoint{}
	for i := range pods {
		p := &pods[i]
		if p.ip == "" {
			continue
		}
		eps = append(eps, endpoint{Addresses: []string{p.ip}, Conditions: endpointConditions{Ready: p.ready, Serving: p.ready},
			TargetRef: &objectRef{Kind: "Pod", Namespace: a.ns.name, Name: p.name, UID: p.uid}, NodeName: p.node, Zone: p.zone})
	}
	g.emit("EndpointSlice", em, &endpointSliceObject{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice", Metadata: em,
		AddressType: "IPv4", Endpoints: eps, Ports: []jmap{{"name": pn, "protocol": "TCP", "port": a.base.port}}})
}

// statefulSet emits StatefulSet, Pods, PVCs (each bound to a PersistentVolume) and Services.
func (g *gen) statefulSet(a *app) {
	tpl := g.podTemplate(a, "Always")
	sc := "standard"
	if a.tier == "db" && g.chance(0.5) {
		sc = "fast-ssd"
	}
	size := []string{"10Gi", "20Gi", "50Gi", "100Gi"}[g.rng.Intn(4)]
	revHash := a.name + "-" + g.randStr(10)
	m := g.newMeta(a.ns.name, a.name, a.created, copyLabels(a.labels))
	m.Generation = 1 + int64(g.rng.Intn(4))
	g.emit("StatefulSet", m, &object{APIVersion: "apps/v1", Kind: "StatefulSet", Metadata: m,
		Spec: jmap{
			"replicas":             a.replicas,
			"selector":             labelSelector{MatchLabels: a.selector},
			"template":             template(a.labels, tpl, nil),
			"serviceName":          a.name + "-headless",
			"podManagementPolicy":  "OrderedReady",
			"updateStrategy":       jmap{"type": "RollingUpdate", "rollingUpdate": jmap{"partition": 0}},
			"revisionHistoryLimit": 10,
			"volumeClaimTemplates": []jmap{{
				"apiVersion": "v1", "kind": "PersistentVolumeClaim",
				"metadata": jmap{"name": "data", "creationTimestamp": nil},
				"spec":     jmap{"accessModes": []string{"ReadWriteOnce"}, "storageClassName": sc, "resources": jmap{"requests": jmap{"storage": size}}, "volumeMode": "Filesystem"},
				"status":   jmap{"phase": "Pending"},
			}},
			"persistentVolumeClaimRetentionPolicy": jmap{"whenDeleted": "Retain", "whenScaled": "Retain"},
		},
		Status: jmap{"observedGeneration": m.Generation, "replicas": a.replicas, "readyReplicas": a.replicas, "currentReplicas": a.replicas,
			"updatedReplicas": a.replicas, "availableReplicas": a.replicas, "currentRevision": revHash, "updateRevision": revHash, "collisionCount": 0}})
	stsOwner := owner("StatefulSet", a.name, m.UID)
	var pods []podInfo
	for i := 0; i < a.replicas; i++ {
		name := a.name + "-" + strconv.Itoa(i)
		claim := "data-" + name
		created := g.between(a.created.Add(time.Duration(i)*time.Minute), refTime.Add(-10*time.Minute))
		// PVC + PV
		pvcCreated := a.created.Add(time.Duration(i) * time.Minute)
		pm := g.newMeta(a.ns.name, claim, pvcCreated, copyLabels(a.selector))
		pm.Finalizers = []string{"kubernetes.io/pvc-protection"}
		pvName := "pvc-" + pm.UID
		node := &g.nodes[g.rng.Intn(len(g.nodes))]
		pm.Annotations = smap{"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
			"volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com", "volume.kubernetes.io/selected-node": node.name}
		g.emit("PersistentVolumeClaim", pm, &object{APIVersion: "v1", Kind: "PersistentVolumeClaim", Metadata: pm,
			Spec:   jmap{"accessModes": []string{"ReadWriteOnce"}, "resources": jmap{"requests": jmap{"storage": size}}, "storageClassName": sc, "volumeMode": "Filesystem", "volumeName": pvName},
			Status: jmap{"phase": "Bound", "accessModes": []string{"ReadWriteOnce"}, "capacity": jmap{"storage": size}}})
		vm := g.newMeta("", pvName, pvcCreated.Add(3*time.Second), nil)
		vm.Finalizers = []string{"kubernetes.io/pv-protection", "external-attacher/ebs-csi-aws-com"}
		vm.Annotations = smap{"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com", "volume.kubernetes.io/provisioner-deletion-secret-name": "", "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""}
		g.emit("PersistentVolume", vm, &object{APIVersion: "v1", Kind: "PersistentVolume", Metadata: vm,
			Spec: jmap{
				"accessModes":                   []string{"ReadWriteOnce"},
				"capacity":                      jmap{"storage": size},
				"claimRef":                      jmap{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": a.ns.name, "name": claim, "uid": pm.UID, "resourceVersion": pm.ResourceVersion},
				"csi":                           jmap{"driver": "ebs.csi.aws.com", "fsType": "ext4", "volumeHandle": "vol-0" + g.randHex(16)},
				"nodeAffinity":                  jmap{"required": jmap{"nodeSelectorTerms": []jmap{{"matchExpressions": []jmap{{"key": "topology.kubernetes.io/zone", "operator": "In", "values": []string{node.zone}}}}}}},
				"persistentVolumeReclaimPolicy": "Delete",
				"storageClassName":              sc,
				"volumeMode":                    "Filesystem",
			},
			Status: jmap{"phase": "Bound", "lastPhaseTransitionTime": ts(pvcCreated.Add(4 * time.Second))}})
		o := podOpts{phase: "Running", node: node, pvc: claim, hostname: name, subdomain: a.name + "-headless", created: created}
		if g.chance(0.03) {
			o.phase, o.reason = "Pending", "ContainerCreating"
		}
		labels := copyLabels(a.labels, "controller-revision-hash", revHash, "statefulset.kubernetes.io/pod-name", name, "apps.kubernetes.io/pod-index", strconv.Itoa(i))
		pods = append(pods, g.pod(a, tpl, name, a.name+"-", labels, &stsOwner, o))
	}
	g.appNetworking(a, pods, "StatefulSet")
}

var cronSchedules = []struct {
	spec  string
	every time.Duration
}{{"*/15 * * * *", 15 * time.Minute}, {"0 * * * *", time.Hour}, {"0 */6 * * *", 6 * time.Hour}, {"30 2 * * *", 24 * time.Hour}, {"*/5 * * * *", 5 * time.Minute}}

// cronJob emits a CronJob and its 1-3 most recent Jobs (each with its Pod).
func (g *gen) cronJob(a *app) {
	tpl := g.podTemplate(a, "OnFailure")
	sch := cronSchedules[g.rng.Intn(len(cronSchedules))]
	n := 1 + g.rng.Intn(3)
	last := refTime.Add(-time.Duration(g.rng.Int63n(int64(sch.every)))).Truncate(time.Minute)
	if first := last.Add(-time.Duration(n-1) * sch.every); first.Before(a.created) {
		a.created = first.Add(-time.Hour)
	}
	m := g.newMeta(a.ns.name, a.name, a.created, copyLabels(a.labels))
	type jobPlan struct {
		name  string
		at    time.Time
		phase string
		meta  *meta
	}
	var jobs []jobPlan
	for i := n - 1; i >= 0; i-- {
		at := last.Add(-time.Duration(i) * sch.every)
		phase := "Succeeded"
		if i == 0 && g.chance(0.3) {
			phase = "Running"
		} else if g.chance(0.1) {
			phase = "Failed"
		}
		jobs = append(jobs, jobPlan{name: a.name + "-" + strconv.FormatInt(at.Unix()/60, 10), at: at, phase: phase})
	}
	status := jmap{"lastScheduleTime": ts(last)}
	var active []objectRef
	for i := range jobs {
		jobs[i].meta = g.newMeta(a.ns.name, jobs[i].name, jobs[i].at, nil)
		if jobs[i].phase == "Running" {
			active = append(active, objectRef{Kind: "Job", Namespace: a.ns.name, Name: jobs[i].name, UID: jobs[i].meta.UID, APIVersion: "batch/v1"})
		} else if jobs[i].phase == "Succeeded" {
			status["lastSuccessfulTime"] = ts(jobs[i].at.Add(time.Minute))
		}
	}
	if active != nil {
		status["active"] = active
	}
	g.emit("CronJob", m, &object{APIVersion: "batch/v1", Kind: "CronJob", Metadata: m,
		Spec: jmap{
			"schedule": sch.spec, "concurrencyPolicy": "Forbid", "suspend": false,
			"successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
			"jobTemplate": jmap{"metadata": jmap{"creationTimestamp": nil},
				"spec": jmap{"backoffLimit": 2, "template": template(a.labels, tpl, nil)}},
		},
		Status: status})
	own := owner("CronJob", a.name, m.UID)
	for _, j := range jobs {
		g.jobWithMeta(a, j.meta, &own, j.phase, tpl)
	}
}

// job emits a standalone Job (no owner) with its Pod.
func (g *gen) job(a *app, name string, own *ownerRef, at time.Time, phase string, tpl *podSpec) {
	g.jobWithMeta(a, g.newMeta(a.ns.name, name, at, nil), own, phase, tpl)
}

func (g *gen) jobWithMeta(a *app, m *meta, own *ownerRef, phase string, tpl *podSpec) {
	at, _ := time.Parse(time.RFC3339, m.CreationTimestamp)
	jobLabels := copyLabels(a.labels, "batch.kubernetes.io/controller-uid", m.UID, "batch.kubernetes.io/job-name", m.Name,
		"controller-uid", m.UID, "job-name", m.Name)
	m.Labels = jobLabels
	m.Generation = 1
	if own != nil {
		m.OwnerReferences = []ownerRef{*own}
	}
	m.Annotations = smap{"batch.kubernetes.io/job-tracking": ""}
	sel := smap{"batch.kubernetes.io/controller-uid": m.UID}
	status := jmap{"startTime": ts(at.Add(time.Second)), "ready": 0, "terminating": 0, "uncountedTerminatedPods": jmap{}}
	switch phase {
	case "Succeeded":
		done := ts(at.Add(time.Duration(30+g.rng.Intn(600)) * time.Second))
		status["succeeded"] = 1
		status["completionTime"] = done
		status["conditions"] = []jmap{{"type": "Complete", "status": "True", "lastProbeTime": done, "lastTransitionTime": done}}
	case "Failed":
		done := ts(at.Add(time.Duration(30+g.rng.Intn(600)) * time.Second))
		status["failed"] = 1
		status["conditions"] = []jmap{{"type": "Failed", "status": "True", "lastProbeTime": done, "lastTransitionTime": done, "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}}
	default:
		status["active"] = 1
		status["ready"] = 1
	}
	g.emit("Job", m, &object{APIVersion: "batch/v1", Kind: "Job", Metadata: m,
		Spec: jmap{"parallelism": 1, "completions": 1, "backoffLimit": 2, "completionMode": "NonIndexed", "suspend": false,
			"podReplacementPolicy": "TerminatingOrFailed", "manualSelector": false,
			"selector": labelSelector{MatchLabels: sel}, "template": template(jobLabels, tpl, nil)},
		Status: status})
	jo := owner("Job", m.Name, m.UID)
	node := &g.nodes[g.rng.Intn(len(g.nodes))]
	g.pod(a, tpl, m.Name+"-"+g.randStr(5), m.Name+"-", copyLabels(jobLabels), &jo,
		podOpts{phase: phase, node: node, created: at.Add(time.Second)})
}

// systemWorkloads: kube-system's DaemonSets (one pod per node) and Deployments.
func (g *gen) systemWorkloads() {
	ks := g.nsByName("kube-system")
	for _, ds := range []struct {
		name, image string
		hostNet     bool
	}{{"kube-proxy", "registry.k8s.io/kube-proxy", true}, {"fluent-bit", "cr.fluentbit.io/fluent/fluent-bit", false}} {
		base := &baseApp{name: ds.name, tier: "backend", kind: kindDeployment, image: ds.image, port: 0}
		a := g.newApp(ks, ds.name, base)
		a.created = ks.created.Add(5 * time.Minute)
		a.cm, a.secret, a.sa, a.role, a.sidecar, a.system = "", "", ds.name, false, 0, true
		g.appSupport(a)
		tpl := g.podTemplate(a, "Always")
		tpl.HostNetwork = ds.hostNet
		tpl.PriorityClassName = "system-node-critical"
		tpl.Priority = ptr(2000001000)
		tpl.Tolerations = []toleration{{Operator: "Exists"}}
		tpl.Volumes = append(tpl.Volumes, volume{Name: "varlog", HostPath: &hostPath{Path: "/var/log", Type: ""}})
		tpl.Containers[0].VolumeMounts = append(tpl.Containers[0].VolumeMounts, volumeMount{Name: "varlog", ReadOnly: true, MountPath: "/var/log"})
		revHash := g.randStr(10)
		m := g.newMeta(ks.name, ds.name, a.created, copyLabels(a.labels))
		m.Generation = 1
		m.Annotations = smap{"deprecated.daemonset.template.generation": "1"}
		nn := len(g.nodes)
		g.emit("DaemonSet", m, &object{APIVersion: "apps/v1", Kind: "DaemonSet", Metadata: m,
			Spec: jmap{"selector": labelSelector{MatchLabels: a.selector}, "template": template(a.labels, tpl, nil),
				"updateStrategy": jmap{"type": "RollingUpdate", "rollingUpdate": jmap{"maxUnavailable": 1, "maxSurge": 0}}, "revisionHistoryLimit": 10},
			Status: jmap{"currentNumberScheduled": nn, "numberMisscheduled": 0, "desiredNumberScheduled": nn, "numberReady": nn,
				"observedGeneration": 1, "updatedNumberScheduled": nn, "numberAvailable": nn}})
		own := owner("DaemonSet", ds.name, m.UID)
		used := map[string]bool{}
		for i := range g.nodes {
			s := g.randStr(5)
			for used[s] {
				s = g.randStr(5)
			}
			used[s] = true
			labels := copyLabels(a.labels, "controller-revision-hash", revHash, "pod-template-generation", "1")
			created := g.between(a.created, refTime.Add(-time.Hour))
			g.pod(a, tpl, ds.name+"-"+s, ds.name+"-", labels, &own, podOpts{phase: "Running", node: &g.nodes[i], created: created})
		}
	}
	for _, d := range []struct {
		name, image, svc string
		port, replicas   int
	}{{"coredns", "registry.k8s.io/coredns/coredns", "kube-dns", 53, 2}, {"metrics-server", "registry.k8s.io/metrics-server/metrics-server", "metrics-server", 10250, 2}} {
		base := &baseApp{name: d.name, tier: "backend", kind: kindDeployment, image: d.image, port: d.port}
		a := g.newApp(ks, d.name, base)
		a.created = ks.created.Add(6 * time.Minute)
		a.secret, a.sa, a.role, a.replicas = "", d.name, false, d.replicas
		a.service, a.serviceName, a.hpa, a.pdb, a.netpol, a.ingress, a.sidecar = true, d.svc, false, true, false, false, 0
		a.oldRS, a.system = 0, true
		g.genApp(a)
	}
}

// orphans emits the dangling-owner pods: for each k < danglingCount, one Running pod of a
// Deployment app whose controller ownerReference names a ReplicaSet that was never
// generated (uid uuidFor(seed, cluster, danglingSeqBase+k)).
func (g *gen) orphans() {
	var cands []deployRef
	for _, d := range g.deploys {
		if !d.a.system {
			cands = append(cands, d)
		}
	}
	for k := 0; k < danglingCount(g.cfg); k++ {
		d := cands[g.rng.Intn(len(cands))]
		h := g.randStr(10)
		rsName := d.a.name + "-" + h
		uid := uuidFor(g.cfg.Seed, g.ci, danglingSeqBase+uint64(k))
		own := owner("ReplicaSet", rsName, uid)
		labels := copyLabels(d.labels, "pod-template-hash", h)
		o := g.servicePodOpts(g.between(d.created, refTime.Add(-time.Hour)))
		o.phase, o.reason, o.node = "Running", "", &g.nodes[g.rng.Intn(len(g.nodes))]
		g.pod(d.a, d.tpl, rsName+"-"+g.randStr(5), rsName+"-", labels, &own, o)
	}
}

// events emits n core/v1 Events about generated pods (~75 %) and deployments.
func (g *gen) events(n int) {
	for i := 0; i < n; i++ {
		var e eventObject
		last := refTime.Add(-time.Duration(g.rng.Intn(3300)) * time.Second)
		count := 1
		if len(g.deploys) > 0 && g.rng.Intn(4) == 0 {
			d := g.deploys[g.rng.Intn(len(g.deploys))]
			e.InvolvedObject = objectRef{Kind: "Deployment", Namespace: d.a.ns.name, Name: d.a.name, UID: d.uid, APIVersion: "apps/v1"}
			e.Reason, e.Type = "ScalingReplicaSet", "Normal"
			e.Message = fmt.Sprintf("Scaled up replica set %s to %d", d.rs, d.a.replicas)
			e.Source = smap{"component": "deployment-controller"}
			e.ReportingComponent = "deployment-controller"
		} else {
			p := g.pods[g.rng.Intn(len(g.pods))]
			e.InvolvedObject = objectRef{Kind: "Pod", Namespace: p.ns, Name: p.name, UID: p.uid, APIVersion: "v1"}
			e.Type = "Normal"
			e.Source = smap{"component": "kubelet", "host": p.node}
			e.ReportingComponent, e.ReportingInstance = "kubelet", p.node
			fp := "spec.containers{" + p.container + "}"
			switch {
			case p.phase == "Pending" && p.node == "":
				e.Reason, e.Type = "FailedScheduling", "Warning"
				e.Message = fmt.Sprintf("0/%d nodes are available: %d Insufficient cpu.", len(g.nodes), len(g.nodes))
				e.Source = smap{"component": "default-scheduler"}
				e.ReportingComponent, e.ReportingInstance = "default-scheduler", ""
				count = 1 + g.rng.Intn(30)
			case p.phase == "Pending":
				e.Reason, e.InvolvedObject.FieldPath = "Pulling", fp
				e.Message = "Pulling image"
			case p.phase == "Failed":
				e.Reason, e.Type = "Evicted", "Warning"
				e.Message = "The node was low on resource: memory."
			default:
				switch r := g.rng.Intn(6); r {
				case 0:
					e.Reason, e.Message = "Scheduled", fmt.Sprintf("Successfully assigned %s/%s to %s", p.ns, p.name, p.node)
					e.Source = smap{"component": "default-scheduler"}
					e.ReportingComponent, e.ReportingInstance = "default-scheduler", ""
				case 1:
					e.Reason, e.InvolvedObject.FieldPath, e.Message = "Pulled", fp, "Container image already present on machine"
				case 2:
					e.Reason, e.InvolvedObject.FieldPath, e.Message = "Created", fp, "Created container "+p.container
				case 3:
					e.Reason, e.InvolvedObject.FieldPath, e.Message = "Started", fp, "Started container "+p.container
				case 4:
					e.Reason, e.Type, e.InvolvedObject.FieldPath = "Unhealthy", "Warning", fp
					e.Message = "Readiness probe failed: HTTP probe failed with statuscode: 503"
					count = 1 + g.rng.Intn(20)
				default:
					e.Reason, e.Type, e.InvolvedObject.FieldPath = "BackOff", "Warning", fp
					e.Message = "Back-off restarting failed container " + p.container
					count = 1 + g.rng.Intn(50)
				}
			}
		}
		first := last.Add(-time.Duration(count-1) * time.Minute)
		g.seq++
		name := e.InvolvedObject.Name + "." + strconv.FormatUint(mix64(g.seq^uint64(g.ci)<<48), 16)
		m := g.newMeta(e.InvolvedObject.Namespace, name, first, nil)
		e.APIVersion, e.Kind, e.Metadata = "v1", "Event", m
		e.FirstTimestamp, e.LastTimestamp, e.Count = ts(first), ts(last), count
		g.emit("Event", m, &e)
	}
}

// imageRepo strips the tag from an image reference ("reg/x/y:1.2" -> "reg/x/y").
func imageRepo(image string) string {
	for i := len(image) - 1; i >= 0 && image[i] != '/'; i-- {
		if image[i] == ':' {
			return image[:i]
		}
	}
	return image
}
