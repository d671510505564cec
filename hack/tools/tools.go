//go:build tools

// Package tools pins the Clusterpedia host commands into memgraph's module
// graph, so `go mod tidy` records every module they need in go.mod/go.sum and
// `make build-components` builds the hosts from exactly the versions the
// plugin is built with (a plugin only loads into a host whose shared packages
// are identical). Never compiled: the "tools" build tag is never set.
package tools

import (
	_ "github.com/clusterpedia-io/clusterpedia/cmd/apiserver"
	_ "github.com/clusterpedia-io/clusterpedia/cmd/binding-apiserver"
	_ "github.com/clusterpedia-io/clusterpedia/cmd/clustersynchro-manager"
)
