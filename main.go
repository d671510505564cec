// Command memgraph is the Clusterpedia v0.9.1 storage-layer plugin.
//
// Build it with `make build-plugin` (go1.23.10, CGO_ENABLED=1,
// -buildmode=plugin) to get plugins/memgraph.so, put that file alone in a
// directory and start a dynamically linked binding-apiserver built from the
// same module graph (`make build-components`) with
//
//	STORAGE_PLUGINS=<dir> binding-apiserver --storage-name=memgraph --storage-config=<file>
//
// The host opens every file in STORAGE_PLUGINS during its own init; the
// plugin's init below then registers the "memgraph" storage factory, which
// the host calls with the --storage-config path after flag parsing. Nothing
// but registration happens here: the factory starts all work.
package main

import (
	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"

	"github.com/clusterpedia-memgraph/memgraph/storage"
)

func init() {
	cpstorage.RegisterStorageFactoryFunc(storage.Name, storage.NewStorageFactory)
}

// main is never run: a Go plugin only needs package main to exist.
func main() {}
