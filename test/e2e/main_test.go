package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestMain prints one summary line when e2e prerequisites are missing (the
// tests then skip), so `go test ./test/e2e/` says why it did nothing.
func TestMain(m *testing.M) {
	p := DefaultPaths()
	if miss := p.Missing(NeedClusterpediaSource, NeedKube, NeedHost, NeedPlugin); len(miss) > 0 {
		if Forced() {
			fmt.Printf("e2e: E2E is set but prerequisites are missing (tests needing them fail): %s\n", strings.Join(miss, "; "))
		} else {
			fmt.Printf("SKIP e2e tests needing: %s (make e2e builds them; E2E=1 turns skips into failures)\n", strings.Join(miss, "; "))
		}
	}
	os.Exit(m.Run())
}
