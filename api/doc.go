// Package api is memgraph's own HTTP port (go-chi/chi): the cross-cluster relationship
// graph API, Prometheus metrics from a private registry, and health endpoints.
//
// Endpoints (see docs/api.md):
//
//	GET /api/v1/graph                 graph from one object (JSON, Graphviz DOT, Mermaid)
//	GET /api/v1/owners/ancestors      owner chain up to the roots
//	GET /api/v1/owners/descendants    owned objects as a tree
//	GET /api/v1/relations             the relation kinds
//	GET /metrics                      memgraph's private Prometheus registry
//	GET /healthz, /readyz             liveness, readiness
//
// Answers carry object metadata only — never object bodies, never Secret data.
package api
