package graph

import (
	"encoding/json"
	"errors"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// Object is what the extraction rules know about an object besides its JSON: the metadata
// the store has already parsed.
type Object struct {
	Group, Version, Kind string
	Namespace, Name      string
	Labels               Labels
}

// Extracted is what one object refers to. Owner references are not part of it: they come
// from the stored record's ownerReferences.
type Extracted struct {
	// Refs by name, de-duplicated and sorted (by relation, group, kind, namespace, name).
	Refs []Ref
	// Selector of a Service, PodDisruptionBudget or NetworkPolicy over its namespace's Pods;
	// nil when the object selects nothing.
	Selector *Selector
}

// ErrMalformed reports JSON the rules could not read; the references found before the
// problem are still returned.
var ErrMalformed = errors.New("malformed object JSON")

type rule struct {
	// parse is nil for rules that only need the metadata.
	parse func(src *Object, s *scanner, out *Extracted)
	meta  func(src *Object, out *Extracted)
}

func ruleFor(group, kind string) *rule {
	switch group {
	case "":
		switch kind {
		case "Pod":
			return &podRule
		case "Service":
			return &serviceRule
		case "PersistentVolumeClaim":
			return &pvcRule
		case "PersistentVolume":
			return &pvRule
		case "ServiceAccount":
			return &serviceAccountRule
		case "Event":
			return &coreEventRule
		}
	case "discovery.k8s.io":
		if kind == "EndpointSlice" {
			return &endpointSliceRule
		}
	case "networking.k8s.io", "extensions":
		switch kind {
		case "Ingress":
			return &ingressRule
		case "NetworkPolicy":
			return &networkPolicyRule
		}
	case "autoscaling":
		if kind == "HorizontalPodAutoscaler" {
			return &hpaRule
		}
	case "policy":
		if kind == "PodDisruptionBudget" {
			return &pdbRule
		}
	case "events.k8s.io":
		if kind == "Event" {
			return &eventsEventRule
		}
	case "rbac.authorization.k8s.io":
		if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
			return &roleBindingRule
		}
	}
	return nil
}

// HasRules reports whether objects of (group, kind) can refer to anything besides their
// owners; Extract returns nothing for the others without reading their JSON.
func HasRules(group, kind string) bool { return ruleFor(group, kind) != nil }

// Extract applies the rules of the object's kind: a pure function of the object's JSON and
// metadata. It reads only the members the rules need (the status of a Pod is never
// scanned).
func Extract(src Object, obj []byte) (Extracted, error) {
	return extract(nil, src, obj, false)
}

// ExtractInto is Extract appending the references to buf[:0], reusing its array, for
// callers that keep only what they copy: the names of the references it returns share
// obj's bytes (no allocation) and are valid only while obj is not modified — use
// CloneRefs for what is kept.
func ExtractInto(buf []Ref, src Object, obj []byte) (Extracted, error) {
	return extract(buf, src, obj, true)
}

// CloneRefs returns a copy of refs whose strings share no memory with any document.
func CloneRefs(refs []Ref) []Ref {
	if len(refs) == 0 {
		return nil
	}
	out := make([]Ref, len(refs))
	for i, r := range refs {
		r.Group, r.Kind = strings.Clone(r.Group), strings.Clone(r.Kind)
		r.Namespace, r.Name, r.UID = strings.Clone(r.Namespace), strings.Clone(r.Name), strings.Clone(r.UID)
		out[i] = r
	}
	return out
}

func extract(buf []Ref, src Object, obj []byte, alias bool) (Extracted, error) {
	out := Extracted{Refs: buf[:0]}
	r := ruleFor(src.Group, src.Kind)
	if r == nil {
		out.Refs = nil
		return out, nil
	}
	if r.meta != nil {
		r.meta(&src, &out)
	}
	var err error
	if r.parse != nil {
		if cap(out.Refs) == 0 {
			out.Refs = make([]Ref, 0, 8)
		}
		s := scanner{b: obj, alias: alias}
		r.parse(&src, &s, &out)
		if s.bad {
			err = ErrMalformed
		}
	}
	out.Refs = normalizeRefs(out.Refs)
	return out, err
}

func (e *Extracted) add(rel Relation, group, kind, ns, name string) {
	if name == "" {
		return
	}
	e.Refs = append(e.Refs, Ref{Rel: rel, Group: group, Kind: kind, Namespace: ns, Name: name})
}

// CompareRefs orders references by relation, group, kind, namespace, name, uid.
func CompareRefs(a, b *Ref) int {
	switch {
	case a.Rel != b.Rel:
		if a.Rel < b.Rel {
			return -1
		}
		return 1
	case a.Group != b.Group:
		return cmpStr(a.Group, b.Group)
	case a.Kind != b.Kind:
		return cmpStr(a.Kind, b.Kind)
	case a.Namespace != b.Namespace:
		return cmpStr(a.Namespace, b.Namespace)
	case a.Name != b.Name:
		return cmpStr(a.Name, b.Name)
	case a.UID != b.UID:
		return cmpStr(a.UID, b.UID)
	}
	return 0
}

func cmpStr(a, b string) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// normalizeRefs sorts (insertion sort: the lists are short) and de-duplicates in place.
func normalizeRefs(refs []Ref) []Ref {
	for i := 1; i < len(refs); i++ {
		for j := i; j > 0 && CompareRefs(&refs[j], &refs[j-1]) < 0; j-- {
			refs[j], refs[j-1] = refs[j-1], refs[j]
		}
	}
	out := refs[:0]
	for i := range refs {
		if len(out) > 0 && CompareRefs(&out[len(out)-1], &refs[i]) == 0 {
			continue
		}
		out = append(out, refs[i])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// EqualRefs reports whether two normalized lists are equal.
func EqualRefs(a, b []Ref) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// topLevel calls fn for each top-level member whose key is in keys (skipping the others),
// and stops after the last of the keys has been read once all of them were seen.
func topLevel(s *scanner, fn func(s *scanner), keys ...string) {
	if !s.enter('{') {
		return
	}
	seen := 0
	for s.next() {
		hit := false
		for _, k := range keys {
			if s.is(k) {
				hit = true
				break
			}
		}
		if !hit {
			s.skip()
			continue
		}
		fn(s)
		seen++
		if seen == len(keys) && len(keys) == 1 {
			return // the only member needed: the rest is never scanned
		}
	}
}

// --- Pod ---

var podRule = rule{parse: func(src *Object, s *scanner, out *Extracted) {
	topLevel(s, func(s *scanner) { podSpec(src, s, out) }, "spec")
}}

func podSpec(src *Object, s *scanner, out *Extracted) {
	if !s.enter('{') {
		return
	}
	ns := src.Namespace
	sa, saDeprecated := "", ""
	for s.next() {
		switch string(s.key) {
		case "nodeName":
			out.add(RelPodNode, "", "Node", "", s.str())
		case "serviceAccountName":
			sa = s.str()
		case "serviceAccount":
			saDeprecated = s.str()
		case "volumes":
			podVolumes(src, s, out)
		case "containers", "initContainers", "ephemeralContainers":
			if !s.enter('[') {
				continue
			}
			for s.elem() {
				containerRefs(ns, s, out)
			}
		case "imagePullSecrets":
			localNames(s, func(n string) { out.add(RelPodSecret, "", "Secret", ns, n) })
		default:
			s.skip()
		}
	}
	if sa == "" {
		sa = saDeprecated
	}
	out.add(RelPodServiceAccount, "", "ServiceAccount", ns, sa)
}

// localNames reads an array of {"name": ...} (LocalObjectReference).
func localNames(s *scanner, fn func(string)) {
	if !s.enter('[') {
		return
	}
	for s.elem() {
		if n := s.nameField("name"); n != "" {
			fn(n)
		}
	}
}

// secretRefVolumes are volume sources whose secret reference is {"secretRef": {"name"}}.
var secretRefVolumes = map[string]bool{"cephfs": true, "rbd": true, "flexVolume": true, "iscsi": true, "scaleIO": true, "storageos": true, "cinder": true}

func podVolumes(src *Object, s *scanner, out *Extracted) {
	if !s.enter('[') {
		return
	}
	ns := src.Namespace
	for s.elem() {
		if !s.enter('{') {
			continue
		}
		name, ephemeral := "", false
		for s.next() {
			k := s.key
			switch {
			case s.is("name"):
				name = s.str()
			case s.is("configMap"):
				out.add(RelPodConfigMap, "", "ConfigMap", ns, s.nameField("name"))
			case s.is("secret"):
				out.add(RelPodSecret, "", "Secret", ns, s.nameField("secretName"))
			case s.is("persistentVolumeClaim"):
				out.add(RelPodPVC, "", "PersistentVolumeClaim", ns, s.nameField("claimName"))
			case s.is("ephemeral"):
				ephemeral = s.peek() == '{'
				s.skip()
			case s.is("projected"):
				projectedSources(ns, s, out)
			case s.is("azureFile"):
				out.add(RelPodSecret, "", "Secret", ns, s.nameField("secretName"))
			case s.is("csi"):
				if !s.enter('{') {
					continue
				}
				for s.next() {
					if s.is("nodePublishSecretRef") {
						out.add(RelPodSecret, "", "Secret", ns, s.nameField("name"))
					} else {
						s.skip()
					}
				}
			case secretRefVolumes[string(k)]:
				if !s.enter('{') {
					continue
				}
				for s.next() {
					if s.is("secretRef") {
						out.add(RelPodSecret, "", "Secret", ns, s.nameField("name"))
					} else {
						s.skip()
					}
				}
			default:
				s.skip()
			}
		}
		if ephemeral && name != "" {
			// A generic ephemeral volume's claim is named <pod>-<volume>.
			out.add(RelPodPVC, "", "PersistentVolumeClaim", ns, src.Name+"-"+name)
		}
	}
}

func projectedSources(ns string, s *scanner, out *Extracted) {
	if !s.enter('{') {
		return
	}
	for s.next() {
		if !s.is("sources") || !s.enter('[') {
			if !s.is("sources") {
				s.skip()
			}
			continue
		}
		for s.elem() {
			if !s.enter('{') {
				continue
			}
			for s.next() {
				switch string(s.key) {
				case "configMap":
					out.add(RelPodConfigMap, "", "ConfigMap", ns, s.nameField("name"))
				case "secret":
					out.add(RelPodSecret, "", "Secret", ns, s.nameField("name"))
				default:
					s.skip()
				}
			}
		}
	}
}

func containerRefs(ns string, s *scanner, out *Extracted) {
	if !s.enter('{') {
		return
	}
	for s.next() {
		switch string(s.key) {
		case "env":
			if !s.enter('[') {
				continue
			}
			for s.elem() {
				if !s.enter('{') {
					continue
				}
				for s.next() {
					if !s.is("valueFrom") || !s.enter('{') {
						if !s.is("valueFrom") {
							s.skip()
						}
						continue
					}
					for s.next() {
						switch string(s.key) {
						case "configMapKeyRef":
							out.add(RelPodConfigMap, "", "ConfigMap", ns, s.nameField("name"))
						case "secretKeyRef":
							out.add(RelPodSecret, "", "Secret", ns, s.nameField("name"))
						default:
							s.skip()
						}
					}
				}
			}
		case "envFrom":
			if !s.enter('[') {
				continue
			}
			for s.elem() {
				if !s.enter('{') {
					continue
				}
				for s.next() {
					switch string(s.key) {
					case "configMapRef":
						out.add(RelPodConfigMap, "", "ConfigMap", ns, s.nameField("name"))
					case "secretRef":
						out.add(RelPodSecret, "", "Secret", ns, s.nameField("name"))
					default:
						s.skip()
					}
				}
			}
		default:
			s.skip()
		}
	}
}

// --- Service, PodDisruptionBudget, NetworkPolicy: selectors ---

var serviceRule = rule{parse: func(src *Object, s *scanner, out *Extracted) {
	topLevel(s, func(s *scanner) {
		if !s.enter('{') {
			return
		}
		var sel map[string]string
		external := false
		for s.next() {
			switch string(s.key) {
			case "selector":
				sel, _ = s.stringMap()
			case "type":
				external = s.str() == "ExternalName"
			default:
				s.skip()
			}
		}
		if external || len(sel) == 0 {
			return // no selector: the Service selects nothing (its endpoints are managed elsewhere)
		}
		out.Selector = setSelector(RelServicePod, sel)
	}, "spec")
}}

func setSelector(rel Relation, set map[string]string) *Selector {
	sel := labels.SelectorFromSet(labels.Set(set))
	eq := make([][2]string, 0, len(set))
	for k, v := range set {
		eq = append(eq, [2]string{k, v})
	}
	sortPairs(eq)
	return &Selector{Rel: rel, Selector: sel, Equal: eq, Canonical: sel.String()}
}

func sortPairs(p [][2]string) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && (p[j][0] < p[j-1][0] || p[j][0] == p[j-1][0] && p[j][1] < p[j-1][1]); j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

// labelSelector converts a metav1.LabelSelector JSON value: null or absent selects nothing,
// {} selects everything (policy/v1 and networking/v1 semantics); emptySelectsNothing gives
// policy/v1beta1's semantics. A selector Kubernetes would reject selects nothing.
func labelSelector(rel Relation, raw []byte, emptySelectsNothing bool) *Selector {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var ls metav1.LabelSelector
	if err := json.Unmarshal(raw, &ls); err != nil {
		return nil
	}
	if emptySelectsNothing && len(ls.MatchLabels) == 0 && len(ls.MatchExpressions) == 0 {
		return nil
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return nil
	}
	var eq [][2]string
	if reqs, ok := sel.Requirements(); ok {
		for _, r := range reqs {
			switch r.Operator() {
			case selection.Equals, selection.DoubleEquals, selection.In:
				if vals := r.Values(); vals.Len() == 1 {
					eq = append(eq, [2]string{r.Key(), vals.List()[0]})
				}
			}
		}
	}
	sortPairs(eq)
	return &Selector{Rel: rel, Selector: sel, Equal: eq, Canonical: sel.String()}
}

var pdbRule = rule{parse: func(src *Object, s *scanner, out *Extracted) {
	topLevel(s, func(s *scanner) {
		if !s.enter('{') {
			return
		}
		var raw []byte
		for s.next() {
			if s.is("selector") {
				raw = s.raw()
			} else {
				s.skip()
			}
		}
		out.Selector = labelSelector(RelPDBPod, raw, src.Version == "v1beta1")
	}, "spec")
}}

var networkPolicyRule = rule{parse: func(src *Object, s *scanner, out *Extracted) {
	topLevel(s, func(s *scanner) {
		if !s.enter('{') {
			return
		}
		var raw []byte
		for s.next() {
			if s.is("podSelector") {
				raw = s.raw()
			} else {
				s.skip()
			}
		}
		out.Selector = labelSelector(RelNetworkPolicyPod, raw, false)
	}, "spec")
}}

// --- EndpointSlice, Ingress, HPA ---

var endpointSliceRule = rule{meta: func(src *Object, out *Extracted) {
	out.add(RelEndpointSliceService, "", "Service", src.Namespace, src.Labels.Get("kubernetes.io/service-name"))
}}

var ingressRule = rule{parse: func(src *Object, s *scanner, out *Extracted) {
	ns := src.Namespace
	topLevel(s, func(s *scanner) {
		if !s.enter('{') {
			return
		}
		for s.next() {
			switch string(s.key) {
			case "ingressClassName":
				out.add(RelIngressClass, "networking.k8s.io", "IngressClass", "", s.str())
			case "defaultBackend", "backend":
				ingressBackend(ns, s, out)
			case "rules":
				if !s.enter('[') {
					continue
				}
				for s.elem() {
					if !s.enter('{') {
						continue
					}
					for s.next() {
						if !s.is("http") || !s.enter('{') {
							if !s.is("http") {
								s.skip()
							}
							continue
						}
						for s.next() {
							if !s.is("paths") || !s.enter('[') {
								if !s.is("paths") {
									s.skip()
								}
								continue
							}
							for s.elem() {
								if !s.enter('{') {
									continue
								}
								for s.next() {
									if s.is("backend") {
										ingressBackend(ns, s, out)
									} else {
										s.skip()
									}
								}
							}
						}
					}
				}
			case "tls":
				if !s.enter('[') {
					continue
				}
				for s.elem() {
					out.add(RelIngressTLSSecret, "", "Secret", ns, s.nameField("secretName"))
				}
			default:
				s.skip()
			}
		}
	}, "spec")
}}

// ingressBackend reads networking/v1 {"service": {"name"}} and v1beta1 {"serviceName"}.
func ingressBackend(ns string, s *scanner, out *Extracted) {
	if !s.enter('{') {
		return
	}
	for s.next() {
		switch string(s.key) {
		case "service":
			out.add(RelIngressService, "", "Service", ns, s.nameField("name"))
		case "serviceName":
			out.add(RelIngressService, "", "Service", ns, s.str())
		default:
			s.skip()
		}
	}
}

var hpaRule = rule{parse: func(src *Object, s *scanner, out *Extracted) {
	topLevel(s, func(s *scanner) {
		if !s.enter('{') {
			return
		}
		for s.next() {
			if !s.is("scaleTargetRef") {
				s.skip()
				continue
			}
			var apiVersion, kind, name string
			if !s.enter('{') {
				continue
			}
			for s.next() {
				switch string(s.key) {
				case "apiVersion":
					apiVersion = s.str()
				case "kind":
					kind = s.str()
				case "name":
					name = s.str()
				default:
					s.skip()
				}
			}
			if kind != "" {
				out.add(RelHPATarget, GroupOf(apiVersion), kind, src.Namespace, name)
			}
		}
	}, "spec")
}}

// --- storage ---

var pvcRule = rule{parse: func(src *Object, s *scanner, out *Extracted) {
	topLevel(s, func(s *scanner) {
		if !s.enter('{') {
			return
		}
		for s.next() {
			switch string(s.key) {
			case "volumeName":
				out.add(RelPVCPV, "", "PersistentVolume", "", s.str())
			case "storageClassName":
				out.add(RelPVCStorageClass, "storage.k8s.io", "StorageClass", "", s.str())
			default:
				s.skip()
			}
		}
	}, "spec")
}}

var pvRule = rule{parse: func(src *Object, s *scanner, out *Extracted) {
	topLevel(s, func(s *scanner) {
		if !s.enter('{') {
			return
		}
		for s.next() {
			if s.is("storageClassName") {
				out.add(RelPVStorageClass, "storage.k8s.io", "StorageClass", "", s.str())
			} else {
				s.skip()
			}
		}
	}, "spec")
}}

var serviceAccountRule = rule{parse: func(src *Object, s *scanner, out *Extracted) {
	ns := src.Namespace
	topLevel(s, func(s *scanner) {
		localNames(s, func(n string) { out.add(RelServiceAccountSecret, "", "Secret", ns, n) })
	}, "secrets", "imagePullSecrets")
}}

// --- events ---

func objectReference(src *Object, s *scanner, out *Extracted) {
	if !s.enter('{') {
		return
	}
	var apiVersion, kind, ns, name, uid string
	for s.next() {
		switch string(s.key) {
		case "apiVersion":
			apiVersion = s.str()
		case "kind":
			kind = s.str()
		case "namespace":
			ns = s.str()
		case "name":
			name = s.str()
		case "uid":
			uid = s.str()
		default:
			s.skip()
		}
	}
	if kind == "" || name == "" {
		return
	}
	out.Refs = append(out.Refs, Ref{Rel: RelEventObject, Group: GroupOf(apiVersion), Kind: kind, Namespace: ns, Name: name, UID: uid})
}

var coreEventRule = rule{parse: func(src *Object, s *scanner, out *Extracted) {
	topLevel(s, func(s *scanner) { objectReference(src, s, out) }, "involvedObject")
}}

var eventsEventRule = rule{parse: func(src *Object, s *scanner, out *Extracted) {
	topLevel(s, func(s *scanner) { objectReference(src, s, out) }, "regarding")
}}

// --- RBAC ---

const rbacGroup = "rbac.authorization.k8s.io"

var roleBindingRule = rule{parse: func(src *Object, s *scanner, out *Extracted) {
	topLevel(s, func(s *scanner) {
		if s.is("roleRef") {
			var kind, name string
			if !s.enter('{') {
				return
			}
			for s.next() {
				switch string(s.key) {
				case "kind":
					kind = s.str()
				case "name":
					name = s.str()
				default:
					s.skip()
				}
			}
			switch kind {
			case "Role":
				out.add(RelRoleBindingRole, rbacGroup, "Role", src.Namespace, name)
			case "ClusterRole":
				out.add(RelRoleBindingRole, rbacGroup, "ClusterRole", "", name)
			}
			return
		}
		if !s.enter('[') {
			return
		}
		for s.elem() {
			if !s.enter('{') {
				continue
			}
			var kind, name, ns string
			for s.next() {
				switch string(s.key) {
				case "kind":
					kind = s.str()
				case "name":
					name = s.str()
				case "namespace":
					ns = s.str()
				default:
					s.skip()
				}
			}
			switch kind {
			case "ServiceAccount":
				if ns == "" {
					ns = src.Namespace
				}
				out.add(RelRoleBindingSubject, "", "ServiceAccount", ns, name)
			case "User", "Group":
				if name != "" {
					out.Refs = append(out.Refs, Ref{Rel: RelRoleBindingSubject, Group: rbacGroup, Kind: kind, Name: name, External: true})
				}
			}
		}
	}, "roleRef", "subjects")
}}
