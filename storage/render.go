package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	jsoniter "github.com/json-iterator/go"
	"github.com/modern-go/reflect2"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	internal "github.com/clusterpedia-io/api/clusterpedia"
	"github.com/clusterpedia-io/clusterpedia/pkg/runtime/resourceconfig"
	cpscheme "github.com/clusterpedia-io/clusterpedia/pkg/runtime/scheme"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// eventCodec encodes recorded events and decodes them for injection: the same core/v1 legacy
// codec internalstorage uses, so the annotation is byte-identical.
var eventCodec = cpscheme.LegacyResourceCodecs.LegacyCodec(corev1.SchemeGroupVersion)

// renderer turns stored records into the objects the apiserver asked for.
type renderer struct {
	codec runtime.Codec
	// typed decodes built-in resources into typed objects faster than codec, with the same
	// result (nil for custom resources: codec only).
	typed        *typedDecoder
	onlyMetadata bool
	injectEvents bool
}

// decode decodes a stored object into obj (a fresh typed object or Unstructured): through
// the typed decoder when it applies, else through the resource's codec.
func (rd *renderer) decode(r *index.Record, obj runtime.Object) error {
	if rd.typed != nil {
		if ok, err := rd.typed.decode(r.Object, r.Kind, obj); ok || err != nil {
			return err
		}
	}
	out, _, err := rd.codec.Decode(r.Object, nil, obj)
	if err != nil {
		return err
	}
	if out != obj {
		return fmt.Errorf("failed to decode resource into %T (got %T)", obj, out)
	}
	return nil
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
	return rd.decode(r, obj)
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

// typedItem renders r into the zero struct ptr points to (a struct type implementing
// runtime.Object through its pointer).
func (rd *renderer) typedItem(r *index.Record, ptr reflect.Value) error {
	t := ptr.Type().Elem()
	obj, ok := ptr.Interface().(runtime.Object)
	if !ok {
		return fmt.Errorf("list item type %s is not a runtime.Object", t)
	}
	if rd.onlyMetadata {
		f := ptr.Elem().FieldByName("ObjectMeta")
		if !f.IsValid() || f.Type() != objectMetaType || !f.CanSet() {
			return fmt.Errorf("list item type %s has no ObjectMeta", t)
		}
		if err := decodeObjectMeta(r.Object, f.Addr().Interface().(*metav1.ObjectMeta)); err != nil {
			return err
		}
	} else if err := rd.decode(r, obj); err != nil {
		return err
	}
	if rd.injectEvents {
		m, err := meta.Accessor(obj)
		if err != nil {
			return err
		}
		return rd.inject(m, r)
	}
	return nil
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
		items := make([]unstructured.Unstructured, len(res.Items))
		if err := forEachItem(len(res.Items), func(i int) error {
			u, err := rd.unstructuredItem(res.Items[i], apiVersion)
			if err == nil {
				items[i] = *u
			}
			return err
		}); err != nil {
			return err
		}
		ul.Items = items
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
	if err := forEachItem(len(res.Items), func(i int) error {
		// Items of a []T list are decoded in place, items of a []*T list into new objects.
		var ptr reflect.Value
		if isPtr {
			ptr = reflect.New(t)
			slice.Index(i).Set(ptr)
		} else {
			ptr = slice.Index(i).Addr()
		}
		return rd.typedItem(res.Items[i], ptr)
	}); err != nil {
		return err
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
		if err := decodeUnstructured(r.Object, u); err != nil {
			return nil, fmt.Errorf("decode stored object: %w", err)
		}
	}
	if err := rd.inject(u, r); err != nil {
		return nil, err
	}
	return u, nil
}

var errNilObject = errors.New("nil object")

var objectMetaType = reflect.TypeOf(metav1.ObjectMeta{})

// storedJSON decodes stored objects into typed Go values: json-iterator, case-sensitive like
// the apiserver's serializer (sigs.k8s.io/json), in one pass where the serializer makes two
// with encoding/json.
var storedJSON = func() jsoniter.API {
	api := jsoniter.Config{CaseSensitive: true}.Froze()
	api.RegisterExtension(&timeExtension{})
	api.RegisterExtension(&unstructuredExtension{})
	return api
}()

// timeExtension decodes metav1.Time as its UnmarshalJSON does (null is the zero time, else an
// RFC 3339 string, in local time) without the encoding/json round trip UnmarshalJSON makes
// for the string: timestamps are the most frequent custom-decoded values in stored objects.
type timeExtension struct{ jsoniter.DummyExtension }

var metaTimeType = reflect.TypeOf(metav1.Time{})

func (*timeExtension) CreateDecoder(typ reflect2.Type) jsoniter.ValDecoder {
	if typ.Type1() == metaTimeType {
		return timeDecoder{}
	}
	return nil
}

type timeDecoder struct{}

func (timeDecoder) Decode(ptr unsafe.Pointer, it *jsoniter.Iterator) {
	t := (*metav1.Time)(ptr)
	switch it.WhatIsNext() {
	case jsoniter.NilValue:
		it.ReadNil()
		t.Time = time.Time{}
	case jsoniter.StringValue:
		pt, err := time.Parse(time.RFC3339, it.ReadString())
		if err != nil {
			it.ReportError("decode metav1.Time", err.Error())
			return
		}
		t.Time = pt.Local()
	default:
		it.ReportError("decode metav1.Time", "not a string")
	}
}

// decodeObjectMeta decodes the "metadata" of a stored object into md. It stops there: stored
// objects are written by the codec, metadata precedes spec and status (struct order for
// typed objects, sorted keys for unstructured ones) and appears once.
func decodeObjectMeta(data []byte, md *metav1.ObjectMeta) error {
	it := storedJSON.BorrowIterator(data)
	defer storedJSON.ReturnIterator(it)
	it.ReadObjectCB(func(it *jsoniter.Iterator, field string) bool {
		if field == "metadata" {
			it.ReadVal(md)
			return false
		}
		it.Skip()
		return it.Error == nil
	})
	if it.Error != nil && it.Error != io.EOF {
		return fmt.Errorf("decode stored object metadata: %w", it.Error)
	}
	return nil
}

// typedDecoder decodes the stored JSON of a built-in resource the way its storage codec does
// — into the storage version, defaulted, converted to the requested type by the scheme —
// but with storedJSON instead of the serializer's decoder: the codec's two passes with
// encoding/json (kind detection, then the decode) become one json-iterator pass; the
// defaulting and the conversion are the same calls the codec makes.
//
// It declines (ok false: the caller uses the codec) whenever the result could differ:
// custom resources, Unstructured targets, types with interface{} fields (the serializer
// keeps integers there as int64), nested-object decoders, invalid UTF-8 or escaped
// surrogates (plainForStoredJSON), JSON whose
// apiVersion/kind is not the storage version, and anything storedJSON fails to parse (the
// codec then reports the error as before).
type typedDecoder struct {
	scheme    *runtime.Scheme
	storage   schema.GroupVersion // the JSON's version
	memory    schema.GroupVersion // the codec's decode version (__internal)
	versioner runtime.GroupVersioner
}

// newTypedDecoder returns the decoder for a built-in resource's config, nil for custom
// resources (their codec decodes into Unstructured).
func newTypedDecoder(rc *resourceconfig.ResourceConfig) *typedDecoder {
	if rc == nil || rc.MemoryResource.Version != runtime.APIVersionInternal {
		return nil
	}
	memory, storage := rc.MemoryResource.GroupVersion(), rc.StorageResource.GroupVersion()
	return &typedDecoder{
		scheme:  cpscheme.LegacyResourceScheme,
		storage: storage,
		memory:  memory,
		// the decode version serverstorage.NewStorageCodec gives the versioning codec
		versioner: runtime.NewCoercingMultiGroupVersioner(memory,
			schema.GroupKind{Group: memory.Group}, schema.GroupKind{Group: storage.Group}),
	}
}

// decode decodes data (a stored object of kind) into into. ok is false when the codec must
// be used instead (into is then untouched); err is set only when defaulting or conversion
// failed after the decode, as the codec would report it.
func (d *typedDecoder) decode(data []byte, kind string, into runtime.Object) (ok bool, err error) {
	if _, unstr := into.(runtime.Unstructured); unstr || kind == "" || !plainForStoredJSON(data) {
		return false, nil
	}
	kinds, _, err := d.scheme.ObjectKinds(into)
	if err != nil || len(kinds) == 0 || kinds[0].Kind != kind {
		return false, nil
	}
	want := d.storage.WithKind(kind)
	var versioned runtime.Object
	switch kinds[0].GroupVersion() {
	case d.storage: // a storage-version target: decoded directly, no conversion (as the codec)
		versioned = reflect.New(reflect.TypeOf(into).Elem()).Interface().(runtime.Object)
	case d.memory:
		if versioned, err = d.scheme.New(want); err != nil {
			return false, nil
		}
	default:
		return false, nil
	}
	if _, nested := versioned.(runtime.NestedObjectDecoder); nested || !exactlyDecodable(reflect.TypeOf(versioned)) {
		return false, nil
	}
	if err := storedJSON.Unmarshal(data, versioned); err != nil {
		return false, nil
	}
	if versioned.GetObjectKind().GroupVersionKind() != want {
		return false, nil
	}
	d.scheme.Default(versioned)
	if kinds[0].GroupVersion() == d.storage {
		reflect.ValueOf(into).Elem().Set(reflect.ValueOf(versioned).Elem())
		return true, nil
	}
	return true, d.scheme.Convert(versioned, into, d.versioner)
}

// exactlyDecodableTypes caches exactlyDecodable per type.
var exactlyDecodableTypes sync.Map // reflect.Type → bool

var jsonUnmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// exactlyDecodable reports whether storedJSON decodes t exactly as the apiserver's serializer
// does: no interface{} anywhere in t outside values that decode themselves through
// UnmarshalJSON (both decoders call it the same way), and no ",string" fields.
func exactlyDecodable(t reflect.Type) bool {
	if v, ok := exactlyDecodableTypes.Load(t); ok {
		return v.(bool)
	}
	ok := walkDecodable(t, map[reflect.Type]bool{})
	exactlyDecodableTypes.Store(t, ok)
	return ok
}

func walkDecodable(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return true
	}
	seen[t] = true
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		return true
	}
	switch t.Kind() {
	case reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return walkDecodable(t.Elem(), seen)
	case reflect.Map:
		return walkDecodable(t.Key(), seen) && walkDecodable(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			if strings.Contains(tag, ",string") {
				return false
			}
			if !walkDecodable(f.Type, seen) {
				return false
			}
		}
	}
	return true
}

// parallelChunk is how many list items one goroutine decodes at a time; lists of fewer than
// two chunks are decoded by the calling goroutine.
const parallelChunk = 64

// forEachItem calls fn for 0..n-1, on up to GOMAXPROCS goroutines for large lists (decoding
// dominates List: every item is independent). It returns the error of the lowest failing
// index, so the outcome does not depend on scheduling.
func forEachItem(n int, fn func(i int) error) error {
	workers := min(goruntime.GOMAXPROCS(0), n/parallelChunk)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	var next atomic.Int64
	errs := make([]error, n/parallelChunk+1) // first error per chunk
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1) - 1)
				lo := c * parallelChunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+parallelChunk, n); i++ {
					if err := fn(i); err != nil {
						errs[c] = err
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// plainForStoredJSON reports whether data may be decoded by storedJSON with exactly the
// result of the apiserver's decoders: valid UTF-8 (encoding/json replaces invalid bytes) and
// no escaped UTF-16 surrogates (encoding/json and json-iterator pair them differently when
// they are unpaired). Stored objects always qualify unless they carry such strings.
func plainForStoredJSON(data []byte) bool {
	return utf8.Valid(data) && !bytes.Contains(data, []byte(`\ud`)) && !bytes.Contains(data, []byte(`\uD`))
}

// decodeUnstructured decodes a stored object into u exactly as u.UnmarshalJSON does —
// a map of the JSON with integers as int64 and other numbers as float64, "kind" required —
// in one json-iterator pass (UnmarshalJSON makes two with encoding/json). Anything it does
// not handle identically goes to UnmarshalJSON.
func decodeUnstructured(data []byte, u *unstructured.Unstructured) error {
	if plainForStoredJSON(data) {
		// Unmarshal (not a bare iterator) so that trailing data is an error, as for encoding/json.
		var c unstructuredContent
		err := storedJSON.Unmarshal(data, &c)
		if m, isMap := c.v.(map[string]any); err == nil && c.ok && isMap {
			if kind, _ := m["kind"].(string); kind != "" {
				u.Object = m
				return nil
			}
		}
	}
	return u.UnmarshalJSON(data)
}

// unstructuredContent is one JSON value read by readUnstructuredValue (storedJSON decodes it
// through unstructuredExtension).
type unstructuredContent struct {
	v  any
	ok bool
}

var unstructuredContentType = reflect.TypeOf(unstructuredContent{})

type unstructuredExtension struct{ jsoniter.DummyExtension }

func (*unstructuredExtension) CreateDecoder(typ reflect2.Type) jsoniter.ValDecoder {
	if typ.Type1() == unstructuredContentType {
		return unstructuredDecoder{}
	}
	return nil
}

type unstructuredDecoder struct{}

func (unstructuredDecoder) Decode(ptr unsafe.Pointer, it *jsoniter.Iterator) {
	c := (*unstructuredContent)(ptr)
	c.v, c.ok = readUnstructuredValue(it)
}

// readUnstructuredValue reads one JSON value as unstructured content; ok is false for what
// decodeUnstructured leaves to UnmarshalJSON (errors, numbers that are neither int64 nor
// float64).
func readUnstructuredValue(it *jsoniter.Iterator) (any, bool) {
	switch it.WhatIsNext() {
	case jsoniter.ObjectValue:
		m := map[string]any{}
		ok := true
		it.ReadMapCB(func(it *jsoniter.Iterator, key string) bool {
			var v any
			if v, ok = readUnstructuredValue(it); ok {
				m[key] = v
			}
			return ok && it.Error == nil
		})
		return m, ok && it.Error == nil
	case jsoniter.ArrayValue:
		a := []any{}
		ok := true
		it.ReadArrayCB(func(it *jsoniter.Iterator) bool {
			var v any
			if v, ok = readUnstructuredValue(it); ok {
				a = append(a, v)
			}
			return ok && it.Error == nil
		})
		return a, ok && it.Error == nil
	case jsoniter.StringValue:
		return it.ReadString(), it.Error == nil
	case jsoniter.NumberValue:
		n := it.ReadNumber()
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		return f, err == nil && it.Error == nil
	case jsoniter.BoolValue:
		return it.ReadBool(), it.Error == nil
	case jsoniter.NilValue:
		it.ReadNil()
		return nil, it.Error == nil
	}
	return nil, false
}
