package storage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"k8s.io/klog/v2"

	"github.com/clusterpedia-memgraph/memgraph/api"
	"github.com/clusterpedia-memgraph/memgraph/config"
	"github.com/clusterpedia-memgraph/memgraph/index"
	"github.com/clusterpedia-memgraph/memgraph/snapshot"
	"github.com/clusterpedia-memgraph/memgraph/storage/kubestatemetrics"
)

// stopTimeout bounds each component's stop at Shutdown.
const stopTimeout = 15 * time.Second

// starter starts one component once the store exists and persisted data is restored; it
// returns the component's stop function.
type starter struct {
	name  string
	start func(store *index.Store) (stop func(context.Context) error, err error)
}

type closer struct {
	name string
	stop func(context.Context) error
}

// wiring is everything memgraph runs around the store: observers and transaction hooks built
// into the store, restore steps run before serving, components started afterwards, and the
// per-call instrumentation of the adapter.
type wiring struct {
	observers []index.Observer
	hooks     []index.TxnHook
	restore   []func(*index.Store) error
	starters  []starter

	// observeWrite / observeQuery are called after every adapter call (nil = off).
	observeWrite func(op string, gvr index.GVR, d time.Duration, err error)
	observeQuery func(op string, gvr index.GVR, d time.Duration, items int, err error)

	mu      sync.Mutex
	closers []closer // stopped in reverse order
}

// buildWiring assembles the configured components for f:
//
//   - the relationship hook (index.Relations) inside every write transaction;
//   - metrics (api.Metrics, a private Prometheus registry only): an observer of every commit,
//     fed the adapter's call durations, following the relationship counters;
//   - persistence (snapshot.Persister) when enabled: opened here (taking the directory lock),
//     an observer of every commit, restored into the empty store before anything is served,
//     started afterwards, closed last at Shutdown (final snapshot);
//   - kube-state-metrics (kubestatemetrics.Exporter) when enabled: an observer of every
//     commit, started after the restore (it renders the restored store in the background),
//     mounted on the extension server;
//   - the extension HTTP server (api.Server) when enabled, started last, stopped first.
func buildWiring(cfg *config.Config, f *StorageFactory) (*wiring, error) {
	w := &wiring{}
	rel := index.NewRelations()
	m := api.NewMetrics()
	f.metrics = m
	w.hooks = append(w.hooks, rel)
	w.observeWrite = func(op string, _ index.GVR, d time.Duration, _ error) { m.ObserveWrite(op, d) }
	w.observeQuery = func(op string, _ index.GVR, d time.Duration, _ int, _ error) { m.ObserveQuery(op, d) }

	if pc := cfg.Persistence; pc.Enabled {
		p, err := snapshot.Open(snapshot.Options{
			Dir:              pc.Dir,
			SyncMode:         pc.SyncMode,
			FlushInterval:    pc.FlushInterval.Duration,
			SnapshotInterval: pc.SnapshotInterval.Duration,
			Logf:             klog.Infof,
		})
		if err != nil {
			return nil, fmt.Errorf("memgraph: persistence: %w", err)
		}
		// Closed last at Shutdown (after the store refuses writes): final snapshot, release
		// the directory. Registered now so a failed restore or start releases it too.
		w.addCloser("snapshot", func(context.Context) error { return p.Close() })
		// The persister observes first: a commit is logged before metrics see it.
		w.observers = append(w.observers, p)
		w.restore = append(w.restore, func(s *index.Store) error {
			res, err := p.Restore(s)
			if err != nil {
				return err
			}
			klog.InfoS("memgraph: persistence restored", "dir", pc.Dir, "outcome", res.Outcome, "reason", res.Reason,
				"movedTo", res.MovedTo, "objects", res.Objects, "logCommits", res.LogCommits, "duration", res.Duration)
			return nil
		})
		w.starters = append(w.starters, starter{"snapshot", func(s *index.Store) (func(context.Context) error, error) {
			return nil, p.Start(s)
		}})
		if err := m.RegisterSnapshot(func() api.SnapshotStats {
			st := p.Status()
			return api.SnapshotStats{LastSuccess: st.LastSnapshot, LastDuration: st.LastSnapshotDuration,
				Failures: uint64(st.SnapshotFailures), Snapshots: uint64(st.Snapshots)}
		}); err != nil {
			w.stopAll()
			return nil, fmt.Errorf("memgraph: metrics: %w", err)
		}
	}
	w.observers = append(w.observers, m)

	// After the restore: gauges from the restored store, edge counters from the hook.
	w.starters = append(w.starters, starter{"metrics", func(s *index.Store) (func(context.Context) error, error) {
		m.Resync(s.View())
		m.TrackRelations(rel)
		return nil, nil
	}})

	// Handlers other components mount on the extension server.
	type mount struct {
		pattern string
		handler http.Handler
	}
	var mounts []mount
	if kc := cfg.KubeStateMetrics; kc.Enabled {
		ksm, err := kubestatemetrics.New(kubestatemetrics.OptionsFromConfig(kc))
		if err != nil {
			w.stopAll()
			return nil, fmt.Errorf("memgraph: kubeStateMetrics: %w", err)
		}
		w.observers = append(w.observers, ksm)
		w.starters = append(w.starters, starter{"kube-state-metrics", func(s *index.Store) (func(context.Context) error, error) {
			if err := ksm.Start(s); err != nil {
				return nil, err
			}
			return ksm.Stop, nil
		}})
		mounts = append(mounts, mount{kubestatemetrics.FleetPath, ksm.Handler()}, mount{kubestatemetrics.ClusterPathPattern, ksm.Handler()})
	}

	if cfg.ServerEnabled() {
		w.starters = append(w.starters, starter{"api", func(s *index.Store) (func(context.Context) error, error) {
			srv, err := api.New(cfg.Server, cfg.Graph, s, m, f.Ready)
			if err != nil {
				return nil, err
			}
			for _, mt := range mounts {
				if err := srv.Handle(mt.pattern, mt.handler); err != nil {
					return nil, err
				}
			}
			if err := srv.Start(); err != nil {
				return nil, err
			}
			f.server = srv
			klog.InfoS("memgraph: extension API serving", "address", srv.Addr())
			return srv.Shutdown, nil
		}})
	}
	return w, nil
}

// merge adds other's parts after w's (tests inject observers and instrumentation).
func (w *wiring) merge(other *wiring) {
	if other == nil {
		return
	}
	w.observers = append(w.observers, other.observers...)
	w.hooks = append(w.hooks, other.hooks...)
	w.restore = append(w.restore, other.restore...)
	w.starters = append(w.starters, other.starters...)
	if other.observeWrite != nil {
		w.observeWrite = other.observeWrite
	}
	if other.observeQuery != nil {
		w.observeQuery = other.observeQuery
	}
	w.closers = append(w.closers, other.closers...)
}

func (w *wiring) addCloser(name string, stop func(context.Context) error) {
	w.mu.Lock()
	w.closers = append(w.closers, closer{name, stop})
	w.mu.Unlock()
}

// startAll runs the starters in order; on failure what was started is left for stopAll.
func (w *wiring) startAll(store *index.Store) error {
	for _, s := range w.starters {
		stop, err := s.start(store)
		if stop != nil {
			w.addCloser(s.name, stop)
		}
		if err != nil {
			return fmt.Errorf("start %s: %w", s.name, err)
		}
	}
	return nil
}

// stopAll stops every started component in reverse order, each within stopTimeout, and
// returns their errors joined. Later calls do nothing.
func (w *wiring) stopAll() error {
	w.mu.Lock()
	closers := w.closers
	w.closers = nil
	w.mu.Unlock()
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		c := closers[i]
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		if err := c.stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("memgraph: stop %s: %w", c.name, err))
		}
		cancel()
	}
	return errors.Join(errs...)
}
