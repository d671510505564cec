package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	internal "github.com/clusterpedia-io/api/clusterpedia"
	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"

	"github.com/clusterpedia-memgraph/memgraph/api"
	"github.com/clusterpedia-memgraph/memgraph/config"
	"github.com/clusterpedia-memgraph/memgraph/index"
)

// Name is the --storage-name memgraph registers under.
const Name = "memgraph"

// StorageFactory is memgraph's Clusterpedia StorageFactory: one in-memory store shared by
// every resource storage of the process (binding-apiserver runs the apiserver and the
// synchromanager on one factory).
type StorageFactory struct {
	cfg     *config.Config
	store   *index.Store
	w       *wiring
	metrics *api.Metrics
	server  *api.Server // nil when the extension server is disabled

	ready        atomic.Bool
	shutdownOnce sync.Once
	shutdownErr  error
}

var _ cpstorage.StorageFactory = (*StorageFactory)(nil)

// NewStorageFactory is the factory Clusterpedia calls with --storage-config. An empty path
// means the default configuration (memory only).
func NewStorageFactory(configPath string) (cpstorage.StorageFactory, error) {
	cfg, err := config.Load(configPath)
	if err != nil {
		return nil, err
	}
	f, err := newFactory(cfg, nil)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// newFactory builds the store with every observer and hook, restores persisted data, and
// starts the extension components — in that order, so nothing is served before the store
// holds what was persisted. extra (tests) adds wiring on top of the configured one.
func newFactory(cfg *config.Config, extra *wiring) (*StorageFactory, error) {
	if cfg == nil {
		cfg = config.Default()
	}
	f := &StorageFactory{cfg: cfg}
	w, err := buildWiring(cfg, f)
	if err != nil {
		return nil, err
	}
	w.merge(extra)
	f.w = w

	store, err := index.New(index.Options{Observers: w.observers, Hooks: w.hooks})
	if err != nil {
		w.stopAll()
		return nil, fmt.Errorf("memgraph: %w", err)
	}
	f.store = store
	for _, restore := range w.restore {
		if err := restore(store); err != nil {
			store.Close()
			w.stopAll()
			return nil, fmt.Errorf("memgraph: restore: %w", err)
		}
	}
	if err := w.startAll(store); err != nil {
		store.Close()
		w.stopAll()
		return nil, fmt.Errorf("memgraph: %w", err)
	}
	f.ready.Store(true)
	return f, nil
}

// Store is the engine behind the factory (for the extension API and tests).
func (f *StorageFactory) Store() *index.Store { return f.store }

// Ready reports whether the factory serves: persisted data restored and not shut down.
func (f *StorageFactory) Ready() bool { return f.ready.Load() }

func (f *StorageFactory) observeWrite(op string, gvr index.GVR, d time.Duration, err error) {
	if f.w.observeWrite != nil {
		f.w.observeWrite(op, gvr, d, err)
	}
}

func (f *StorageFactory) observeQuery(op string, gvr index.GVR, d time.Duration, items int, err error) {
	if f.w.observeQuery != nil {
		f.w.observeQuery(op, gvr, d, items, err)
	}
}

// GetSupportedRequestVerbs: no watch.
func (f *StorageFactory) GetSupportedRequestVerbs() []string { return []string{"get", "list"} }

// PrepareCluster needs no preparation: clusters exist by their objects.
func (f *StorageFactory) PrepareCluster(cluster string) error { return nil }

func toIndexGVR(gvr schema.GroupVersionResource) index.GVR {
	return index.GVR{Group: gvr.Group, Version: gvr.Version, Resource: gvr.Resource}
}

func (f *StorageFactory) NewResourceStorage(cfg *cpstorage.ResourceStorageConfig) (cpstorage.ResourceStorage, error) {
	if cfg == nil {
		return nil, errors.New("memgraph: nil resource storage config")
	}
	if cfg.StorageResource.Version == "" || cfg.StorageResource.Resource == "" {
		return nil, fmt.Errorf("memgraph: storage resource %q needs a version and a resource", cfg.StorageResource)
	}
	if cfg.Codec == nil {
		return nil, fmt.Errorf("memgraph: storage resource %s has no codec", cfg.StorageResource)
	}
	return &resourceStorage{f: f, config: *cfg, gvr: toIndexGVR(cfg.StorageResource)}, nil
}

// NewCollectionResourceStorage serves "any", "workloads" and "kuberesources".
func (f *StorageFactory) NewCollectionResourceStorage(cr *internal.CollectionResource) (cpstorage.CollectionResourceStorage, error) {
	if cr == nil {
		return nil, errors.New("memgraph: nil collection resource")
	}
	if !isCollectionName(cr.Name) {
		return nil, fmt.Errorf("memgraph: collection resource %q is not supported", cr.Name)
	}
	return newCollectionStorage(f, cr), nil
}

// GetCollectionResources returns fresh copies (the apiserver mutates them).
func (f *StorageFactory) GetCollectionResources(ctx context.Context) ([]*internal.CollectionResource, error) {
	return collectionResources(), nil
}

// GetResourceVersions reports, per storage GVR holding data of cluster, the resourceVersion
// of every object ("ns/name" or "name" → string) and of every recorded event. The maps are
// freshly allocated: Clusterpedia adopts and mutates them.
func (f *StorageFactory) GetResourceVersions(ctx context.Context, cluster string) (map[schema.GroupVersionResource]cpstorage.ClusterResourceVersions, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	// Built with Clusterpedia's value type in one scan per GVR: no intermediate map to copy.
	rvs := index.ResourceVersionsAs(f.store.View(), cluster, func(rv string) interface{} { return rv })
	out := make(map[schema.GroupVersionResource]cpstorage.ClusterResourceVersions, len(rvs))
	for gvr, v := range rvs {
		out[schema.GroupVersionResource{Group: gvr.Group, Version: gvr.Version, Resource: gvr.Resource}] =
			cpstorage.ClusterResourceVersions{Resources: v.Resources, Events: v.Events}
	}
	return out, nil
}

// CleanCluster removes everything stored for cluster (idempotent).
func (f *StorageFactory) CleanCluster(ctx context.Context, cluster string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if cluster == "" {
		return errors.New("memgraph: clean cluster: empty cluster name")
	}
	start := time.Now()
	_, err := f.store.CleanCluster(cluster)
	err = interpretWriteError(index.Key{Cluster: cluster}, err)
	f.observeWrite("clean_cluster", index.GVR{}, time.Since(start), err)
	return err
}

// CleanClusterResource removes everything stored for (cluster, storage GVR) (idempotent).
func (f *StorageFactory) CleanClusterResource(ctx context.Context, cluster string, gvr schema.GroupVersionResource) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if cluster == "" {
		return errors.New("memgraph: clean cluster resource: empty cluster name")
	}
	g := toIndexGVR(gvr)
	start := time.Now()
	_, err := f.store.CleanResource(cluster, g)
	err = interpretWriteError(index.Key{Cluster: cluster, GVR: g}, err)
	f.observeWrite("clean_resource", g, time.Since(start), err)
	return err
}

// Shutdown refuses further writes (they fail with ErrShutdown), then stops what the factory
// started — the persister flushes its final state, the extension server drains. Reads keep
// working. Idempotent: later calls return the first result.
func (f *StorageFactory) Shutdown() error {
	f.shutdownOnce.Do(func() {
		f.ready.Store(false)
		f.store.Close()
		f.shutdownErr = f.w.stopAll()
	})
	return f.shutdownErr
}
