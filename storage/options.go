package storage

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/selection"

	internal "github.com/clusterpedia-io/api/clusterpedia"
	"github.com/clusterpedia-io/api/clusterpedia/fields"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// Search labels and URL parameters the adapter understands beyond Clusterpedia's own.
const (
	// LabelFuzzyName is internalstorage's fuzzy-name search label, kept for client
	// compatibility: the object name must contain every value (case-sensitive substring).
	LabelFuzzyName = "internalstorage.clusterpedia.io/fuzzy-name"

	// labelForward is consumed by the host's resource handler (request forwarding); when it
	// still reaches the storage (collection resources) it is not a filter and is ignored.
	labelForward = internal.SearchLabelForwardRequest
)

// rawSQLQueryKeys are internalstorage's SQL URL parameters; memgraph has no SQL and rejects
// them instead of silently returning unfiltered results.
var rawSQLQueryKeys = []string{"whereSQL", "whereSQLStatement", "whereSQLParam", "whereSQLJSONParams"}

// listQuery is a translated ListOptions: the engine query plus what shapes the output.
type listQuery struct {
	q            index.Query
	onlyMetadata bool
	injectEvents bool
}

// badRequest is a 400 whose message names the offending option.
func badRequest(format string, args ...any) error {
	return apierrors.NewBadRequest(fmt.Sprintf(format, args...))
}

// translateListOptions turns Clusterpedia's ListOptions into an engine query. Errors are
// Kubernetes status errors (400) naming the option.
func translateListOptions(opts *internal.ListOptions) (*listQuery, error) {
	lq := &listQuery{}
	if opts == nil {
		return lq, nil
	}
	q := &lq.q

	for _, key := range rawSQLQueryKeys {
		if opts.URLQuery.Has(key) {
			return nil, badRequest("url query %q is not supported by memgraph (there is no SQL backend); use labelSelector/fieldSelector instead", key)
		}
	}

	q.Clusters = cloneStrings(opts.ClusterNames)
	q.Namespaces = cloneStrings(opts.Namespaces)
	q.Names = cloneStrings(opts.Names)

	if opts.LabelSelector != nil && !opts.LabelSelector.Empty() {
		q.Labels = opts.LabelSelector
	}

	fuzzy, err := translateExtraLabels(opts)
	if err != nil {
		return nil, err
	}
	q.FuzzyNames = fuzzy

	if q.Fields, err = translateFieldSelector(opts.EnhancedFieldSelector); err != nil {
		return nil, err
	}

	if opts.Since != nil {
		t := opts.Since.Time
		q.Since = &t
	}
	if opts.Before != nil {
		t := opts.Before.Time
		q.Before = &t
	}
	if q.Since != nil && q.Before != nil && q.Before.Before(*q.Since) {
		return nil, badRequest("invalid query option \"before\": %s is earlier than since %s",
			q.Before.UTC().Format(time.RFC3339), q.Since.UTC().Format(time.RFC3339))
	}

	if opts.OwnerUID != "" || opts.OwnerName != "" {
		if opts.OwnerSeniority < 0 {
			return nil, badRequest("invalid query option \"ownerSeniority\": must not be negative (got %d)", opts.OwnerSeniority)
		}
		o := &index.OwnerQuery{Seniority: opts.OwnerSeniority}
		if opts.OwnerUID != "" {
			// The UID identifies the owner: name, group-resource and namespaces are ignored.
			o.UID = opts.OwnerUID
		} else {
			o.Name = opts.OwnerName
			if gr := opts.OwnerGroupResource; !gr.Empty() {
				o.Group, o.Resource, o.HasGR = gr.Group, gr.Resource, true
			}
			o.Namespaces = cloneStrings(opts.Namespaces)
		}
		q.Owner = o
	}

	for _, ob := range opts.OrderBy {
		q.OrderBy = append(q.OrderBy, index.OrderBy{Field: strings.TrimSpace(ob.Field), Desc: ob.Desc})
	}

	q.Limit = opts.Limit // <= 0: unlimited, as in internalstorage
	q.Continue = opts.Continue
	q.WithContinue = opts.WithContinue != nil && *opts.WithContinue
	q.WithRemainingCount = opts.WithRemainingCount != nil && *opts.WithRemainingCount

	lq.onlyMetadata = opts.OnlyMetadata
	lq.injectEvents = opts.InjectEvents
	// Ignored by design, as in internalstorage: ResourceVersion, ResourceVersionMatch,
	// TimeoutSeconds, Watch, AllowWatchBookmarks, SendInitialEvents and the metav1
	// FieldSelector (the v1beta1 conversion always blanks it in favour of
	// EnhancedFieldSelector).
	return lq, nil
}

// translateExtraLabels handles the clusterpedia.io search labels Clusterpedia itself does not
// consume. Unknown keys are rejected: a filter the storage does not apply must not silently
// widen the result.
func translateExtraLabels(opts *internal.ListOptions) ([]string, error) {
	if opts.ExtraLabelSelector == nil {
		return nil, nil
	}
	reqs, selectable := opts.ExtraLabelSelector.Requirements()
	if !selectable {
		return nil, nil
	}
	var fuzzy []string
	for _, r := range reqs {
		switch r.Key() {
		case LabelFuzzyName:
			switch r.Operator() {
			case selection.Equals, selection.DoubleEquals, selection.In:
			default:
				return nil, badRequest("invalid search label %q: operator %q is not supported (use =, == or in)", r.Key(), string(r.Operator()))
			}
			for _, v := range r.Values().List() {
				fuzzy = append(fuzzy, strings.TrimSpace(v))
			}
		case labelForward:
			// Request routing, not a filter (see labelForward).
		default:
			return nil, badRequest("unsupported search label %q: memgraph supports %q among the extra clusterpedia.io labels", r.Key(), LabelFuzzyName)
		}
	}
	return fuzzy, nil
}

// translateFieldSelector converts Clusterpedia's enhanced field selector into engine
// requirements. List segments ("[]" any element, "[N]" one element) are supported.
func translateFieldSelector(sel fields.Selector) ([]index.FieldRequirement, error) {
	if sel == nil || sel.Empty() {
		return nil, nil
	}
	reqs, selectable := sel.Requirements()
	if !selectable {
		return nil, nil
	}
	out := make([]index.FieldRequirement, 0, len(reqs))
	for i := range reqs {
		r := &reqs[i]
		fr := index.FieldRequirement{}
		for _, f := range r.Fields() {
			seg := index.FieldSegment{Name: f.Name()}
			if f.IsList() {
				seg.List, seg.Index = true, -1
				if idx, _ := f.GetListIndex(); listIndexGiven(&f, idx) {
					if idx < 0 {
						return nil, badRequest("invalid query option \"fieldSelector\": %s: negative list index %d", r.String(), idx)
					}
					seg.Index = idx
				}
			}
			fr.Path = append(fr.Path, seg)
		}
		vals := r.Values().List() // sorted
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals:
			fr.Op = index.FieldEquals
		case selection.NotEquals:
			fr.Op = index.FieldNotEquals
		case selection.In:
			fr.Op = index.FieldIn
		case selection.NotIn:
			fr.Op = index.FieldNotIn
		case selection.Exists:
			fr.Op = index.FieldExists
		case selection.DoesNotExist:
			fr.Op = index.FieldNotExists
		case selection.GreaterThan:
			fr.Op = index.FieldGreater
		case selection.LessThan:
			fr.Op = index.FieldLess
		default:
			return nil, badRequest("invalid query option \"fieldSelector\": %s: unsupported operator %q", r.String(), string(r.Operator()))
		}
		fr.Values = vals
		if err := fr.Validate(); err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		out = append(out, fr)
	}
	return out, nil
}

// listIndexGiven tells "[N]" from "[]": Clusterpedia's Field keeps index 0 for both, but only
// "[N]" appends the index to the field path.
func listIndexGiven(f *fields.Field, idx int) bool {
	p := f.Path()
	return p != nil && strings.HasSuffix(p.String(), "["+strconv.Itoa(idx)+"]")
}

func cloneStrings(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	return append([]string(nil), in...)
}
