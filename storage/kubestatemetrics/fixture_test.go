package kubestatemetrics

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// Fixture objects of every covered kind, filled so that most metric families have series
// (owners, conditions, container states, resources, taints, LB ingress, TLS, ...).

var fixtureTime = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func at(d time.Duration) metav1.Time { return metav1.NewTime(fixtureTime.Add(d)) }
func atp(d time.Duration) *metav1.Time {
	t := at(d)
	return &t
}
func i32(v int32) *int32 { return &v }
func i64(v int64) *int64 { return &v }
func boolp(v bool) *bool { return &v }

func objMeta(cluster, ns, name string, age time.Duration, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace:         ns,
		Name:              name,
		UID:               types.UID(fmt.Sprintf("%s-%s-%s-uid", cluster, ns, name)),
		ResourceVersion:   "100",
		Generation:        3,
		CreationTimestamp: at(-age),
		Labels:            labels,
		Annotations:       map[string]string{"shadow.clusterpedia.io/cluster-name": cluster, "owner": "team-" + cluster},
	}
}

func ownerRef(kind, name string, uid string) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: types.UID(uid), Controller: boolp(true)}}
}

func resources(cpu, mem string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
	}
}

// fixtures returns the objects of one member cluster; replicas varies per cluster.
func fixtures(cluster string, replicas int32) []runtime.Object {
	m := func(ns, name string, labels map[string]string) metav1.ObjectMeta {
		return objMeta(cluster, ns, name, time.Hour, labels)
	}
	uid := func(ns, name string) string { return fmt.Sprintf("%s-%s-%s-uid", cluster, ns, name) }
	webLabels := map[string]string{"app": "web", "tier": "frontend"}
	return []runtime.Object{
		&corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: m("", "shop", map[string]string{"team": "shop"}),
			Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
		&corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: m("", "kube-system", nil),
			Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating, Conditions: []corev1.NamespaceCondition{
				{Type: corev1.NamespaceDeletionContentFailure, Status: corev1.ConditionTrue}}}},
		&corev1.Node{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
			ObjectMeta: m("", "node-a", map[string]string{"node-role.kubernetes.io/control-plane": "", "zone": "a"}),
			Spec: corev1.NodeSpec{ProviderID: "aws:///eu-west-1a/i-0a", PodCIDR: "10.0.0.0/24", Unschedulable: true,
				Taints: []corev1.Taint{{Key: "dedicated", Value: "infra", Effect: corev1.TaintEffectNoSchedule}}},
			Status: corev1.NodeStatus{
				Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("110")},
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3800m"), corev1.ResourceMemory: resource.MustParse("15Gi"), corev1.ResourcePods: resource.MustParse("110")},
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue},
					{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}},
				Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.1.0.1"}, {Type: corev1.NodeHostName, Address: "node-a"}},
				NodeInfo: corev1.NodeSystemInfo{KernelVersion: "6.1.0", OSImage: "Debian 12", ContainerRuntimeVersion: "containerd://1.7.0",
					KubeletVersion: "v1.31.2", KubeProxyVersion: "v1.31.2", SystemUUID: "sys-uuid", OperatingSystem: "linux", Architecture: "amd64"},
			}},
		&corev1.Node{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
			ObjectMeta: m("", "node-b", nil),
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown}},
				NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.31.2"}}},
		&corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: func() metav1.ObjectMeta {
				o := m("shop", "web-1", webLabels)
				o.OwnerReferences = ownerRef("ReplicaSet", "web-5d8f", uid("shop", "web-5d8f"))
				return o
			}(),
			Spec: corev1.PodSpec{
				NodeName: "node-a", PriorityClassName: "high", ServiceAccountName: "web", RuntimeClassName: func() *string { s := "runc"; return &s }(),
				NodeSelector:   map[string]string{"zone": "a"},
				Tolerations:    []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "infra", Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: i64(30)}},
				InitContainers: []corev1.Container{{Name: "init", Image: "busybox:1.36", Resources: resources("100m", "64Mi")}},
				Containers: []corev1.Container{
					{Name: "app", Image: "registry.example.com/web:1.2", Resources: resources("500m", "256Mi"),
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}},
					{Name: "sidecar", Image: "envoy:1.30", Resources: resources("100m", "128Mi")},
				},
				Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "web-data", ReadOnly: true}}}},
			},
			Status: corev1.PodStatus{
				Phase: corev1.PodRunning, HostIP: "10.1.0.1", PodIP: "10.0.0.12", PodIPs: []corev1.PodIP{{IP: "10.0.0.12"}},
				QOSClass: corev1.PodQOSGuaranteed, StartTime: atp(-50 * time.Minute),
				Conditions: []corev1.PodCondition{
					{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: at(-55 * time.Minute)},
					{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: at(-54 * time.Minute)},
					{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: at(-53 * time.Minute)},
					{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: at(-53 * time.Minute)},
				},
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", Image: "busybox:1.36", ImageID: "docker-pullable://busybox@sha256:1", ContainerID: "containerd://i1",
					State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: at(-54 * time.Minute), FinishedAt: at(-54 * time.Minute)}}}},
				ContainerStatuses: []corev1.ContainerStatus{
					{Name: "app", Image: "registry.example.com/web:1.2", ImageID: "registry.example.com/web@sha256:2", ContainerID: "containerd://c1", Ready: true, RestartCount: 2,
						State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: at(-40 * time.Minute)}},
						LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled", FinishedAt: at(-41 * time.Minute)}}},
					{Name: "sidecar", Image: "envoy:1.30", ImageID: "envoy@sha256:3", ContainerID: "containerd://c2",
						State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}},
				},
			}},
		&corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: func() metav1.ObjectMeta {
				o := m("shop", "report-28000", map[string]string{"job-name": "report-28000"})
				o.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "report-28000", UID: types.UID(uid("shop", "report-28000")), Controller: boolp(true)}}
				o.DeletionTimestamp = atp(-time.Minute)
				return o
			}(),
			Spec: corev1.PodSpec{NodeName: "node-b", RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "report", Image: "report:2"}}},
			Status: corev1.PodStatus{Phase: corev1.PodSucceeded, Reason: "Completed", QOSClass: corev1.PodQOSBestEffort,
				ContainerStatuses: []corev1.ContainerStatus{{Name: "report", Image: "report:2",
					State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}}}}},
		&corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: m("kube-system", "pending-0", nil),
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "pause:3.9"}}},
			Status: corev1.PodStatus{Phase: corev1.PodPending, Reason: "Unschedulable",
				Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable"}}}},
		&corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: m("shop", "web-tls", map[string]string{"app": "web"}), Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")}},
		&corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: m("kube-system", "token", nil), Type: corev1.SecretTypeOpaque},
		&corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: m("shop", "web", webLabels),
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIP: "10.96.0.10", Selector: map[string]string{"app": "web"},
				ExternalIPs: []string{"192.0.2.10"}, LoadBalancerIP: "198.51.100.7",
				Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "198.51.100.7", Hostname: "web.example.com"}}}}},
		&corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: m("shop", "ext", nil),
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"}},
		&appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: m("shop", "web", webLabels),
			Spec: appsv1.DeploymentSpec{Replicas: i32(replicas), Paused: cluster == "c2",
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: func() *intstr.IntOrString { v := intstr.FromString("25%"); return &v }(),
					MaxSurge:       func() *intstr.IntOrString { v := intstr.FromInt32(1); return &v }()}}},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: replicas, ReadyReplicas: replicas - 1, AvailableReplicas: replicas - 1,
				UnavailableReplicas: 1, UpdatedReplicas: replicas,
				Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
					{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"}}}},
		&appsv1.ReplicaSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
			ObjectMeta: func() metav1.ObjectMeta {
				o := m("shop", "web-5d8f", webLabels)
				o.OwnerReferences = ownerRef("Deployment", "web", uid("shop", "web"))
				return o
			}(),
			Spec:   appsv1.ReplicaSetSpec{Replicas: i32(replicas)},
			Status: appsv1.ReplicaSetStatus{Replicas: replicas, FullyLabeledReplicas: replicas, ReadyReplicas: replicas - 1, ObservedGeneration: 3}},
		&appsv1.DaemonSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
			ObjectMeta: m("kube-system", "node-agent", map[string]string{"app": "agent"}),
			Status: appsv1.DaemonSetStatus{CurrentNumberScheduled: 2, DesiredNumberScheduled: 2, NumberAvailable: 1, NumberMisscheduled: 0,
				NumberReady: 1, NumberUnavailable: 1, ObservedGeneration: 3, UpdatedNumberScheduled: 2}},
		&appsv1.StatefulSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
			ObjectMeta: m("shop", "db", map[string]string{"app": "db"}),
			Spec: appsv1.StatefulSetSpec{Replicas: i32(3), ServiceName: "db", Ordinals: &appsv1.StatefulSetOrdinals{Start: 1},
				PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType, WhenScaled: appsv1.RetainPersistentVolumeClaimRetentionPolicyType}},
			Status: appsv1.StatefulSetStatus{Replicas: 3, AvailableReplicas: 2, CurrentReplicas: 3, ReadyReplicas: 2, UpdatedReplicas: 3,
				ObservedGeneration: 3, CurrentRevision: "db-7c9", UpdateRevision: "db-7c9"}},
		&batchv1.CronJob{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
			ObjectMeta: m("shop", "report", map[string]string{"app": "report"}),
			Spec: batchv1.CronJobSpec{Schedule: "*/15 * * * *", Suspend: boolp(false), StartingDeadlineSeconds: i64(120), ConcurrencyPolicy: batchv1.ForbidConcurrent,
				SuccessfulJobsHistoryLimit: i32(3), FailedJobsHistoryLimit: i32(1)},
			Status: batchv1.CronJobStatus{LastScheduleTime: atp(-10 * time.Minute), LastSuccessfulTime: atp(-9 * time.Minute),
				Active: []corev1.ObjectReference{{Kind: "Job", Namespace: "shop", Name: "report-28000"}}}},
		&batchv1.Job{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
			ObjectMeta: func() metav1.ObjectMeta {
				o := m("shop", "report-28000", map[string]string{"job-name": "report-28000"})
				o.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: "report", UID: types.UID(uid("shop", "report")), Controller: boolp(true)}}
				return o
			}(),
			Spec: batchv1.JobSpec{Parallelism: i32(2), Completions: i32(4), ActiveDeadlineSeconds: i64(600)},
			Status: batchv1.JobStatus{Succeeded: 3, Failed: 1, Active: 0, StartTime: atp(-10 * time.Minute), CompletionTime: atp(-9 * time.Minute),
				Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue},
					{Type: batchv1.JobFailed, Status: corev1.ConditionFalse, Reason: "BackoffLimitExceeded"}}}},
		&networkingv1.Ingress{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
			ObjectMeta: m("shop", "web", webLabels),
			Spec: networkingv1.IngressSpec{IngressClassName: func() *string { s := "nginx"; return &s }(),
				TLS: []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com"}, SecretName: "web-tls"}},
				Rules: []networkingv1.IngressRule{{Host: "shop.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: func() *networkingv1.PathType { p := networkingv1.PathTypePrefix; return &p }(),
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}}},
		&networkingv1.IngressClass{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "IngressClass"},
			ObjectMeta: func() metav1.ObjectMeta {
				o := m("", "nginx", nil)
				o.Annotations["ingressclass.kubernetes.io/is-default-class"] = "true"
				return o
			}(),
			Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}},
	}
}

// record encodes a typed fixture as the store holds it (the object's JSON, as Clusterpedia's
// codec writes it, keyed by its storage GVR).
func record(t testing.TB, cluster string, obj runtime.Object) *index.Record {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	k := kindOfObject(t, obj)
	r, err := index.RecordFromJSON(cluster, kinds[k].gvr, data)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func kindOfObject(t testing.TB, obj runtime.Object) int {
	t.Helper()
	k := kindIndexOf(obj)
	if k < 0 {
		t.Fatalf("no kind for %T", obj)
	}
	return k
}

func kindIndexOf(obj runtime.Object) int {
	for i := range kinds {
		if fmt.Sprintf("%T", kinds[i].newObject()) == fmt.Sprintf("%T", obj) {
			return i
		}
	}
	return -1
}

// roundTrip returns the object as kube-state-metrics would see it after reading it from an
// API server: decoded from its JSON (times in the local zone, second precision).
func roundTrip(t testing.TB, obj runtime.Object) runtime.Object {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	out := kinds[kindOfObject(t, obj)].newObject().(runtime.Object)
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatal(err)
	}
	return out
}
