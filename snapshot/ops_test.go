package snapshot

import (
	"fmt"
	"math/rand"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// A deterministic stream of store writes: op i depends only on (seed, i), so a crash-test
// child and its parent produce the same stream; its effect depends on the store state
// (a Create of a stored key fails, as it does for Clusterpedia).

var (
	opClusters = []string{"c0", "c1", "c2"}
	opNSs      = []string{"ns0", "ns1", "ns2"}
)

const opNames = 15

type testOp struct {
	kind    string // create update upsert delete event clean-cluster clean-resource batch
	rec     *index.Record
	key     index.Key
	event   *index.Event
	uid     string
	batch   []index.Mutation
	cluster string
	gvr     index.GVR
}

func randKey(rng *rand.Rand) index.Key {
	return index.Key{Cluster: opClusters[rng.Intn(len(opClusters))], GVR: testGVRs[rng.Intn(len(testGVRs))],
		Namespace: opNSs[rng.Intn(len(opNSs))], Name: fmt.Sprintf("n%d", rng.Intn(opNames))}
}

func genOp(seed int64, i int) testOp {
	rng := rand.New(rand.NewSource(seed*1_000_003 + int64(i)))
	rv := uint64(i + 1)
	k := randKey(rng)
	rec := func() *index.Record { return makeRecord(rng, k.Cluster, k.GVR, k.Namespace, k.Name, rv) }
	switch w := rng.Intn(100); {
	case w < 30:
		return testOp{kind: "upsert", rec: rec()}
	case w < 45:
		return testOp{kind: "create", rec: rec()}
	case w < 58:
		return testOp{kind: "update", rec: rec()}
	case w < 72:
		return testOp{kind: "delete", key: k}
	case w < 88:
		ev := &index.Event{UID: fmt.Sprintf("ev-%d", rng.Intn(4)), Namespace: k.Namespace,
			Name: fmt.Sprintf("%s.%d", k.Name, rng.Intn(4)), ResourceVersion: fmt.Sprint(rv),
			Object: []byte(fmt.Sprintf(`{"kind":"Event","reason":"R%d"}`, i))}
		return testOp{kind: "event", key: k, event: ev,
			uid: fmt.Sprintf("uid-%s-%s-%s-%s", k.Cluster, k.GVR.Resource, k.Namespace, k.Name)}
	case w < 91:
		return testOp{kind: "clean-resource", cluster: k.Cluster, gvr: k.GVR}
	case w < 92:
		return testOp{kind: "clean-cluster", cluster: k.Cluster}
	default:
		var ms []index.Mutation
		for j := rng.Intn(6) + 1; j > 0; j-- {
			k := randKey(rng)
			if rng.Intn(3) == 0 {
				ms = append(ms, index.Mutation{Op: index.OpDelete, Key: k})
			} else {
				ms = append(ms, index.Mutation{Op: index.OpUpsert, Record: makeRecord(rng, k.Cluster, k.GVR, k.Namespace, k.Name, rv)})
			}
		}
		return testOp{kind: "batch", batch: ms}
	}
}

// apply runs the op; errors a Clusterpedia write may legitimately get (exists, not found)
// are not failures.
func (o testOp) apply(s *index.Store) error {
	var err error
	switch o.kind {
	case "upsert":
		err = s.Upsert(o.rec)
	case "create":
		err = s.Create(o.rec)
	case "update":
		err = s.Update(o.rec)
	case "delete":
		_, err = s.Delete(o.key)
	case "event":
		_, err = s.RecordEvent(o.key.Cluster, o.uid, *o.event)
	case "clean-resource":
		_, err = s.CleanResource(o.cluster, o.gvr)
	case "clean-cluster":
		_, err = s.CleanCluster(o.cluster)
	case "batch":
		err = s.Apply(o.batch)
	}
	if err != nil && (isKeyErr(err, index.ErrExists) || isKeyErr(err, index.ErrNotFound)) {
		return nil
	}
	return err
}

func isKeyErr(err error, target error) bool {
	ke, ok := err.(*index.KeyError)
	return ok && ke.Err == target
}
