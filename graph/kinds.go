package graph

// builtinKind maps a built-in kind to its resource and scope: how placeholders (targets that
// are not stored) get a resource name and a namespace, and how records stored without a kind
// get one.
type builtinKind struct {
	group, kind, resource string
	clusterScoped         bool
}

var builtinKinds = []builtinKind{
	{"", "Pod", "pods", false},
	{"", "Service", "services", false},
	{"", "Endpoints", "endpoints", false},
	{"", "Node", "nodes", true},
	{"", "Namespace", "namespaces", true},
	{"", "ConfigMap", "configmaps", false},
	{"", "Secret", "secrets", false},
	{"", "ServiceAccount", "serviceaccounts", false},
	{"", "PersistentVolumeClaim", "persistentvolumeclaims", false},
	{"", "PersistentVolume", "persistentvolumes", true},
	{"", "Event", "events", false},
	{"", "ReplicationController", "replicationcontrollers", false},
	{"", "PodTemplate", "podtemplates", false},
	{"", "LimitRange", "limitranges", false},
	{"", "ResourceQuota", "resourcequotas", false},
	{"apps", "Deployment", "deployments", false},
	{"apps", "ReplicaSet", "replicasets", false},
	{"apps", "StatefulSet", "statefulsets", false},
	{"apps", "DaemonSet", "daemonsets", false},
	{"apps", "ControllerRevision", "controllerrevisions", false},
	{"batch", "Job", "jobs", false},
	{"batch", "CronJob", "cronjobs", false},
	{"discovery.k8s.io", "EndpointSlice", "endpointslices", false},
	{"networking.k8s.io", "Ingress", "ingresses", false},
	{"networking.k8s.io", "IngressClass", "ingressclasses", true},
	{"networking.k8s.io", "NetworkPolicy", "networkpolicies", false},
	{"autoscaling", "HorizontalPodAutoscaler", "horizontalpodautoscalers", false},
	{"policy", "PodDisruptionBudget", "poddisruptionbudgets", false},
	{"storage.k8s.io", "StorageClass", "storageclasses", true},
	{"storage.k8s.io", "CSIDriver", "csidrivers", true},
	{"storage.k8s.io", "CSINode", "csinodes", true},
	{"storage.k8s.io", "VolumeAttachment", "volumeattachments", true},
	{"rbac.authorization.k8s.io", "Role", "roles", false},
	{"rbac.authorization.k8s.io", "RoleBinding", "rolebindings", false},
	{"rbac.authorization.k8s.io", "ClusterRole", "clusterroles", true},
	{"rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", true},
	{"events.k8s.io", "Event", "events", false},
	{"coordination.k8s.io", "Lease", "leases", false},
	{"scheduling.k8s.io", "PriorityClass", "priorityclasses", true},
	{"node.k8s.io", "RuntimeClass", "runtimeclasses", true},
	{"apiextensions.k8s.io", "CustomResourceDefinition", "customresourcedefinitions", true},
	{"admissionregistration.k8s.io", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", true},
	{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", true},
	{"apiregistration.k8s.io", "APIService", "apiservices", true},
}

// ResourceFor returns the resource and scope of a built-in kind; ok is false for kinds it
// does not know (custom resources).
func ResourceFor(group, kind string) (resource string, clusterScoped, ok bool) {
	for i := range builtinKinds {
		b := &builtinKinds[i]
		if b.kind == kind && b.group == group {
			return b.resource, b.clusterScoped, true
		}
	}
	return "", false, false
}

// KindFor returns the kind of a built-in (group, resource).
func KindFor(group, resource string) (string, bool) {
	for i := range builtinKinds {
		b := &builtinKinds[i]
		if b.resource == resource && b.group == group {
			return b.kind, true
		}
	}
	return "", false
}

// GroupOf returns the API group of an apiVersion ("apps/v1" → "apps", "v1" → "").
func GroupOf(apiVersion string) string {
	for i := 0; i < len(apiVersion); i++ {
		if apiVersion[i] == '/' {
			return apiVersion[:i]
		}
	}
	return ""
}

// VersionOf returns the version of an apiVersion ("apps/v1" → "v1", "v1" → "v1").
func VersionOf(apiVersion string) string {
	for i := 0; i < len(apiVersion); i++ {
		if apiVersion[i] == '/' {
			return apiVersion[i+1:]
		}
	}
	return apiVersion
}
