package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	internal "github.com/clusterpedia-io/api/clusterpedia"
	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// resourceStorage serves one storage GVR. It holds no per-cluster state: several instances
// may share a GVR (the apiserver creates one per served version of a built-in resource).
type resourceStorage struct {
	f      *StorageFactory
	config cpstorage.ResourceStorageConfig
	gvr    index.GVR
}

var _ cpstorage.ResourceStorage = (*resourceStorage)(nil)

func (s *resourceStorage) GetStorageConfig() *cpstorage.ResourceStorageConfig {
	c := s.config
	return &c
}

func (s *resourceStorage) key(cluster, namespace, name string) index.Key {
	return index.Key{Cluster: cluster, GVR: s.gvr, Namespace: namespace, Name: name}
}

// record builds the engine record of obj: the object is encoded with the resource's codec
// (storage-version JSON, exactly as internalstorage stores it) and the indexed metadata is
// read through meta.Accessor.
func (s *resourceStorage) record(cluster string, obj runtime.Object, kind string) (*index.Record, error) {
	if obj == nil {
		return nil, errNilObject
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := s.config.Codec.Encode(obj, &buf); err != nil {
		return nil, err
	}
	r := &index.Record{
		Cluster:         cluster,
		GVR:             s.gvr,
		Kind:            kind,
		Namespace:       m.GetNamespace(),
		Name:            m.GetName(),
		UID:             string(m.GetUID()),
		ResourceVersion: m.GetResourceVersion(),
		Object:          bytes.TrimRight(buf.Bytes(), "\n"),
	}
	if ts := m.GetCreationTimestamp(); !ts.IsZero() {
		r.Created = ts.Time.UTC().Truncate(time.Second)
	}
	r.Labels = index.LabelsFromMap(m.GetLabels())
	if refs := m.GetOwnerReferences(); len(refs) > 0 {
		r.Owners = make([]index.OwnerRef, len(refs))
		for i, o := range refs {
			r.Owners[i] = index.OwnerRef{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name,
				UID: string(o.UID), Controller: o.Controller != nil && *o.Controller}
		}
	}
	return r, nil
}

func (s *resourceStorage) Create(ctx context.Context, cluster string, obj runtime.Object) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if obj == nil {
		return errNilObject
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.Kind == "" {
		return fmt.Errorf("%s: kind is required", gvk)
	}
	r, err := s.record(cluster, obj, gvk.Kind)
	if err != nil {
		return err
	}
	start := time.Now()
	err = interpretWriteError(r.Key(), s.f.store.Create(r))
	s.f.observeWrite("create", s.gvr, time.Since(start), err)
	return err
}

func (s *resourceStorage) Update(ctx context.Context, cluster string, obj runtime.Object) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if obj == nil {
		return errNilObject
	}
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	if kind == "" {
		// internalstorage's Update does not need the kind; keep the stored one.
		m, err := meta.Accessor(obj)
		if err != nil {
			return err
		}
		k := s.key(cluster, m.GetNamespace(), m.GetName())
		old, err := s.f.store.Get(k)
		if err != nil {
			return interpretWriteError(k, err)
		}
		kind = old.Kind
	}
	r, err := s.record(cluster, obj, kind)
	if err != nil {
		return err
	}
	start := time.Now()
	err = interpretWriteError(r.Key(), s.f.store.Update(r))
	s.f.observeWrite("update", s.gvr, time.Since(start), err)
	return err
}

// ConvertDeletedObject reduces whatever the informer hands to OnDelete to namespace and name,
// as internalstorage does: *unstructured.Unstructured, typed objects, and
// cache.DeletedFinalStateUnknown whose Obj is a resourceVersion string or an object.
func (s *resourceStorage) ConvertDeletedObject(obj interface{}) (runtime.Object, error) {
	if obj == nil {
		return nil, errNilObject
	}
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return nil, err
	}
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("deleted object %T has no name", obj)
	}
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}, nil
}

// Delete removes (cluster, storage GVR, namespace, name); deleting a missing object is fine.
func (s *resourceStorage) Delete(ctx context.Context, cluster string, obj runtime.Object) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if obj == nil {
		return errNilObject
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	k := s.key(cluster, m.GetNamespace(), m.GetName())
	start := time.Now()
	_, err = s.f.store.Delete(k)
	err = interpretWriteError(k, err)
	s.f.observeWrite("delete", s.gvr, time.Since(start), err)
	return err
}

// Get decodes the stored object into obj in place. A missing object is a KeyNotFound storage
// error, which the apiserver turns into a 404 for the requested resource.
func (s *resourceStorage) Get(ctx context.Context, cluster, namespace, name string, obj runtime.Object) error {
	if obj == nil {
		return errNilObject
	}
	start := time.Now()
	r, err := s.f.store.Get(s.key(cluster, namespace, name))
	if err == nil {
		rd := renderer{codec: s.config.Codec, typed: newTypedDecoder(&s.config.ResourceConfig)}
		err = rd.into(r, obj)
	} else {
		err = interpretReadError(err)
	}
	s.f.observeQuery("get", s.gvr, time.Since(start), 1, err)
	return err
}

func (s *resourceStorage) List(ctx context.Context, listObj runtime.Object, opts *internal.ListOptions) error {
	if listObj == nil {
		return errNilObject
	}
	start := time.Now()
	n, err := s.list(listObj, opts)
	s.f.observeQuery("list", s.gvr, time.Since(start), n, err)
	return err
}

func (s *resourceStorage) list(listObj runtime.Object, opts *internal.ListOptions) (int, error) {
	lq, err := translateListOptions(opts)
	if err != nil {
		return 0, err
	}
	lq.q.Types = []index.TypeMatch{{Group: s.gvr.Group, Version: s.gvr.Version, Resource: s.gvr.Resource}}
	res, err := s.f.store.List(&lq.q)
	if err != nil {
		return 0, interpretReadError(err)
	}
	rd := renderer{codec: s.config.Codec, typed: newTypedDecoder(&s.config.ResourceConfig), onlyMetadata: lq.onlyMetadata, injectEvents: lq.injectEvents}
	if err := rd.fillList(listObj, res); err != nil {
		return 0, err
	}
	return len(res.Items), nil
}

// Watch is not supported: MethodNotSupported becomes a 405 (any other error would be a 500).
func (s *resourceStorage) Watch(_ context.Context, _ *internal.ListOptions) (watch.Interface, error) {
	return nil, apierrors.NewMethodNotSupported(s.config.StorageResource.GroupResource(), "watch")
}

// RecordEvent stores event on every object of cluster whose UID is the event's involved
// object. ctx is nil when Clusterpedia calls it.
func (s *resourceStorage) RecordEvent(ctx context.Context, cluster string, event *corev1.Event) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if event == nil {
		return errors.New("invalid event: nil")
	}
	if event.InvolvedObject.UID == "" {
		return errors.New("invalid event: involvedObject.uid is empty")
	}
	var buf bytes.Buffer
	if err := eventCodec.Encode(event, &buf); err != nil {
		return err
	}
	ev := index.Event{
		UID:             string(event.UID),
		Namespace:       event.Namespace,
		Name:            event.Name,
		ResourceVersion: event.ResourceVersion,
		Object:          bytes.TrimRight(buf.Bytes(), "\n"),
	}
	start := time.Now()
	_, err := s.f.store.RecordEvent(cluster, string(event.InvolvedObject.UID), ev)
	err = interpretWriteError(index.Key{Cluster: cluster, GVR: s.gvr}, err)
	s.f.observeWrite("event", s.gvr, time.Since(start), err)
	return err
}
