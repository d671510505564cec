// Package kubestatemetrics serves kube-state-metrics for every member cluster from
// memgraph's store: the series kube-state-metrics v2.13.0 produces for pods, secrets,
// nodes, namespaces, services, deployments, daemonsets, statefulsets, replicasets, jobs,
// cronjobs, ingresses and ingressclasses — the resources Clusterpedia v0.9.1's
// pkg/kube_state_metrics covers — each with a leading cluster="<member cluster>" label, as
// Clusterpedia's clustersynchro-manager renders them.
//
// The metric families are kube-state-metrics' own generators, filtered with Clusterpedia's
// family filter (allow/deny/opt-in lists); the rendered series live in kube-state-metrics'
// MetricsStore, so a scrape only writes bytes. An Exporter observes the store's commits
// (index.Observer), renders changed objects on a background goroutine, and rebuilds from
// the store's snapshot when started (after persistence restored it).
//
// It is served on memgraph's extension port (see storage/wiring.go): FleetPath for every
// cluster, ClusterPathPattern for one; docs/kube-state-metrics.md describes both.
package kubestatemetrics
