package index

import (
	"encoding/json"
	"fmt"
	"time"
)

// objectMeta is the part of an object's JSON the indexes need.
type objectMeta struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Namespace         string            `json:"namespace"`
		Name              string            `json:"name"`
		UID               string            `json:"uid"`
		ResourceVersion   string            `json:"resourceVersion"`
		CreationTimestamp string            `json:"creationTimestamp"`
		Labels            map[string]string `json:"labels"`
		OwnerReferences   []struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
			UID        string `json:"uid"`
			Controller *bool  `json:"controller"`
		} `json:"ownerReferences"`
	} `json:"metadata"`
}

// RecordFromJSON builds a Record for an object's JSON, reading the indexed metadata out of
// it. The bytes are kept (not copied): the caller must not modify them afterwards.
func RecordFromJSON(cluster string, gvr GVR, data []byte) (*Record, error) {
	var m objectMeta
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode object metadata: %w", err)
	}
	r := &Record{
		Cluster:         cluster,
		GVR:             gvr,
		Kind:            m.Kind,
		Namespace:       m.Metadata.Namespace,
		Name:            m.Metadata.Name,
		UID:             m.Metadata.UID,
		ResourceVersion: m.Metadata.ResourceVersion,
		Labels:          LabelsFromMap(m.Metadata.Labels),
		Object:          data,
	}
	if m.Metadata.Name == "" {
		return nil, fmt.Errorf("object has no metadata.name")
	}
	if ts := m.Metadata.CreationTimestamp; ts != "" {
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			return nil, fmt.Errorf("metadata.creationTimestamp %q: %w", ts, err)
		}
		r.Created = t.UTC()
	}
	if n := len(m.Metadata.OwnerReferences); n > 0 {
		r.Owners = make([]OwnerRef, n)
		for i, o := range m.Metadata.OwnerReferences {
			r.Owners[i] = OwnerRef{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: o.UID,
				Controller: o.Controller != nil && *o.Controller}
		}
	}
	return r, nil
}
