package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSmokeInternalSQLite proves the harness end to end with Clusterpedia's
// reference storage (internalstorage on SQLite): objects created in the member
// kube-apiserver appear once per PediaCluster in binding-apiserver lists.
func TestSmokeInternalSQLite(t *testing.T) {
	start := time.Now()
	env := StartKube(t, KubeOptions{})
	pedia := env.StartClusterpedia(t, PediaOptions{StorageName: "internal"})

	const ns = "smoke"
	env.CreateNamespace(t, ns, map[string]string{"e2e": "smoke"})
	web := env.CreateDeploymentChain(t, ns, "web", 2, ChainOptions{})
	env.CreateDeploymentChain(t, ns, "api", 1, ChainOptions{Labels: map[string]string{"app": "api", "tier": "backend"}})
	env.CreateConfigMap(t, ns, "settings", map[string]string{"e2e": "smoke"}, map[string]string{"k": "v"})
	env.CreateService(t, ns, "web", map[string]string{"app": "web"})

	env.WaitSynced(t, 2*time.Minute)
	t.Logf("PediaClusters synced after %s", time.Since(start).Round(100*time.Millisecond))

	var want []string
	for _, c := range env.Clusters {
		want = append(want, c+"/"+ns+"/api", c+"/"+ns+"/web")
	}
	deployments := ResourcesPath + "/apis/apps/v1/deployments"
	l := pedia.WaitForList(t, time.Minute, deployments, func(l *List) (bool, string) {
		got := keysIn(l, ns)
		return strings.Join(got, ",") == strings.Join(want, ","), fmt.Sprintf("got %v, want %v", got, want)
	})
	t.Logf("%s lists %d deployments (%v) after %s", deployments, len(l.Items), keysIn(l, ns), time.Since(start).Round(100*time.Millisecond))

	// Pods through the namespaced path, and per cluster.
	pods := pedia.WaitForList(t, 30*time.Second, ResourcesPath+"/api/v1/namespaces/"+ns+"/pods", func(l *List) (bool, string) {
		return len(l.Items) == 3*len(env.Clusters), fmt.Sprintf("%d pods", len(l.Items))
	})
	for _, c := range env.Clusters {
		one := pedia.List(t, ResourcesPath+"/clusters/"+c+"/api/v1/namespaces/"+ns+"/pods")
		if len(one.Items) != 3 {
			t.Errorf("cluster %s: %d pods, want 3: %v", c, len(one.Items), one.Keys())
		}
		for _, it := range one.Items {
			if it.Cluster() != c {
				t.Errorf("cluster %s list returned a pod of %q", c, it.Cluster())
			}
		}
	}
	_ = pods

	// A single object from one cluster, with its owner chain intact.
	var rs Object
	pedia.GetJSON(t, ResourcesPath+"/clusters/"+env.Clusters[0]+"/apis/apps/v1/namespaces/"+ns+"/replicasets/"+web.ReplicaSet.Name(), &rs)
	if rs.UID() != web.ReplicaSet.UID() {
		t.Errorf("replicaset uid %q, want %q", rs.UID(), web.ReplicaSet.UID())
	}
	// Without a cluster a single GET is a 400 (documented upstream behaviour).
	if code, _, err := pedia.Get(ResourcesPath + "/apis/apps/v1/namespaces/" + ns + "/deployments/web"); err != nil || code != http.StatusBadRequest {
		t.Errorf("GET without cluster: %d %v, want 400", code, err)
	}
	t.Logf("smoke test done in %s", time.Since(start).Round(100*time.Millisecond))
}

func keysIn(l *List, ns string) []string {
	var out []string
	for _, k := range l.Keys() {
		if strings.Contains(k, "/"+ns+"/") {
			out = append(out, k)
		}
	}
	return out
}
