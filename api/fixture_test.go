package api

import (
	"encoding/json"
	"testing"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// The demo fixture: a small, hand-written two-cluster fleet with stable UIDs, so golden
// files (and the sample responses in docs/api.md) never change with the generator.
//
// prod-eu/shop: Deployment web → ReplicaSet web-7d4b9c → Pods web-7d4b9c-abcde and
// web-7d4b9c-fghij (on node-a, ServiceAccount web, ConfigMap web-config, Secret
// web-secret, projected kube-root-ca.crt which is not synced: a placeholder); Service
// web (+ EndpointSlice), Ingress web (IngressClass nginx, TLS Secret web-tls not synced),
// HPA web, PDB web, NetworkPolicy default-deny, Role/RoleBinding web, an Event about a
// Pod; StatefulSet db → Pod db-0 → PVC data-db-0 → PV pv-0001 → StorageClass fast.
// prod-us/shop: the same Deployment/ReplicaSet/Pod/Service names with other UIDs.

// secretValue is the (base64) data of Secret web-secret: it must never appear in any answer.
const secretValue = "c3VwZXItc2VjcmV0LXBhc3N3b3Jk"

type fixtureObject struct {
	cluster string
	gvr     index.GVR
	json    string
}

var (
	gvrDeploy = index.GVR{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrRS     = index.GVR{Group: "apps", Version: "v1", Resource: "replicasets"}
	gvrSTS    = index.GVR{Group: "apps", Version: "v1", Resource: "statefulsets"}
	gvrPod    = index.GVR{Version: "v1", Resource: "pods"}
	gvrSvc    = index.GVR{Version: "v1", Resource: "services"}
	gvrNode   = index.GVR{Version: "v1", Resource: "nodes"}
	gvrCM     = index.GVR{Version: "v1", Resource: "configmaps"}
	gvrSecret = index.GVR{Version: "v1", Resource: "secrets"}
	gvrSA     = index.GVR{Version: "v1", Resource: "serviceaccounts"}
	gvrPVC    = index.GVR{Version: "v1", Resource: "persistentvolumeclaims"}
	gvrPV     = index.GVR{Version: "v1", Resource: "persistentvolumes"}
	gvrEvent  = index.GVR{Version: "v1", Resource: "events"}
	gvrSC     = index.GVR{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}
	gvrES     = index.GVR{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
	gvrIng    = index.GVR{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
	gvrIC     = index.GVR{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"}
	gvrNP     = index.GVR{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}
	gvrHPA    = index.GVR{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}
	gvrPDB    = index.GVR{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}
	gvrRole   = index.GVR{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
	gvrRB     = index.GVR{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
)

func podJSON(name, uid, rs, rsUID, hash string) string {
	return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `","namespace":"shop","uid":"` + uid + `","resourceVersion":"1001","creationTimestamp":"2025-01-10T10:00:00Z",
	"labels":{"app":"web","pod-template-hash":"` + hash + `"},
	"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"` + rs + `","uid":"` + rsUID + `","controller":true,"blockOwnerDeletion":true}]},
	"spec":{"nodeName":"node-a","serviceAccountName":"web","containers":[{"name":"web","image":"nginx","env":[{"name":"PASSWORD","valueFrom":{"secretKeyRef":{"name":"web-secret","key":"password"}}}]}],
	"volumes":[{"name":"config","configMap":{"name":"web-config"}},{"name":"kube-api-access-x1","projected":{"sources":[{"serviceAccountToken":{"path":"token"}},{"configMap":{"name":"kube-root-ca.crt"}}]}}]},
	"status":{"phase":"Running","podIP":"10.0.0.1"}}`
}

func fixture() []fixtureObject {
	eu, us := "prod-eu", "prod-us"
	return []fixtureObject{
		{eu, gvrNode, `{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a","uid":"6a1b0000-0000-4000-8000-000000000001"}}`},
		{eu, gvrSA, `{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"web","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000002"}}`},
		{eu, gvrCM, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"web-config","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000003"},"data":{"LOG_LEVEL":"info"}}`},
		{eu, gvrSecret, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"web-secret","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000004"},"type":"Opaque","data":{"password":"` + secretValue + `"}}`},
		{eu, gvrDeploy, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000010","labels":{"app":"web"}},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}}}}`},
		{eu, gvrRS, `{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web-7d4b9c","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000011","labels":{"app":"web","pod-template-hash":"7d4b9c"},
			"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"6a1b0000-0000-4000-8000-000000000010","controller":true}]}}`},
		{eu, gvrPod, podJSON("web-7d4b9c-abcde", "6a1b0000-0000-4000-8000-000000000012", "web-7d4b9c", "6a1b0000-0000-4000-8000-000000000011", "7d4b9c")},
		{eu, gvrPod, podJSON("web-7d4b9c-fghij", "6a1b0000-0000-4000-8000-000000000013", "web-7d4b9c", "6a1b0000-0000-4000-8000-000000000011", "7d4b9c")},
		{eu, gvrSvc, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000020"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}`},
		{eu, gvrES, `{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"web-x7k2p","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000021","labels":{"kubernetes.io/service-name":"web"},
			"ownerReferences":[{"apiVersion":"v1","kind":"Service","name":"web","uid":"6a1b0000-0000-4000-8000-000000000020","controller":true}]},"addressType":"IPv4","endpoints":[]}`},
		{eu, gvrIC, `{"apiVersion":"networking.k8s.io/v1","kind":"IngressClass","metadata":{"name":"nginx","uid":"6a1b0000-0000-4000-8000-000000000022"},"spec":{"controller":"k8s.io/ingress-nginx"}}`},
		{eu, gvrIng, `{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"web","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000023"},
			"spec":{"ingressClassName":"nginx","tls":[{"hosts":["web.example.com"],"secretName":"web-tls"}],"rules":[{"host":"web.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]}}`},
		{eu, gvrHPA, `{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"web","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000024"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":2,"maxReplicas":6}}`},
		{eu, gvrPDB, `{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"web","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000025"},"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"web"}}}}`},
		{eu, gvrNP, `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"default-deny","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000026"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}`},
		{eu, gvrRole, `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"web","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000027"},"rules":[]}`},
		{eu, gvrRB, `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"web","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000028"},
			"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"web"},"subjects":[{"kind":"ServiceAccount","name":"web","namespace":"shop"},{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"devs"}]}`},
		{eu, gvrEvent, `{"apiVersion":"v1","kind":"Event","metadata":{"name":"web-7d4b9c-abcde.17a2b","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000029"},
			"involvedObject":{"apiVersion":"v1","kind":"Pod","namespace":"shop","name":"web-7d4b9c-abcde","uid":"6a1b0000-0000-4000-8000-000000000012"},"reason":"Started","message":"Started container web"}`},
		{eu, gvrSC, `{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"fast","uid":"6a1b0000-0000-4000-8000-000000000030"},"provisioner":"ebs.csi.aws.com"}`},
		{eu, gvrPV, `{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv-0001","uid":"6a1b0000-0000-4000-8000-000000000031"},"spec":{"storageClassName":"fast","claimRef":{"namespace":"shop","name":"data-db-0"}}}`},
		{eu, gvrPVC, `{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data-db-0","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000032"},"spec":{"volumeName":"pv-0001","storageClassName":"fast"}}`},
		{eu, gvrSTS, `{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000033","labels":{"app":"db"}}}`},
		{eu, gvrPod, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"db-0","namespace":"shop","uid":"6a1b0000-0000-4000-8000-000000000034","labels":{"app":"db"},
			"ownerReferences":[{"apiVersion":"apps/v1","kind":"StatefulSet","name":"db","uid":"6a1b0000-0000-4000-8000-000000000033","controller":true}]},
			"spec":{"nodeName":"node-a","serviceAccountName":"default","volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data-db-0"}}],"containers":[{"name":"db","image":"postgres"}]}}`},

		{us, gvrDeploy, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop","uid":"9c2d0000-0000-4000-8000-000000000010","labels":{"app":"web"}}}`},
		{us, gvrRS, `{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web-7d4b9c","namespace":"shop","uid":"9c2d0000-0000-4000-8000-000000000011",
			"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"9c2d0000-0000-4000-8000-000000000010","controller":true}]}}`},
		{us, gvrPod, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-7d4b9c-zzzzz","namespace":"shop","uid":"9c2d0000-0000-4000-8000-000000000012","labels":{"app":"web"},
			"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d4b9c","uid":"9c2d0000-0000-4000-8000-000000000011","controller":true}]},"spec":{"nodeName":"node-b"}}`},
		{us, gvrSvc, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"shop","uid":"9c2d0000-0000-4000-8000-000000000020"},"spec":{"selector":{"app":"web"}}}`},
	}
}

// newFixtureStore loads the fixture into a store with the relations hook and metrics.
func newFixtureStore(t testing.TB) (*index.Store, *Metrics) {
	t.Helper()
	rel := index.NewRelations()
	m := NewMetrics()
	m.TrackRelations(rel)
	s, err := index.New(index.Options{Hooks: []index.TxnHook{rel}, Observers: []index.Observer{m}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range fixture() {
		if !json.Valid([]byte(o.json)) {
			t.Fatalf("fixture JSON: %s", o.json)
		}
		r, err := index.RecordFromJSON(o.cluster, o.gvr, []byte(o.json))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Create(r); err != nil {
			t.Fatal(err)
		}
	}
	return s, m
}
