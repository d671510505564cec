package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const testPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-7d4b9c-x2x9z","namespace":"shop","uid":"u1","labels":{"app":"web","tier":"frontend"},
"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d4b9c","uid":"rs1","controller":true}]},
"spec":{"volumes":[
  {"name":"config","configMap":{"name":"web-config","items":[{"key":"a","path":"b"}],"defaultMode":420}},
  {"name":"creds","secret":{"secretName":"web-secret"}},
  {"name":"data","persistentVolumeClaim":{"claimName":"data-web-0"}},
  {"name":"scratch","ephemeral":{"volumeClaimTemplate":{"spec":{"accessModes":["ReadWriteOnce"]}}}},
  {"name":"kube-api-access-abcde","projected":{"sources":[{"serviceAccountToken":{"path":"token"}},{"configMap":{"name":"kube-root-ca.crt"}},{"secret":{"name":"projected-secret"}},{"downwardAPI":{"items":[]}}]}},
  {"name":"csi","csi":{"driver":"x","nodePublishSecretRef":{"name":"csi-secret"}}},
  {"name":"ceph","cephfs":{"monitors":["a"],"secretRef":{"name":"ceph-secret"}}},
  {"name":"az","azureFile":{"secretName":"az-secret","shareName":"s"}},
  {"name":"empty","emptyDir":{}}],
 "initContainers":[{"name":"init","envFrom":[{"secretRef":{"name":"init-env"}}]}],
 "containers":[{"name":"web","image":"x","env":[{"name":"A","value":"1"},{"name":"B","valueFrom":{"configMapKeyRef":{"name":"web-config","key":"k"}}},
   {"name":"C","valueFrom":{"secretKeyRef":{"name":"db-secret","key":"password"}}},{"name":"D","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
   "envFrom":[{"configMapRef":{"name":"env-config"}},{"prefix":"X_","secretRef":{"name":"env-secret"}}]}],
 "ephemeralContainers":[{"name":"debug","env":[{"name":"E","valueFrom":{"configMapKeyRef":{"name":"debug-config","key":"k"}}}]}],
 "serviceAccountName":"web","serviceAccount":"web","nodeName":"node-1","imagePullSecrets":[{"name":"regcred"}]},
"status":{"phase":"Running","this":"is never read because it is malformed: [[[["}`

func refStrings(refs []Ref) []string {
	var out []string
	for _, r := range refs {
		s := fmt.Sprintf("%s %s/%s %s/%s", r.Rel, r.Group, r.Kind, r.Namespace, r.Name)
		if r.UID != "" {
			s += " uid=" + r.UID
		}
		if r.External {
			s += " external"
		}
		out = append(out, s)
	}
	return out
}

func TestExtractPod(t *testing.T) {
	ex, err := Extract(Object{Kind: "Pod", Version: "v1", Namespace: "shop", Name: "web-7d4b9c-x2x9z"}, []byte(testPod))
	if err != nil {
		t.Fatalf("Extract: %v (the malformed status must never be scanned)", err)
	}
	want := []string{
		"pod-node /Node /node-1",
		"pod-pvc /PersistentVolumeClaim shop/data-web-0",
		"pod-pvc /PersistentVolumeClaim shop/web-7d4b9c-x2x9z-scratch",
		"pod-configmap /ConfigMap shop/debug-config",
		"pod-configmap /ConfigMap shop/env-config",
		"pod-configmap /ConfigMap shop/kube-root-ca.crt",
		"pod-configmap /ConfigMap shop/web-config",
		"pod-secret /Secret shop/az-secret",
		"pod-secret /Secret shop/ceph-secret",
		"pod-secret /Secret shop/csi-secret",
		"pod-secret /Secret shop/db-secret",
		"pod-secret /Secret shop/env-secret",
		"pod-secret /Secret shop/init-env",
		"pod-secret /Secret shop/projected-secret",
		"pod-secret /Secret shop/regcred",
		"pod-secret /Secret shop/web-secret",
		"pod-serviceaccount /ServiceAccount shop/web",
	}
	if got := refStrings(ex.Refs); !reflect.DeepEqual(got, want) {
		t.Fatalf("refs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ex.Selector != nil {
		t.Fatal("a Pod has no selector")
	}
}

func TestExtractPodDeprecatedServiceAccountAndEscapes(t *testing.T) {
	obj := `{"spec":{"serviceAccount":"old-sa","vol\u0075mes":[{"configMap":{"name":"c\u006d"}}]}}`
	ex, err := Extract(Object{Kind: "Pod", Namespace: "ns"}, []byte(obj))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pod-configmap /ConfigMap ns/cm", "pod-serviceaccount /ServiceAccount ns/old-sa"}
	if got := refStrings(ex.Refs); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestExtractKinds(t *testing.T) {
	cases := []struct {
		name string
		obj  Object
		json string
		refs []string
		sel  string // canonical selector, "" none
	}{
		{"service", Object{Kind: "Service", Namespace: "ns"}, `{"spec":{"type":"ClusterIP","selector":{"app":"web","tier":"fe"}}}`, nil, "app=web,tier=fe"},
		{"service without selector", Object{Kind: "Service", Namespace: "ns"}, `{"spec":{"ports":[]}}`, nil, ""},
		{"service empty selector", Object{Kind: "Service", Namespace: "ns"}, `{"spec":{"selector":{}}}`, nil, ""},
		{"external name service", Object{Kind: "Service", Namespace: "ns"}, `{"spec":{"type":"ExternalName","selector":{"a":"b"}}}`, nil, ""},
		{"endpointslice", Object{Group: "discovery.k8s.io", Kind: "EndpointSlice", Namespace: "ns", Labels: LabelsFromMap(map[string]string{"kubernetes.io/service-name": "web"})}, `not even json`, []string{"endpointslice-service /Service ns/web"}, ""},
		{"ingress v1", Object{Group: "networking.k8s.io", Kind: "Ingress", Namespace: "ns"},
			`{"spec":{"ingressClassName":"nginx","defaultBackend":{"service":{"name":"default-be"}},"tls":[{"hosts":["a"],"secretName":"tls-a"},{"hosts":["b"]}],
			"rules":[{"host":"a","http":{"paths":[{"path":"/","backend":{"service":{"name":"web","port":{"number":80}}}},{"path":"/r","backend":{"resource":{"kind":"Bucket","name":"b"}}}]}},{"host":"c"}]}}`,
			[]string{"ingress-service /Service ns/default-be", "ingress-service /Service ns/web", "ingress-class networking.k8s.io/IngressClass /nginx", "ingress-tls-secret /Secret ns/tls-a"}, ""},
		{"ingress v1beta1", Object{Group: "extensions", Kind: "Ingress", Namespace: "ns"}, `{"spec":{"backend":{"serviceName":"old"}}}`, []string{"ingress-service /Service ns/old"}, ""},
		{"hpa", Object{Group: "autoscaling", Kind: "HorizontalPodAutoscaler", Namespace: "ns"}, `{"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":1}}`, []string{"hpa-target apps/Deployment ns/web"}, ""},
		{"pdb v1", Object{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget", Namespace: "ns"}, `{"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["fe"]},{"key":"x","operator":"Exists"}]}}}`, nil, "app=web,tier in (fe),x"},
		{"pdb v1 empty selects all", Object{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget", Namespace: "ns"}, `{"spec":{"selector":{}}}`, nil, "<everything>"},
		{"pdb v1beta1 empty selects none", Object{Group: "policy", Version: "v1beta1", Kind: "PodDisruptionBudget", Namespace: "ns"}, `{"spec":{"selector":{}}}`, nil, ""},
		{"pdb null selector", Object{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget", Namespace: "ns"}, `{"spec":{"selector":null}}`, nil, ""},
		{"pdb invalid operator", Object{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget", Namespace: "ns"}, `{"spec":{"selector":{"matchExpressions":[{"key":"a","operator":"Near"}]}}}`, nil, ""},
		{"networkpolicy all", Object{Group: "networking.k8s.io", Kind: "NetworkPolicy", Namespace: "ns"}, `{"spec":{"podSelector":{},"policyTypes":["Ingress"]}}`, nil, "<everything>"},
		{"networkpolicy", Object{Group: "networking.k8s.io", Kind: "NetworkPolicy", Namespace: "ns"}, `{"spec":{"podSelector":{"matchExpressions":[{"key":"app","operator":"NotIn","values":["a","b"]}]}}}`, nil, "app notin (a,b)"},
		{"pvc", Object{Kind: "PersistentVolumeClaim", Namespace: "ns"}, `{"spec":{"volumeName":"pv-1","storageClassName":"fast"}}`, []string{"pvc-pv /PersistentVolume /pv-1", "pvc-storageclass storage.k8s.io/StorageClass /fast"}, ""},
		{"pvc unbound no class", Object{Kind: "PersistentVolumeClaim", Namespace: "ns"}, `{"spec":{"storageClassName":""}}`, nil, ""},
		{"pv", Object{Kind: "PersistentVolume"}, `{"spec":{"storageClassName":"fast","claimRef":{"name":"x"}}}`, []string{"pv-storageclass storage.k8s.io/StorageClass /fast"}, ""},
		{"serviceaccount", Object{Kind: "ServiceAccount", Namespace: "ns"}, `{"secrets":[{"name":"tok"}],"imagePullSecrets":[{"name":"regcred"}]}`, []string{"serviceaccount-secret /Secret ns/regcred", "serviceaccount-secret /Secret ns/tok"}, ""},
		{"core event", Object{Kind: "Event", Namespace: "ns"}, `{"involvedObject":{"kind":"Pod","namespace":"ns","name":"p","uid":"u","apiVersion":"v1","fieldPath":"spec"},"reason":"x"}`, []string{"event-object /Pod ns/p uid=u"}, ""},
		{"events.k8s.io event", Object{Group: "events.k8s.io", Kind: "Event", Namespace: "ns"}, `{"regarding":{"kind":"Deployment","namespace":"ns","name":"d","apiVersion":"apps/v1"}}`, []string{"event-object apps/Deployment ns/d"}, ""},
		{"rolebinding", Object{Group: rbacGroup, Kind: "RoleBinding", Namespace: "ns"},
			`{"subjects":[{"kind":"ServiceAccount","name":"sa"},{"kind":"ServiceAccount","name":"other","namespace":"o"},{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"devs"},{"kind":"User","name":"alice"}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"dev"}}`,
			[]string{"rolebinding-role rbac.authorization.k8s.io/Role ns/dev", "rolebinding-subject /ServiceAccount ns/sa", "rolebinding-subject /ServiceAccount o/other", "rolebinding-subject rbac.authorization.k8s.io/Group /devs external", "rolebinding-subject rbac.authorization.k8s.io/User /alice external"}, ""},
		{"clusterrolebinding", Object{Group: rbacGroup, Kind: "ClusterRoleBinding"},
			`{"roleRef":{"kind":"ClusterRole","name":"view"},"subjects":[{"kind":"ServiceAccount","name":"sa","namespace":"kube-system"}]}`,
			[]string{"rolebinding-role rbac.authorization.k8s.io/ClusterRole /view", "rolebinding-subject /ServiceAccount kube-system/sa"}, ""},
		{"configmap has no rules", Object{Kind: "ConfigMap", Namespace: "ns"}, `{"data":{}}`, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ex, err := Extract(c.obj, []byte(c.json))
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if got := refStrings(ex.Refs); !reflect.DeepEqual(got, c.refs) {
				t.Fatalf("refs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.refs, "\n"))
			}
			got := ""
			if ex.Selector != nil {
				got = ex.Selector.Canonical
				if got == "" {
					got = "<everything>"
				}
			}
			if got != c.sel {
				t.Fatalf("selector %q, want %q", got, c.sel)
			}
		})
	}
}

func TestSelectorSemantics(t *testing.T) {
	ex, _ := Extract(Object{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"},
		[]byte(`{"spec":{"selector":{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"track","operator":"NotIn","values":["canary"]}]}}}`))
	s := ex.Selector
	if s == nil {
		t.Fatal("no selector")
	}
	matches := func(m map[string]string) bool { l := LabelsFromMap(m); return s.Matches(&l) }
	if !matches(map[string]string{"app": "web"}) || !matches(map[string]string{"app": "web", "track": "stable"}) {
		t.Fatal("should match")
	}
	if matches(map[string]string{"app": "web", "track": "canary"}) || matches(map[string]string{"web": "app"}) {
		t.Fatal("should not match (keys and values are not interchangeable)")
	}
	if !reflect.DeepEqual(s.Equal, [][2]string{{"app", "web"}}) {
		t.Fatalf("equal = %v", s.Equal)
	}
}

func TestExtractMalformed(t *testing.T) {
	for _, in := range []string{``, `{`, `{"spec":`, `{"spec":{"volumes":[{"configMap":{"name":"a"}}`, `{"spec":{"nodeName":"n","volumes":[}`, `[1,2]`, `"x"`} {
		ex, err := Extract(Object{Kind: "Pod", Namespace: "ns"}, []byte(in))
		_ = ex
		if in != `[1,2]` && in != `"x"` && err == nil && in != `` {
			t.Errorf("%q: expected ErrMalformed", in)
		}
	}
}

// referencePodRefs computes a Pod's refs with encoding/json into generic values: the
// oracle the scanner is fuzzed against.
func referencePodRefs(ns, name string, data []byte) ([]Ref, bool) {
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, false
	}
	var out Extracted
	m := func(v any) map[string]any { x, _ := v.(map[string]any); return x }
	a := func(v any) []any { x, _ := v.([]any); return x }
	str := func(v any) string { x, _ := v.(string); return x }
	spec := m(obj["spec"])
	if spec == nil {
		return nil, true
	}
	out.add(RelPodNode, "", "Node", "", str(spec["nodeName"]))
	sa := str(spec["serviceAccountName"])
	if sa == "" {
		sa = str(spec["serviceAccount"])
	}
	out.add(RelPodServiceAccount, "", "ServiceAccount", ns, sa)
	for _, v := range a(spec["volumes"]) {
		v := m(v)
		out.add(RelPodConfigMap, "", "ConfigMap", ns, str(m(v["configMap"])["name"]))
		out.add(RelPodSecret, "", "Secret", ns, str(m(v["secret"])["secretName"]))
		out.add(RelPodPVC, "", "PersistentVolumeClaim", ns, str(m(v["persistentVolumeClaim"])["claimName"]))
		if m(v["ephemeral"]) != nil && str(v["name"]) != "" {
			out.add(RelPodPVC, "", "PersistentVolumeClaim", ns, name+"-"+str(v["name"]))
		}
		for _, p := range a(m(v["projected"])["sources"]) {
			out.add(RelPodConfigMap, "", "ConfigMap", ns, str(m(m(p)["configMap"])["name"]))
			out.add(RelPodSecret, "", "Secret", ns, str(m(m(p)["secret"])["name"]))
		}
		out.add(RelPodSecret, "", "Secret", ns, str(m(v["azureFile"])["secretName"]))
		out.add(RelPodSecret, "", "Secret", ns, str(m(m(v["csi"])["nodePublishSecretRef"])["name"]))
		for k := range secretRefVolumes {
			out.add(RelPodSecret, "", "Secret", ns, str(m(m(v[k])["secretRef"])["name"]))
		}
	}
	for _, list := range []string{"containers", "initContainers", "ephemeralContainers"} {
		for _, c := range a(spec[list]) {
			c := m(c)
			for _, e := range a(c["env"]) {
				vf := m(m(e)["valueFrom"])
				out.add(RelPodConfigMap, "", "ConfigMap", ns, str(m(vf["configMapKeyRef"])["name"]))
				out.add(RelPodSecret, "", "Secret", ns, str(m(vf["secretKeyRef"])["name"]))
			}
			for _, e := range a(c["envFrom"]) {
				out.add(RelPodConfigMap, "", "ConfigMap", ns, str(m(m(e)["configMapRef"])["name"]))
				out.add(RelPodSecret, "", "Secret", ns, str(m(m(e)["secretRef"])["name"]))
			}
		}
	}
	for _, p := range a(spec["imagePullSecrets"]) {
		out.add(RelPodSecret, "", "Secret", ns, str(m(p)["name"]))
	}
	return normalizeRefs(out.Refs), true
}

func FuzzExtractPod(f *testing.F) {
	f.Add([]byte(testPod[:strings.Index(testPod, `"status"`)-1] + "}"))
	f.Add([]byte(`{"spec":{"volumes":[{"name":"a","configMap":{"name":"x\"y"}}]}}`))
	f.Add([]byte(`{"spec":{"containers":[{"env":[{"valueFrom":{"secretKeyRef":{"name":"s\\"}}}]}]}}`))
	f.Add([]byte(`{"spec":{"nodeName":1,"serviceAccountName":null,"volumes":{}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Extract(Object{Kind: "Pod", Namespace: "ns", Name: "p"}, data)
		want, ok := referencePodRefs("ns", "p", data)
		if !ok || err != nil {
			return // invalid JSON: only "no panic" is required
		}
		if json.Valid(data) && bytesContainDuplicateKeys(data) {
			return // encoding/json merges duplicated keys; the scanner reads them in turn
		}
		if !reflect.DeepEqual(got.Refs, want) {
			t.Fatalf("scanner %v\noracle  %v\nfor %s", refStrings(got.Refs), refStrings(want), data)
		}
	})
}

// bytesContainDuplicateKeys reports whether some object in the document repeats a key.
func bytesContainDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	var walk func() bool
	walk = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return false
				}
				if seen[k.(string)] {
					return true
				}
				seen[k.(string)] = true
				if walk() {
					return true
				}
			}
			dec.Token()
		case json.Delim('['):
			for dec.More() {
				if walk() {
					return true
				}
			}
			dec.Token()
		}
		return false
	}
	return walk()
}

func BenchmarkExtractPod(b *testing.B) {
	data := []byte(testPod[:strings.Index(testPod, `"status"`)-1] + `,"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[{"name":"web","image":"x","imageID":"y","ready":true,"restartCount":0}]}}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Extract(Object{Kind: "Pod", Namespace: "shop", Name: "web"}, data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestExtractIntoAliasesAndCloneRefs(t *testing.T) {
	obj := []byte(`{"spec":{"nodeName":"node-1","volumes":[{"name":"v","configMap":{"name":"cm-a"}}]}}`)
	buf := make([]Ref, 0, 4)
	ex, err := ExtractInto(buf, Object{Kind: "Pod", Namespace: "ns"}, obj)
	if err != nil || len(ex.Refs) != 2 {
		t.Fatalf("%v %v", ex.Refs, err)
	}
	if &ex.Refs[:1][0] != &buf[:1][0] {
		t.Fatal("ExtractInto must reuse the buffer")
	}
	kept := CloneRefs(ex.Refs)
	copy(obj[bytes.Index(obj, []byte("cm-a")):], "XXXX")
	if ex.Refs[1].Name != "XXXX" && ex.Refs[0].Name != "XXXX" {
		t.Fatal("ExtractInto names alias the document")
	}
	if refStrings(kept)[1] != "pod-configmap /ConfigMap ns/cm-a" {
		t.Fatalf("cloned refs changed: %v", refStrings(kept))
	}
	full, _ := Extract(Object{Kind: "Pod", Namespace: "ns"}, []byte(`{"spec":{"nodeName":"n"}}`))
	if len(full.Refs) != 1 || CloneRefs(nil) != nil {
		t.Fatal("Extract / CloneRefs(nil)")
	}
}
