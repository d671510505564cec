package fleet

// Typed JSON shapes for the generated objects. encoding/json marshals struct fields in
// declaration order and map keys sorted, so the output is stable byte for byte. The
// high-volume shapes (object metadata, pod spec/status, pod templates) are structs; the
// smaller, rarer specs are built as map[string]any (jmap).

type jmap = map[string]any

type meta struct {
	Name              string     `json:"name"`
	GenerateName      string     `json:"generateName,omitempty"`
	Namespace         string     `json:"namespace,omitempty"`
	UID               string     `json:"uid"`
	ResourceVersion   string     `json:"resourceVersion"`
	Generation        int64      `json:"generation,omitempty"`
	CreationTimestamp string     `json:"creationTimestamp"`
	Labels            smap       `json:"labels,omitempty"`
	Annotations       smap       `json:"annotations,omitempty"`
	OwnerReferences   []ownerRef `json:"ownerReferences,omitempty"`
	Finalizers        []string   `json:"finalizers,omitempty"`
}

type ownerRef struct {
	APIVersion         string `json:"apiVersion"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	UID                string `json:"uid"`
	Controller         bool   `json:"controller"`
	BlockOwnerDeletion bool   `json:"blockOwnerDeletion"`
}

// object is the generic envelope: apiVersion, kind, metadata, spec, status.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   *meta  `json:"metadata"`
	Spec       any    `json:"spec,omitempty"`
	Status     any    `json:"status,omitempty"`
}

type dataObject struct { // ConfigMap, Secret
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   *meta  `json:"metadata"`
	Data       smap   `json:"data,omitempty"`
	Type       string `json:"type,omitempty"`
}

type serviceAccountObject struct {
	APIVersion                   string     `json:"apiVersion"`
	Kind                         string     `json:"kind"`
	Metadata                     *meta      `json:"metadata"`
	ImagePullSecrets             []localRef `json:"imagePullSecrets,omitempty"`
	AutomountServiceAccountToken *bool      `json:"automountServiceAccountToken,omitempty"`
}

type storageClassObject struct {
	APIVersion           string `json:"apiVersion"`
	Kind                 string `json:"kind"`
	Metadata             *meta  `json:"metadata"`
	Provisioner          string `json:"provisioner"`
	Parameters           smap   `json:"parameters,omitempty"`
	ReclaimPolicy        string `json:"reclaimPolicy"`
	VolumeBindingMode    string `json:"volumeBindingMode"`
	AllowVolumeExpansion bool   `json:"allowVolumeExpansion"`
}

type endpointSliceObject struct {
	APIVersion  string     `json:"apiVersion"`
	Kind        string     `json:"kind"`
	Metadata    *meta      `json:"metadata"`
	AddressType string     `json:"addressType"`
	Endpoints   []endpoint `json:"endpoints"`
	Ports       []jmap     `json:"ports"`
}

type endpoint struct {
	Addresses  []string           `json:"addresses"`
	Conditions endpointConditions `json:"conditions"`
	TargetRef  *objectRef         `json:"targetRef,omitempty"`
	NodeName   string             `json:"nodeName,omitempty"`
	Zone       string             `json:"zone,omitempty"`
}

type endpointConditions struct {
	Ready       bool `json:"ready"`
	Serving     bool `json:"serving"`
	Terminating bool `json:"terminating"`
}

type objectRef struct {
	Kind            string `json:"kind"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name"`
	UID             string `json:"uid"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	FieldPath       string `json:"fieldPath,omitempty"`
}

type roleObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   *meta  `json:"metadata"`
	Rules      []jmap `json:"rules"`
}

type roleBindingObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   *meta  `json:"metadata"`
	Subjects   []jmap `json:"subjects"`
	RoleRef    jmap   `json:"roleRef"`
}

type eventObject struct {
	APIVersion         string    `json:"apiVersion"`
	Kind               string    `json:"kind"`
	Metadata           *meta     `json:"metadata"`
	InvolvedObject     objectRef `json:"involvedObject"`
	Reason             string    `json:"reason"`
	Message            string    `json:"message"`
	Source             smap      `json:"source"`
	FirstTimestamp     string    `json:"firstTimestamp"`
	LastTimestamp      string    `json:"lastTimestamp"`
	Count              int       `json:"count"`
	Type               string    `json:"type"`
	EventTime          *string   `json:"eventTime"`
	ReportingComponent string    `json:"reportingComponent"`
	ReportingInstance  string    `json:"reportingInstance"`
}

// --- pods and pod templates ---

type podObject struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   *meta      `json:"metadata"`
	Spec       *podSpec   `json:"spec"`
	Status     *podStatus `json:"status"`
}

type podTemplate struct {
	Metadata templateMeta `json:"metadata"`
	Spec     *podSpec     `json:"spec"`
}

type templateMeta struct {
	CreationTimestamp *string `json:"creationTimestamp"`
	Labels            smap    `json:"labels,omitempty"`
	Annotations       smap    `json:"annotations,omitempty"`
}

type labelSelector struct {
	MatchLabels smap `json:"matchLabels,omitempty"`
}

type podSpec struct {
	Volumes                       []volume            `json:"volumes,omitempty"`
	Containers                    []container         `json:"containers"`
	RestartPolicy                 string              `json:"restartPolicy"`
	TerminationGracePeriodSeconds int                 `json:"terminationGracePeriodSeconds,omitempty"`
	DNSPolicy                     string              `json:"dnsPolicy"`
	ServiceAccountName            string              `json:"serviceAccountName"`
	ServiceAccount                string              `json:"serviceAccount,omitempty"`
	NodeName                      string              `json:"nodeName,omitempty"`
	HostNetwork                   bool                `json:"hostNetwork,omitempty"`
	SecurityContext               *podSecurityContext `json:"securityContext,omitempty"`
	ImagePullSecrets              []localRef          `json:"imagePullSecrets,omitempty"`
	Hostname                      string              `json:"hostname,omitempty"`
	Subdomain                     string              `json:"subdomain,omitempty"`
	SchedulerName                 string              `json:"schedulerName,omitempty"`
	Tolerations                   []toleration        `json:"tolerations,omitempty"`
	PriorityClassName             string              `json:"priorityClassName,omitempty"`
	Priority                      *int                `json:"priority,omitempty"`
	EnableServiceLinks            *bool               `json:"enableServiceLinks,omitempty"`
	PreemptionPolicy              string              `json:"preemptionPolicy,omitempty"`
}

type podSecurityContext struct {
	RunAsNonRoot *bool `json:"runAsNonRoot,omitempty"`
	RunAsUser    *int  `json:"runAsUser,omitempty"`
	FSGroup      *int  `json:"fsGroup,omitempty"`
}

type localRef struct {
	Name string `json:"name"`
}

type toleration struct {
	Key               string `json:"key,omitempty"`
	Operator          string `json:"operator"`
	Effect            string `json:"effect,omitempty"`
	TolerationSeconds *int   `json:"tolerationSeconds,omitempty"`
}

type container struct {
	Name            string          `json:"name"`
	Image           string          `json:"image"`
	Args            []string        `json:"args,omitempty"`
	Ports           []containerPort `json:"ports,omitempty"`
	EnvFrom         []envFrom       `json:"envFrom,omitempty"`
	Env             []envVar        `json:"env,omitempty"`
	Resources       resources       `json:"resources"`
	VolumeMounts    []volumeMount   `json:"volumeMounts,omitempty"`
	ReadinessProbe  *probe          `json:"readinessProbe,omitempty"`
	ImagePullPolicy string          `json:"imagePullPolicy,omitempty"`
}

type containerPort struct {
	Name          string `json:"name,omitempty"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"`
}

type envFrom struct {
	ConfigMapRef *localRef `json:"configMapRef,omitempty"`
	SecretRef    *localRef `json:"secretRef,omitempty"`
}

type envVar struct {
	Name      string     `json:"name"`
	Value     string     `json:"value,omitempty"`
	ValueFrom *envSource `json:"valueFrom,omitempty"`
}

type envSource struct {
	ConfigMapKeyRef *keyRef   `json:"configMapKeyRef,omitempty"`
	SecretKeyRef    *keyRef   `json:"secretKeyRef,omitempty"`
	FieldRef        *fieldRef `json:"fieldRef,omitempty"`
}

type keyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

type fieldRef struct {
	APIVersion string `json:"apiVersion"`
	FieldPath  string `json:"fieldPath"`
}

type resources struct {
	Limits   smap `json:"limits,omitempty"`
	Requests smap `json:"requests,omitempty"`
}

type volumeMount struct {
	Name      string `json:"name"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	MountPath string `json:"mountPath"`
}

type probe struct {
	HTTPGet          *httpGet   `json:"httpGet,omitempty"`
	TCPSocket        *tcpSocket `json:"tcpSocket,omitempty"`
	TimeoutSeconds   int        `json:"timeoutSeconds"`
	PeriodSeconds    int        `json:"periodSeconds"`
	SuccessThreshold int        `json:"successThreshold"`
	FailureThreshold int        `json:"failureThreshold"`
}

type httpGet struct {
	Path   string `json:"path"`
	Port   int    `json:"port"`
	Scheme string `json:"scheme"`
}

type tcpSocket struct {
	Port int `json:"port"`
}

type volume struct {
	Name                  string           `json:"name"`
	HostPath              *hostPath        `json:"hostPath,omitempty"`
	EmptyDir              *struct{}        `json:"emptyDir,omitempty"`
	Secret                *secretVolume    `json:"secret,omitempty"`
	PersistentVolumeClaim *pvcVolume       `json:"persistentVolumeClaim,omitempty"`
	ConfigMap             *configMapVolume `json:"configMap,omitempty"`
	Projected             *projected       `json:"projected,omitempty"`
}

type hostPath struct {
	Path string `json:"path"`
	Type string `json:"type"`
}

type secretVolume struct {
	SecretName  string `json:"secretName"`
	DefaultMode *int   `json:"defaultMode,omitempty"`
}

type pvcVolume struct {
	ClaimName string `json:"claimName"`
}

type configMapVolume struct {
	Name        string      `json:"name"`
	Items       []keyToPath `json:"items,omitempty"`
	DefaultMode *int        `json:"defaultMode,omitempty"`
}

type keyToPath struct {
	Key  string `json:"key"`
	Path string `json:"path"`
}

type projected struct {
	Sources     []projection `json:"sources"`
	DefaultMode *int         `json:"defaultMode,omitempty"`
}

type projection struct {
	ServiceAccountToken *saToken         `json:"serviceAccountToken,omitempty"`
	ConfigMap           *configMapVolume `json:"configMap,omitempty"`
	DownwardAPI         *downwardAPI     `json:"downwardAPI,omitempty"`
}

type saToken struct {
	ExpirationSeconds int    `json:"expirationSeconds"`
	Path              string `json:"path"`
}

type downwardAPI struct {
	Items []downwardItem `json:"items"`
}

type downwardItem struct {
	Path     string    `json:"path"`
	FieldRef *fieldRef `json:"fieldRef"`
}

type podStatus struct {
	Phase             string            `json:"phase"`
	Conditions        []podCondition    `json:"conditions,omitempty"`
	Message           string            `json:"message,omitempty"`
	Reason            string            `json:"reason,omitempty"`
	HostIP            string            `json:"hostIP,omitempty"`
	PodIP             string            `json:"podIP,omitempty"`
	StartTime         string            `json:"startTime,omitempty"`
	ContainerStatuses []containerStatus `json:"containerStatuses,omitempty"`
	QOSClass          string            `json:"qosClass"`
}

type ipEntry struct {
	IP string `json:"ip"`
}

type podCondition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	LastTransitionTime string `json:"lastTransitionTime"`
	Reason             string `json:"reason,omitempty"`
	Message            string `json:"message,omitempty"`
}

type containerStatus struct {
	Name         string          `json:"name"`
	State        containerState  `json:"state"`
	LastState    *containerState `json:"lastState,omitempty"`
	Ready        bool            `json:"ready"`
	RestartCount int             `json:"restartCount"`
	Image        string          `json:"image"`
	ImageID      string          `json:"imageID"`
	ContainerID  string          `json:"containerID,omitempty"`
}

type containerState struct {
	Waiting    *stateWaiting    `json:"waiting,omitempty"`
	Running    *stateRunning    `json:"running,omitempty"`
	Terminated *stateTerminated `json:"terminated,omitempty"`
}

type stateWaiting struct {
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
}

type stateRunning struct {
	StartedAt string `json:"startedAt"`
}

type stateTerminated struct {
	ExitCode    int    `json:"exitCode"`
	Reason      string `json:"reason"`
	StartedAt   string `json:"startedAt"`
	FinishedAt  string `json:"finishedAt"`
	ContainerID string `json:"containerID,omitempty"`
}
