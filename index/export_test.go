package index

import "time"

// HoldRelations makes the commits of rel's store queue up until release: the hook then
// applies all of them in one batch.
func HoldRelations(rel *Relations) (release func()) { return rel.hold() }

// FailRelationsOn makes rel's goroutine panic while applying a change for which fail returns
// true (set before the first write).
func FailRelationsOn(rel *Relations, fail func(*Change) bool) { rel.failOn = fail }

// SetGraphWait sets how long graph readers wait for the hook to catch up; it returns the
// previous value.
func SetGraphWait(d time.Duration) time.Duration { return time.Duration(graphWait.Swap(int64(d))) }

// SetParallelApplyMin sets the batch size from which the relationship hook applies a batch
// one cluster per goroutine; it returns the previous value.
func SetParallelApplyMin(n int) int { old := parallelApplyMin; parallelApplyMin = n; return old }

// SetGraphQueueMax sets the backlog beyond which writers wait for the graph; it returns the
// previous value.
func SetGraphQueueMax(n int) int { old := graphQueueMax; graphQueueMax = n; return old }
