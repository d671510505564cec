package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	internal "github.com/clusterpedia-io/api/clusterpedia"
	cpscheme "github.com/clusterpedia-io/clusterpedia/pkg/runtime/scheme"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// eventCodec encodes recorded events and decodes them for injection: the same core/v1 legacy
// codec internalstorage uses, so the annotation is byte-identical.
var eventCodec = cpscheme.LegacyResourceCodecs.LegacyCodec(corev1.SchemeGroupVersion)

// renderer turns stored records into the objects the apiserver asked for.
type renderer struct {
	codec        runtime.Codec
	onlyMetadata bool
	injectEvents bool
}

// metadataOf returns the raw "metadata" of a stored object.
func metadataOf(data []byte) (json.RawMessage, error) {
	var o struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("decode stored object metadata: %w", err)
	}
	if len(o.Metadata) == 0 {
		return json.RawMessage("{}"), nil
	}
	return o.Metadata, nil
}

func gvOf(g index.GVR) string {
	return schema.GroupVersion{Group: g.Group, Version: g.Version}.String()
}

// unstructuredMetadata is the metadata-only form of a record: {apiVersion, kind, metadata}.
func unstructuredMetadata(r *index.Record, apiVersion string) (*unstructured.Unstructured, error) {
	raw, err := metadataOf(r.Object)
	if err != nil {
		return nil, err
	}
	md := map[string]any{}
	if err := utiljson.Unmarshal(raw, &md); err != nil {
		return nil, fmt.Errorf("decode stored object metadata: %w", err)
	}
	if apiVersion == "" {
		apiVersion = gvOf(r.GVR)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion,
		"kind":       r.Kind,
		"metadata":   md,
	}}, nil
}

// eventsAnnotation renders the recorded events as internalstorage's
// shadow.clusterpedia.io/events annotation (a JSON array of core/v1 Events); ok is false when
// the record has no events.
func eventsAnnotation(r *index.Record) (string, bool, error) {
	if len(r.Events) == 0 {
		return "", false, nil
	}
	events := make([]*corev1.Event, 0, len(r.Events))
	for i := range r.Events {
		ev := &corev1.Event{}
		if _, _, err := eventCodec.Decode(r.Events[i].Object, nil, ev); err != nil {
			return "", false, fmt.Errorf("decode recorded event %s: %w", r.Events[i].UID, err)
		}
		events = append(events, ev)
	}
	data, err := json.Marshal(events)
	if err != nil {
		return "", false, err
	}
	return string(data), true, nil
}

func (rd *renderer) inject(obj metav1.Object, r *index.Record) error {
	if !rd.injectEvents {
		return nil
	}
	v, ok, err := eventsAnnotation(r)
	if err != nil || !ok {
		return err
	}
	annos := obj.GetAnnotations()
	if annos == nil {
		annos = make(map[string]string, 1)
	}
	annos[internal.ShadowAnnotationEvents] = v
	obj.SetAnnotations(annos)
	return nil
}

// into decodes r into obj in place (Get). Metadata-only and event options do not apply.
func (rd *renderer) into(r *index.Record, obj runtime.Object) error {
	out, _, err := rd.codec.Decode(r.Object, nil, obj)
	if err != nil {
		return err
	}
	if out != obj {
		return fmt.Errorf("failed to decode resource, into is %T", obj)
	}
	return nil
}

// unstructuredItem renders r as a list item of an UnstructuredList whose apiVersion is
// apiVersion.
func (rd *renderer) unstructuredItem(r *index.Record, apiVersion string) (*unstructured.Unstructured, error) {
	var u *unstructured.Unstructured
	if rd.onlyMetadata {
		var err error
		if u, err = unstructuredMetadata(r, apiVersion); err != nil {
			return nil, err
		}
	} else {
		obj, _, err := rd.codec.Decode(r.Object, nil, &unstructured.Unstructured{})
		if err != nil {
			return nil, err
		}
		var ok bool
		if u, ok = obj.(*unstructured.Unstructured); !ok {
			return nil, fmt.Errorf("the decoded object is %T, not *unstructured.Unstructured", obj)
		}
	}
	if err := rd.inject(u, r); err != nil {
		return nil, err
	}
	return u, nil
}

// typedItem renders r into a new object of type t (a struct type implementing runtime.Object
// through its pointer).
func (rd *renderer) typedItem(r *index.Record, t reflect.Type) (runtime.Object, error) {
	ptr := reflect.New(t)
	obj, ok := ptr.Interface().(runtime.Object)
	if !ok {
		return nil, fmt.Errorf("list item type %s is not a runtime.Object", t)
	}
	if rd.onlyMetadata {
		raw, err := metadataOf(r.Object)
		if err != nil {
			return nil, err
		}
		var md metav1.ObjectMeta
		if err := json.Unmarshal(raw, &md); err != nil {
			return nil, fmt.Errorf("decode stored object metadata: %w", err)
		}
		f := ptr.Elem().FieldByName("ObjectMeta")
		if !f.IsValid() || f.Type() != reflect.TypeOf(md) || !f.CanSet() {
			return nil, fmt.Errorf("list item type %s has no ObjectMeta", t)
		}
		f.Set(reflect.ValueOf(md))
	} else {
		out, _, err := rd.codec.Decode(r.Object, nil, obj)
		if err != nil {
			return nil, err
		}
		if out != obj {
			return nil, fmt.Errorf("failed to decode resource into %T (got %T)", obj, out)
		}
	}
	if rd.injectEvents {
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, err
		}
		if err := rd.inject(m, r); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// fillList writes a result page into listObj: an *unstructured.UnstructuredList or any typed
// list whose Items is a slice of structs (or of pointers to structs).
func (rd *renderer) fillList(listObj runtime.Object, res *index.Result) error {
	lm, err := meta.ListAccessor(listObj)
	if err != nil {
		return err
	}
	if res.Continue != "" {
		lm.SetContinue(res.Continue)
	}
	if res.RemainingCount != nil {
		n := *res.RemainingCount
		lm.SetRemainingItemCount(&n)
	}

	if ul, ok := listObj.(*unstructured.UnstructuredList); ok {
		apiVersion := ul.GetAPIVersion()
		ul.Items = make([]unstructured.Unstructured, 0, len(res.Items))
		for _, r := range res.Items {
			u, err := rd.unstructuredItem(r, apiVersion)
			if err != nil {
				return err
			}
			ul.Items = append(ul.Items, *u)
		}
		return nil
	}

	itemsPtr, err := meta.GetItemsPtr(listObj)
	if err != nil {
		return err
	}
	v, err := conversion.EnforcePtr(itemsPtr)
	if err != nil || v.Kind() != reflect.Slice {
		return fmt.Errorf("list %T: need a pointer to a slice of items: %v", listObj, err)
	}
	elem := v.Type().Elem()
	isPtr := elem.Kind() == reflect.Pointer
	t := elem
	if isPtr {
		t = elem.Elem()
	}
	if t.Kind() != reflect.Struct {
		return fmt.Errorf("list %T: unsupported item type %s", listObj, elem)
	}
	slice := reflect.MakeSlice(v.Type(), len(res.Items), len(res.Items))
	for i, r := range res.Items {
		obj, err := rd.typedItem(r, t)
		if err != nil {
			return err
		}
		if isPtr {
			slice.Index(i).Set(reflect.ValueOf(obj))
		} else {
			slice.Index(i).Set(reflect.ValueOf(obj).Elem())
		}
	}
	v.Set(slice)
	return nil
}

// collectionItem renders r for a collection resource: the full stored object, or
// {apiVersion, kind, metadata}, as *unstructured.Unstructured.
func (rd *renderer) collectionItem(r *index.Record) (*unstructured.Unstructured, error) {
	var u *unstructured.Unstructured
	if rd.onlyMetadata {
		var err error
		if u, err = unstructuredMetadata(r, ""); err != nil {
			return nil, err
		}
	} else {
		u = &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(r.Object); err != nil {
			return nil, fmt.Errorf("decode stored object: %w", err)
		}
	}
	if err := rd.inject(u, r); err != nil {
		return nil, err
	}
	return u, nil
}

var errNilObject = errors.New("nil object")
